"""Folders that will be written: checked before any work, and held by one run at a time.

- :func:`check_name_lengths`: no path component over the file system's 255 bytes;
- :func:`check_writable_folder`: the folder is, or can be made, a writable folder;
- :func:`hold_folder`: a lock file holding the owner's process id, so that two
  runs never write one output folder at once; a lock whose process is gone
  (killed, machine restarted) is taken over.

Only the standard library is used, so ``data_fetch`` can check its folders the
same way without importing torch.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

from didan_lite.errors import InputError

MAX_NAME_BYTES = 255
"""Longest file or folder name (one path component) on common file systems (ext4, APFS, NTFS)."""
LOCK_FILE = ".didan_lite.lock"
"""The lock file in an output folder while a run writes there."""


def check_name_lengths(path: str | os.PathLike, what: str, fix: str) -> None:
    """Refuse a path with a component longer than :data:`MAX_NAME_BYTES` bytes (UTF-8).

    Raises:
        InputError: naming the start of the component and its length.
    """
    for part in Path(path).parts:
        size = len(os.fsencode(part))
        if size > MAX_NAME_BYTES:
            raise InputError(f"{what} has a file or folder name of {size} bytes ({part[:40]}...), longer than the "
                             f"{MAX_NAME_BYTES} bytes file systems allow; {fix}.")


def check_writable_folder(path: str | os.PathLike, what: str, fix: str) -> None:
    """Check that ``path`` is, or can be made, a folder this process can write; nothing is left behind.

    Args:
        path: the folder (it may not exist yet).
        what: how the message names it, e.g. ``"The output folder"``.
        fix: what the user should do, e.g. ``"give another --out"``.

    Raises:
        InputError: a name too long, the path or one of its parents is a file,
            or the folder (or its nearest existing parent) cannot be written.
    """
    path = Path(path).expanduser().absolute()
    check_name_lengths(path, f"{what} {str(path)[:60]}...", fix)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == path else f"lies inside {existing}, which is a file"
        raise InputError(f"{what} {path} {where}, not a folder; {fix}.")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be written ({exc.strerror or exc}); {fix}.") from exc


def _alive(pid: int) -> bool:
    """Whether a process of this id exists (on this machine)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _owner(lock: Path) -> tuple[int | None, str | None]:
    """(process id, host name) written in a lock file ((None, None): unreadable or not a number)."""
    try:
        fields = lock.read_text(encoding="utf-8").split()
        return int(fields[0]), (fields[1] if len(fields) > 1 else socket.gethostname())
    except (OSError, ValueError, IndexError):
        return None, None


def _held(lock: Path, owner: int | None, host: str | None) -> bool:
    """Whether a lock's owner still runs: a live process of this host, or an unreadable lock still being written."""
    if owner is None:  # created but not yet written (or emptied by a crash): give a writer a few seconds
        with contextlib.suppress(OSError):
            return time.time() - lock.stat().st_mtime < 10
        return False
    if host != socket.gethostname():  # another machine (a Colab VM long gone, with runs/ on Drive): not judged here
        return False
    return owner == os.getpid() or _alive(owner)


@contextlib.contextmanager
def hold_folder(folder: str | os.PathLike, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold ``folder`` (created if needed) for this process while the block runs; yield the lock file.

    The lock file is created by an exclusive create (``O_CREAT | O_EXCL``, atomic on local disks and on Google
    Drive's mount, which has no hard links) and then given this process's id and host name; it is removed when
    the block ends, also on an error or Ctrl-C.
    A lock left by a process that no longer exists is taken over.

    Args:
        wait_s: seconds to wait for another live process to release the folder (polled every second) before
            giving up; 0 gives up at once.

    Raises:
        InputError: another live process holds the folder (its id is named), also after ``wait_s``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_FILE
    deadline, takeovers = time.monotonic() + wait_s, 0
    while True:
        try:
            _create_lock(lock)
        except FileExistsError:
            owner, host = _owner(lock)
            if _held(lock, owner, host):
                if time.monotonic() < deadline:
                    time.sleep(1.0)
                    continue
                raise InputError(
                    f"{folder} is in use by another run (process {owner} on {host}, lock file {lock}); wait for it "
                    f"to finish, or give this one another --out. If no such run exists, delete {lock}."
                ) from None
            takeovers += 1
            if takeovers > 2:  # a stale lock is removed, then creation is retried; one that keeps coming back is not
                raise InputError(f"{folder} could not be locked ({lock} keeps reappearing); give another --out.")
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)  # stale: its process is gone
            if owner is not None:
                print(f"{folder}: took over the lock of process {owner} on {host}, which no longer runs here.",
                      flush=True)
            continue
        except OSError as exc:
            raise disk_full_error(exc, lock) or exc
        break
    try:
        yield lock
    finally:
        if _owner(lock) == (os.getpid(), socket.gethostname()):
            with contextlib.suppress(OSError):
                os.unlink(lock)


def _create_lock(lock: Path) -> None:
    """Create ``lock`` only if it does not exist (FileExistsError otherwise) and write ``"<pid> <host>"`` into it."""
    handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        os.write(handle, f"{os.getpid()} {socket.gethostname()}\n".encode("utf-8"))
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # an empty lock must not hold the folder (a full disk)
        raise
    finally:
        os.close(handle)


class DiskFull(OSError):
    """A full disk while writing; ``str()`` is one line naming the folder, the free space and what to do.

    Not an :class:`InputError`: a file that cannot be cached must stop the run, not be skipped as unreadable.
    """

    def __str__(self) -> str:
        return str(self.strerror)


def disk_full_error(exc: OSError, path: str | os.PathLike, written: int | None = None) -> DiskFull | None:
    """One-line error for a full disk (ENOSPC, EDQUOT) while writing ``path``; ``None`` for any other OSError."""
    if isinstance(exc, DiskFull):
        return exc
    if exc.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return None
    folder = Path(path).parent
    try:
        free = f"{shutil.disk_usage(folder).free / 1e6:.1f} MB free"
    except OSError:
        free = "free space unknown"
    needed = f"; it needed more than the {written / 1e6:.1f} MB written" if written else ""
    return DiskFull(errno.ENOSPC, f"The disk holding {folder} is full ({free}) while writing {Path(path).name}{needed}; "
                    "free some space there (or give another --out / DIDAN_LITE_DATA) and run the same command again "
                    "to resume.")


def error_exit_code(exc: Exception) -> int | None:
    """Print a command line's one ``error:`` line for bad input or a full disk and return exit code 2;
    None for anything else (the caller re-raises it)."""
    if not isinstance(exc, InputError):
        exc = disk_full_error(exc, exc.filename or "?") if isinstance(exc, OSError) else None
        if exc is None:
            return None
    print(f"error: {exc}", file=sys.stderr)
    return 2


def run_command(command: Callable[[], int], interrupted: str) -> int:
    """A command line's exit code: ``command()``'s; 2 after one ``error:`` line for bad input or a full disk;
    130 after ``interrupted`` (what to do next) on Ctrl-C. Any other error propagates."""
    try:
        return command()
    except (InputError, OSError) as exc:
        code = error_exit_code(exc)
        if code is None:
            raise
        return code
    except KeyboardInterrupt:
        print(f"\ninterrupted: {interrupted}", file=sys.stderr)
        return 130
