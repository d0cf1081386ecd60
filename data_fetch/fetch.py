"""Fetch a free corpus: licence, hashed and resumable download through pooch, atomic extraction.

Steps of :func:`download`:

1. the corpus's licence is shown and must be accepted (``accept_license=True``,
   ``--accept-license``, or a prompt when stdin is a terminal), once per cache folder;
2. :func:`fetch_remote` tries the archive's mirrors in order through
   ``pooch.retrieve``, which checks the checksum (the published one, or the one
   recorded at the first download: :mod:`data_fetch.integrity`) and caches the
   file; the transfer itself is :class:`ResumableDownloader`, which keeps the
   bytes in ``<archive>.part`` and continues an interrupted download with an HTTP
   ``Range: bytes=<received>-`` request (pooch's own downloader restarts from zero);
3. :func:`extract_archive` unpacks into a hidden temporary folder beside the
   target, checks, for an archive without a published checksum, that it holds
   the corpus's utterances (file list or counts), and renames it into place only
   then, so an interrupted extraction is redone, never taken as complete;
4. an archive without a published checksum has its SHA256 recorded once it
   passed that check; later downloads and extractions must match it.

Every failure is an :class:`~didan_lite.errors.InputError` subclass that says
what happened and what to do; nothing already downloaded is deleted (a file
whose checksum does not match is kept as ``<archive>.rejected``).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import sys
import tempfile
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import pooch
import requests

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.folders import DiskFull, check_writable_folder, hold_folder
from didan_lite.progress import progress_bar

from data_fetch import cache, integrity
from data_fetch.corpora import CorpusSpec, Remote, get_corpus
from data_fetch.scan import scan_corpus
from data_fetch.video_audio import require_pyav

logger = logging.getLogger(__name__)


class DownloadError(InputError):
    """No mirror delivered the archive."""


class ChecksumMismatch(DownloadError):
    """An archive arrived, but its checksum is not the known one; it was not used."""


class LicenseNotAccepted(InputError):
    """The corpus's licence must be accepted before its first download."""


class ArchiveError(InputError):
    """The archive is not a zip, is damaged, or does not hold the corpus."""


class _IncompleteTransfer(requests.exceptions.RequestException):
    """The connection ended before the announced number of bytes arrived."""


# Worth another attempt with a Range request; other HTTP errors go to the next mirror.
_TRANSFER_ERRORS = (
    requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError, _IncompleteTransfer,
)  # fmt: skip


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def require_free_space(folder: Path, needed: int | None, what: str) -> None:
    """Raise :class:`DiskFull` if ``folder``'s disk has less than ``needed`` bytes free."""
    if not needed or needed <= 0:
        return
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise DiskFull(
            errno.ENOSPC,
            f"Not enough disk space for {what}: {_mb(needed)} needed in {folder}, {_mb(free)} free. "
            f"Free some space, or use another cache folder (data_dir=..., --data-dir, or ${cache.ENV_VAR}); "
            "what was already downloaded is kept and the download resumes from there."
        )


def _disk_full(exc: OSError, where: Path) -> DiskFull:
    return DiskFull(
        errno.ENOSPC,
        f"The disk filled up while writing {where} ({exc.strerror}). Free some space, or use another cache "
        f"folder (data_dir=..., --data-dir, or ${cache.ENV_VAR}), and run the same command again: "
        "a download resumes where it stopped, an extraction starts over."
    )


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from ``bytes 100-199/200`` or ``bytes */200``; ``None`` for what is absent."""
    if not header or not header.startswith("bytes "):
        return None, None
    span, _, total = header[len("bytes ") :].partition("/")
    first = span.split("-")[0]
    return (int(first) if first.isdigit() else None), (int(total) if total.isdigit() else None)


def _source_file(part: Path) -> Path:
    return part.with_name(part.name + ".source")


def _part_source(part: Path) -> str | None:
    """The URL the partial file ``part`` was downloaded from, if recorded."""
    source = _source_file(part)
    return source.read_text().strip() if source.is_file() else None


def _hash_algorithm(known_hash: str) -> str:
    return known_hash.split(":")[0] if ":" in known_hash else "sha256"


class ResumableDownloader:
    """A pooch downloader (``downloader(url, output_file, pooch)``) that resumes with HTTP Range requests.

    The bytes go to ``part`` (``<archive>.part``), which outlives failed
    attempts and failed calls; each attempt asks for ``Range: bytes=<len(part)>-``.
    A server that ignores the range (``200``) restarts the file; one that
    answers ``416`` says the part is already whole. When the part is complete
    it is hard-linked (or copied) to pooch's ``output_file``, which pooch then
    hashes and moves into the cache. ``<part>.source`` records the URL the
    part came from: a part from another address is not continued but
    overwritten, once that address delivers (:func:`fetch_remote` tries the
    part's own address first).
    """

    def __init__(
        self,
        part: Path,
        *,
        attempts: int = 3,
        progressbar: bool = True,
        timeout: float = 30.0,
        chunk_size: int = 1 << 16,
    ):
        self.part = Path(part)
        self.attempts = attempts
        self.progressbar = progressbar
        self.timeout = timeout
        self.chunk_size = chunk_size

    def __call__(self, url: str, output_file: str, pooch_instance=None, check_only: bool = False) -> bool | None:
        if check_only:
            with requests.head(url, allow_redirects=True, timeout=self.timeout) as response:
                return response.ok
        self.part.parent.mkdir(parents=True, exist_ok=True)
        with requests.Session() as session:
            for attempt in range(1, self.attempts + 1):
                try:
                    self._attempt(session, url)
                    break
                except _TRANSFER_ERRORS as exc:
                    received = self.part.stat().st_size if self.part.exists() else 0
                    if attempt == self.attempts:
                        raise
                    logger.warning("Transfer of %s stopped after %d bytes (%s); resuming.", url, received, exc)
        output = Path(output_file)
        output.unlink(missing_ok=True)
        try:
            os.link(self.part, output)
        except OSError:
            shutil.copyfile(self.part, output)
        return None

    def _attempt(self, session: requests.Session, url: str) -> None:
        resumable = self.part.exists() and _part_source(self.part) == url
        offset = self.part.stat().st_size if resumable else 0
        # identity: byte offsets must count the bytes stored, not a compressed transfer
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
        with session.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            # Keep the bytes that arrived before a cut (urllib3 would drop its partial buffer and
            # raise); the length is checked below instead.
            response.raw.enforce_content_length = False
            if response.status_code == 416 and offset:
                if _content_range(response.headers.get("Content-Range"))[1] == offset:
                    return  # the part already holds the whole file
                self.part.unlink()
                raise _IncompleteTransfer("the server refused to continue the partial file; starting over")
            response.raise_for_status()
            if response.status_code == 206:
                first, total = _content_range(response.headers.get("Content-Range"))
                if first != offset:
                    self.part.unlink()
                    raise _IncompleteTransfer(f"the server sent bytes from {first}, not {offset}; starting over")
            else:
                offset = 0
                length = response.headers.get("Content-Length", "")
                total = int(length) if length.isdigit() else None
            require_free_space(self.part.parent, None if total is None else total - offset, f"downloading {url}")
            bar = progress_bar(
                total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                desc=self.part.name.removesuffix(".part"), enabled=self.progressbar,
            )  # fmt: skip
            _source_file(self.part).write_text(url)
            with bar, open(self.part, "ab" if offset else "wb") as handle:
                try:
                    for chunk in response.iter_content(self.chunk_size):
                        handle.write(chunk)
                        bar.update(len(chunk))
                except OSError as exc:
                    if exc.errno == errno.ENOSPC:
                        raise _disk_full(exc, self.part) from exc
                    raise
        size = self.part.stat().st_size
        if total is not None and size != total:
            raise _IncompleteTransfer(f"received {size} of {total} bytes")


def fetch_remote(remote: Remote, folder: Path, *, progressbar: bool = True) -> Path:
    """Download ``remote`` into ``folder`` (or find it there), trying its mirrors in order; return its path.

    The file must match ``remote.known_hash``, or, where none is published, the
    hash recorded at its first verified download (:func:`data_fetch.integrity.expected_hash`);
    before that first download nothing is checked here (:func:`download` checks the contents).

    Raises:
        ChecksumMismatch: what arrived does not match the expected hash (kept as ``.rejected``).
        DownloadError: no mirror answered with the file.
        DiskFull: not enough free space.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    known_hash = integrity.expected_hash(folder, remote)
    origin = "published" if remote.known_hash else f"recorded at its first download in {integrity.record_path(folder, remote)}"
    target = folder / remote.filename
    part = folder / f"{remote.filename}.part"
    rejected = folder / f"{remote.filename}.rejected"
    failures, mismatched = [], False
    urls = list(remote.urls)
    resumable = _part_source(part) if part.exists() else None
    if resumable in urls:  # continue the partial file from where it came from
        urls.insert(0, urls.pop(urls.index(resumable)))
    for url in urls:
        if remote.size and not target.exists():
            have = part.stat().st_size if part.exists() else 0
            require_free_space(folder, remote.size - have, f"downloading {remote.filename}")
        try:
            path = Path(
                pooch.retrieve(
                    url, known_hash=known_hash, fname=remote.filename, path=folder,
                    downloader=ResumableDownloader(part, progressbar=progressbar),
                )
            )  # fmt: skip
        except InputError:
            raise
        except ValueError:  # pooch found a checksum that does not match
            if known_hash is None or not part.exists():
                raise
            os.replace(part, rejected)
            got = pooch.file_hash(str(rejected), alg=_hash_algorithm(known_hash))
            failures.append(f"{url}: checksum {got}, expected {known_hash} ({origin})")
            mismatched = True
            continue
        except requests.RequestException as exc:
            failures.append(f"{url}: {exc}")
            continue
        part.unlink(missing_ok=True)
        _source_file(part).unlink(missing_ok=True)
        return path
    listing = "\n".join(f"  - {failure}" for failure in failures)
    if mismatched:
        record = "" if remote.known_hash else (
            f" The expected hash is the one recorded in {integrity.record_path(folder, remote)} at an earlier download: "
            "if that download was not the corpus (e.g. `prepare` found no utterances in it), delete that record too, "
            "and the next download is checked by its contents instead.")
        raise ChecksumMismatch(
            f"{remote.filename} did not match its checksum:\n{listing}\nThe file was not used; the last one received "
            f"is kept at {rejected} for inspection. Delete it and run the download again (the transfer may have been "
            "damaged); if it fails again, the file on the server has changed: report it, or download it by hand and "
            f"compare it with the corpus's documentation before placing it at {target}.{record}"
        )
    raise DownloadError(
        f"Could not download {remote.filename} from any of its {len(remote.urls)} address(es):\n{listing}\n"
        "Check the internet connection and run the same command again: the download resumes where it stopped "
        f"(partial file: {part}). Or download the file by hand from one of the addresses and save it as {target}."
    )


def ensure_licence_accepted(spec: CorpusSpec, accept_license: bool, base: Path) -> None:
    """Show the licence; go on only if it is accepted (argument, or prompt on a terminal). Recorded once."""
    record = cache.downloads_dir(base) / f"{spec.key}.licence"
    if record.is_file():
        return
    notice = f"{spec.display_name} is distributed under this licence: {spec.licence}"
    if not accept_license and (not sys.stdin or not sys.stdin.isatty()):
        raise LicenseNotAccepted(
            f"{notice}\nAccept it to download: corpus_manifest('{spec.key}', download=True, accept_license=True) "
            f"or `python -m data_fetch download {spec.key} --accept-license`. Nothing was downloaded."
        )
    print(notice)
    if not accept_license and input("Accept this licence and download? [y/N] ").strip().lower() not in {"y", "yes"}:
        raise LicenseNotAccepted(f"The {spec.display_name} licence was not accepted; nothing was downloaded.")
    with atomic_write(record, "w", encoding="utf-8") as handle:
        handle.write(f"{notice}\naccepted {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n")


def extract_archive(
    spec: CorpusSpec, archive: Path, target: Path, *, progressbar: bool = True, check_contents: bool = False
) -> Path:
    """Unpack ``archive`` into ``target`` atomically; return ``target``.

    The archive is unpacked into ``.<target>.partial-*`` beside ``target``,
    checked to hold the corpus (with ``check_contents``, exactly its utterances:
    :func:`data_fetch.integrity.contents_problem`), then renamed onto ``target``;
    partial folders left by an interrupted run are removed first. The archive is never deleted.

    Raises:
        ArchiveError: not a zip, damaged, unsafe member paths, no utterance of the corpus inside,
            or (``check_contents``) other utterances than the corpus has.
        DiskFull: not enough space for the unpacked files.
    """
    redo = f"Delete {archive} and download it again, or download it by hand."
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(
            f"{archive} is not a readable zip archive ({exc}); it may be an error page or a truncated file. {redo}"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    with bundle:
        members = bundle.infolist()
        unsafe = [m.filename for m in members if m.filename.startswith("/") or ".." in PurePosixPath(m.filename).parts]
        if unsafe:
            raise ArchiveError(
                f"{archive} has members that would land outside the folder ({unsafe[:3]}); it is not the corpus. {redo}"
            )
        links = [m.filename for m in members if stat.S_ISLNK(m.external_attr >> 16)]
        if links:
            raise ArchiveError(f"{archive} has symbolic-link members ({links[:3]}); a corpus archive holds plain files, "
                               f"so it is not the corpus. {redo}")
        require_free_space(target.parent, sum(m.file_size for m in members), f"extracting {archive.name}")
        for stale in target.parent.glob(f".{target.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            for member in progress_bar(members, desc=f"extracting {archive.name}", unit="file", enabled=progressbar):
                bundle.extract(member, partial)
            if not scan_corpus(spec, partial).found:
                top = sorted({PurePosixPath(m.filename).parts[0] for m in members if m.filename.strip("/")})
                raise ArchiveError(
                    f"{archive} does not hold {spec.display_name} (expected {spec.layout}); its top-level entries are "
                    f"{top[:10]}. The server may have sent another file. {redo}"
                )
            problem = integrity.contents_problem(spec, partial) if check_contents else None
            if problem:
                raise ArchiveError(
                    f"{archive} is not the {spec.display_name} archive this package knows: {problem}. No checksum is "
                    f"published for it, so its contents are what is checked. {redo}"
                )
            os.replace(partial, target)
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ArchiveError(f"{archive} is damaged ({exc}). {redo}") from exc
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise _disk_full(exc, partial) from exc
            raise ArchiveError(f"{archive} cannot be unpacked ({exc.strerror or exc}: {exc.filename}); nothing was "
                               f"kept of it. {redo}") from exc
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target


def download(
    name: str,
    *,
    accept_license: bool = False,
    data_dir: str | os.PathLike | None = None,
    progressbar: bool = True,
) -> Path:
    """Download and extract a free corpus into the cache folder; return the extracted folder.

    Does nothing but return the folder when it is already there. Licence-gated
    and manual corpora raise :class:`InputError` with step-by-step instructions;
    a video corpus without PyAV installed raises it before anything is downloaded.
    An archive without a published checksum is checked by its contents and its
    SHA256 recorded (:mod:`data_fetch.integrity`).
    """
    spec = get_corpus(name)
    base = cache.data_dir(data_dir)
    target = cache.extracted_dir(spec.key, base)
    if target.is_dir():
        return target
    if spec.access != "download" or spec.remote is None:
        why = "is licence-gated" if spec.access == "licence" else "has no single archive to fetch"
        raise InputError(f"{spec.display_name} {why}: data_fetch does not download it.\n{spec.instructions(base)}")
    if spec.is_video:
        require_pyav(spec.display_name)
    check_writable_folder(base, f"The cache folder (--data-dir or ${cache.ENV_VAR})",
                          f"give a writable --data-dir or set {cache.ENV_VAR} to a writable folder")
    folder = cache.downloads_dir(base)
    if not (folder / spec.remote.filename).is_file():
        ensure_licence_accepted(spec, accept_license, base)
    with hold_folder(folder):  # one download per cache at a time: a second would append to the first's .part
        return _fetch_and_extract(spec, folder, target, progressbar)


def _fetch_and_extract(spec: CorpusSpec, folder: Path, target: Path, progressbar: bool) -> Path:
    """Steps 2-4 of :func:`download`, while its caller holds the downloads folder."""
    if target.is_dir():  # a run that held the folder before this one finished it
        return target
    archive = fetch_remote(spec.remote, folder, progressbar=progressbar)
    unpublished = spec.remote.known_hash is None
    extract_archive(spec, archive, target, progressbar=progressbar, check_contents=unpublished)
    if unpublished and integrity.recorded_hash(folder, spec.remote) is None:
        value = integrity.record_hash(archive, folder, spec.remote)
        logger.info(
            "%s: no checksum is published; the archive holds the corpus's utterances, so its hash %s is recorded in %s "
            "and every later download must match it.",
            spec.remote.filename, value, integrity.record_path(folder, spec.remote),
        )  # fmt: skip
    return target
