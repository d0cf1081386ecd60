"""Downloads against a loopback HTTP server: success, resume, checksum, mirrors, licence, disk, archive faults."""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import EMODB_FILES, serve_emodb, sha256_tag
from data_fetch_fixtures import zip_bytes as _zip
from didan_lite.errors import InputError
from didan_lite.manifest import read_manifest

import data_fetch.fetch as fetch_module
from data_fetch import cache, corpus_manifest, download
from data_fetch.fetch import ArchiveError, ChecksumMismatch, DiskFull, DownloadError, LicenseNotAccepted

def test_download_extracts_prepares_and_records_the_hash(server, emodb_zip, data_dir, monkeypatch, caplog):
    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    with caplog.at_level(logging.INFO, logger="data_fetch"):
        path = corpus_manifest("emodb", download=True, accept_license=True, data_dir=data_dir)
    frame = read_manifest(path)
    assert sorted(Path(p).name for p in frame["path"]) == sorted(Path(name).name for name in EMODB_FILES)
    assert hashlib.sha256(emodb_zip).hexdigest() in caplog.text
    record = cache.downloads_dir(data_dir) / "emodb-download.zip.sha256"
    assert record.read_text().split()[0] == sha256_tag(emodb_zip)
    assert (cache.downloads_dir(data_dir) / "emodb-download.zip").read_bytes() == emodb_zip
    assert not list(cache.downloads_dir(data_dir).glob("*.part"))
    assert "EmoDB" in (cache.downloads_dir(data_dir) / "emodb.licence").read_text()
    # Everything is cached: a second call sends no request.
    sent = len(server.requests)
    assert corpus_manifest("emodb", data_dir=data_dir) == path
    assert len(server.requests) == sent


def test_a_cut_connection_is_resumed_with_a_range_request(server, emodb_zip, data_dir, monkeypatch):
    cut = len(emodb_zip) // 3
    server.files["/emodb.zip"] = emodb_zip
    server.cut_after["/emodb.zip"] = [cut]
    serve_emodb(monkeypatch, [server.url("/emodb.zip")], known_hash=sha256_tag(emodb_zip))
    download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert server.requests == [("/emodb.zip", None), ("/emodb.zip", f"bytes={cut}-")]
    assert (cache.downloads_dir(data_dir) / "emodb-download.zip").read_bytes() == emodb_zip


def test_a_failed_call_leaves_a_part_that_the_next_call_continues(server, emodb_zip, data_dir, monkeypatch):
    pieces = [len(emodb_zip) // 8] * 3  # more cuts than one call retries
    server.files["/emodb.zip"] = emodb_zip
    server.cut_after["/emodb.zip"] = list(pieces)
    serve_emodb(monkeypatch, [server.url("/emodb.zip")], known_hash=sha256_tag(emodb_zip))
    with pytest.raises(DownloadError, match="resumes"):
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    part = cache.downloads_dir(data_dir) / "emodb-download.zip.part"
    assert part.read_bytes() == emodb_zip[: sum(pieces)]
    download("emodb", data_dir=data_dir, progressbar=False)  # licence already accepted
    assert server.requests[-1] == ("/emodb.zip", f"bytes={sum(pieces)}-")
    ranges = [header for _, header in server.requests]
    assert ranges == [None, f"bytes={pieces[0]}-", f"bytes={2 * pieces[0]}-", f"bytes={sum(pieces)}-"]
    assert not part.exists()


def test_the_next_call_resumes_from_the_mirror_the_part_came_from(server, emodb_zip, data_dir, monkeypatch):
    server.files["/good.zip"] = emodb_zip
    server.cut_after["/good.zip"] = [1000, 1000, 1000]
    serve_emodb(monkeypatch, ["http://127.0.0.1:9/dead.zip", server.url("/good.zip")], known_hash=sha256_tag(emodb_zip))
    with pytest.raises(DownloadError):
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    download("emodb", data_dir=data_dir, progressbar=False)
    assert server.requests[-1] == ("/good.zip", "bytes=3000-")


def test_a_checksum_mismatch_is_an_error_and_the_file_is_not_used(server, emodb_zip, data_dir, monkeypatch):
    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")], known_hash="md5:" + "0" * 32)
    with pytest.raises(ChecksumMismatch) as error:
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert hashlib.md5(emodb_zip).hexdigest() in str(error.value)
    folder = cache.downloads_dir(data_dir)
    assert not (folder / "emodb-download.zip").exists()
    assert (folder / "emodb-download.zip.rejected").read_bytes() == emodb_zip  # kept for inspection
    assert not cache.extracted_dir("emodb", data_dir).exists()


def test_mirrors_are_tried_in_order(server, emodb_zip, data_dir, monkeypatch):
    server.files["/good.zip"] = emodb_zip
    dead = "http://127.0.0.1:9/emodb.zip"  # discard port: connection refused
    urls = [server.url("/missing.zip"), dead, server.url("/good.zip")]
    serve_emodb(monkeypatch, urls, known_hash=sha256_tag(emodb_zip))
    folder = download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert [path for path, _ in server.requests] == ["/missing.zip", "/good.zip"]
    assert (folder / "wav" / "03a01Wa.wav").is_file()


def test_dead_mirrors_give_one_error_naming_each_address(server, data_dir, monkeypatch):
    urls = [server.url("/gone.zip"), "http://127.0.0.1:9/emodb.zip"]
    serve_emodb(monkeypatch, urls)
    with pytest.raises(DownloadError) as error:
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    for url in urls:
        assert url in str(error.value)
    assert "by hand" in str(error.value)


def test_without_licence_acceptance_no_request_is_made(server, emodb_zip, data_dir, monkeypatch):
    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt
    with pytest.raises(LicenseNotAccepted, match="accept_license=True") as error:
        download("emodb", data_dir=data_dir, progressbar=False)
    assert "free for research" in str(error.value)  # the licence is shown
    assert server.requests == []
    assert not (cache.downloads_dir(data_dir) / "emodb.licence").exists()


def test_the_licence_prompt_on_a_terminal_must_be_answered_yes(server, emodb_zip, data_dir, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))
    with pytest.raises(LicenseNotAccepted):
        download("emodb", data_dir=data_dir, progressbar=False)
    assert server.requests == []
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert download("emodb", data_dir=data_dir, progressbar=False).is_dir()


def test_too_little_disk_space_stops_before_the_request_and_keeps_the_part(server, emodb_zip, data_dir, monkeypatch):
    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")], known_hash=sha256_tag(emodb_zip), size=len(emodb_zip))
    part = cache.downloads_dir(data_dir) / "emodb-download.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(emodb_zip[:100])

    class Usage:
        free = 10

    monkeypatch.setattr(fetch_module.shutil, "disk_usage", lambda folder: Usage)
    with pytest.raises(DiskFull, match="data_dir"):
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert server.requests == []
    assert part.read_bytes() == emodb_zip[:100]


def test_a_disk_that_fills_up_mid_download_keeps_what_arrived(server, emodb_zip, data_dir, monkeypatch):
    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")], known_hash=sha256_tag(emodb_zip))
    room = len(emodb_zip) // 2

    class FillingFile(io.FileIO):  # writes what fits, then fails as a full disk does
        def write(self, data):
            if self.tell() + len(data) > room:
                super().write(data[: room - self.tell()])
                raise OSError(errno.ENOSPC, "No space left on device")
            return super().write(data)

    filling = lambda path, mode: FillingFile(path, mode.replace("b", ""))  # noqa: E731
    monkeypatch.setattr(fetch_module, "open", filling, raising=False)
    with pytest.raises(DiskFull, match="run the same command again"):
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    part = cache.downloads_dir(data_dir) / "emodb-download.zip.part"
    kept = part.stat().st_size
    assert kept == room
    monkeypatch.undo()
    serve_emodb(monkeypatch, [server.url("/emodb.zip")], known_hash=sha256_tag(emodb_zip))
    download("emodb", data_dir=data_dir, progressbar=False)
    assert server.requests[-1] == ("/emodb.zip", f"bytes={kept}-")


def _zip_with_link() -> bytes:
    """A symbolic-link member ``wav`` and a file beneath it (issue 21, item 19: was a NotADirectoryError)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        link = zipfile.ZipInfo("wav")
        link.external_attr = 0o120777 << 16  # the Unix mode of a symbolic link
        bundle.writestr(link, "/tmp")
        bundle.writestr("wav/03a01Wa.wav", b"RIFF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"<html>Service unavailable</html>", "not a readable zip"),
        (_zip({"index.html": b"<html></html>", "docs/readme.txt": b"hello"}), "does not hold EmoDB"),
        (_zip({"../escape.wav": b"RIFF"}), "outside the folder"),
        (_zip_with_link(), "symbolic-link members"),
    ],
    ids=["html-page", "unexpected-content", "unsafe-paths", "symlink-member"],
)
def test_a_bad_archive_is_an_error_and_is_kept(server, data_dir, monkeypatch, payload, message):
    server.files["/emodb.zip"] = payload
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    with pytest.raises(ArchiveError, match=message):
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert (cache.downloads_dir(data_dir) / "emodb-download.zip").read_bytes() == payload
    target = cache.extracted_dir("emodb", data_dir)
    assert not target.exists()
    assert not list(target.parent.glob(".emodb.partial-*"))


def test_an_interrupted_extraction_is_redone_never_taken_as_complete(server, emodb_zip, data_dir, monkeypatch):
    server.files["/emodb.zip"] = emodb_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    original = zipfile.ZipFile.extract
    calls = []

    def interrupted(self, member, path=None, pwd=None):
        calls.append(member)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    target = cache.extracted_dir("emodb", data_dir)
    assert not target.exists()
    stale = target.parent / ".emodb.partial-killed"  # what a killed process leaves behind
    (stale / "wav").mkdir(parents=True)
    monkeypatch.setattr(zipfile.ZipFile, "extract", original)
    folder = download("emodb", data_dir=data_dir, progressbar=False)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.wav")) == sorted(EMODB_FILES)
    assert not stale.exists()
    assert len([path for path, _ in server.requests]) == 1, "the archive itself was downloaded once"


@pytest.mark.parametrize("name", ["casia", "savee", "iemocap", "cremad", "tess"])
def test_corpora_without_a_download_explain_how_to_get_them(name, data_dir):
    with pytest.raises(InputError) as error:
        download(name, accept_license=True, data_dir=data_dir)
    message = str(error.value)
    assert "1." in message and "--root" in message and str(cache.extracted_dir(name, data_dir)) in message
