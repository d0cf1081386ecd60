"""Atomic file writing: a reader never sees a half-written file.

Used for feature caches, manifests, checkpoints and reports, so that an
interrupted run leaves either the old file or the new one, never a fragment;
:func:`cached_array` is the ``.npy`` cache entry the feature extractors share.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

import numpy as np

from didan_lite.folders import DiskFull, disk_full_error


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success rename it onto ``path``.

    The rename is atomic on POSIX and Windows when both live on one file system,
    which holds because the temporary file is created in the target's folder.
    On an exception the temporary file is removed and ``path`` is untouched;
    a full disk becomes a :class:`didan_lite.folders.DiskFull` whose message
    is one line naming the folder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as exc:
        raise disk_full_error(exc, path) or exc
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_name, path)
    except BaseException as exc:
        written = None
        with contextlib.suppress(OSError):
            written = os.path.getsize(tmp_name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        full = _disk_full(exc, path, written)
        if full is not None:
            raise full from exc
        raise


def cached_array(entry: Path, compute: Callable[[], np.ndarray], valid: Callable[[np.ndarray], bool]) -> np.ndarray:
    """The array cached at ``entry`` (``.npy``) when it loads and ``valid`` accepts it, else ``compute()``, cached.

    An entry that does not load (0 bytes, bad header, unreadable) or that ``valid`` rejects is a miss and is
    replaced in one step; nothing is ever unpickled.
    """
    if entry.is_file():
        try:
            cached = np.load(entry, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            cached = None
        if cached is not None and valid(cached):
            return cached
    value = compute()
    with atomic_write(entry, "wb") as handle:
        np.save(handle, value)
    return value


def _disk_full(exc: BaseException, path: Path, written: int | None) -> DiskFull | None:
    """The one-line error of a full disk, also when a writer (torch.save) wrapped the OSError in a RuntimeError."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno is None and "requested and" in str(exc):  # numpy's short write
            return disk_full_error(OSError(errno.ENOSPC, str(exc)), path, written)
        if isinstance(exc, OSError):
            return disk_full_error(exc, path, written)
        if isinstance(exc, RuntimeError) and "No space left" in str(exc):
            return disk_full_error(OSError(errno.ENOSPC, str(exc)), path, written)
        exc = exc.__cause__ or exc.__context__
    return None


def _umask() -> int:
    """The process's file-creation mask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
