"""Bad inputs to the downloader and the corpus check found by the third reliability pass (issue 29).

==  ==================================================  =============================================
 2  a junk first download with the right names          test_a_junk_first_download_is_refused_and_never_trusted
12  a record of a download that was never verified      test_an_unverified_record_does_not_block_the_genuine_archive,
                                                        test_a_mismatch_against_a_record_names_the_record
13  two downloads at once on one cache                  test_a_second_download_on_a_held_cache_is_refused
20  verify on a partial EmoDB copy                      test_verify_names_the_missing_files_of_a_listed_corpus
==  ==================================================  =============================================

The archives are served by a loopback HTTP server (tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EMODB_FILES, serve_emodb, sha256_tag
from data_fetch_fixtures import BUILDERS
from data_fetch_fixtures import zip_bytes as _zip
from didan_lite.errors import InputError

from data_fetch import cache, download
from data_fetch.cli import main as data_fetch_main
from data_fetch.corpora import CORPORA
from data_fetch.fetch import ArchiveError, ChecksumMismatch



@pytest.fixture(scope="module")
def junk_zip() -> bytes:
    """The right file names around an error page."""
    return _zip({name: b"<html><body>Too many requests</body></html>" for name in EMODB_FILES})


def test_a_junk_first_download_is_refused_and_never_trusted(server, junk_zip, emodb_zip, data_dir, monkeypatch):
    """Item 2: names alone do not make the corpus: undecodable utterances are refused by name, no hash is recorded,
    and once the server sends the genuine archive it is accepted."""
    server.files["/emodb.zip"] = junk_zip
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    with pytest.raises(ArchiveError) as caught:
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    message = str(caught.value)
    assert "3 of its 3 utterance files are not decodable audio" in message and "03a01Wa.wav" in message
    folder = cache.downloads_dir(data_dir)
    assert not (folder / "emodb-download.zip.sha256").exists() and not cache.extracted_dir("emodb", data_dir).exists()
    (folder / "emodb-download.zip").unlink()
    server.files["/emodb.zip"] = emodb_zip
    assert (download("emodb", data_dir=data_dir, progressbar=False) / "wav" / "03a01Wa.wav").is_file()
    assert (folder / "emodb-download.zip.sha256").read_text().split()[0] == sha256_tag(emodb_zip)


def test_an_unverified_record_does_not_block_the_genuine_archive(server, junk_zip, emodb_zip, data_dir, monkeypatch):
    """Item 12: a record written before contents were checked (an older version's, without the verified mark) is
    not trusted: the genuine archive is checked by its contents and the record replaced."""
    remote = serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    folder = cache.downloads_dir(data_dir)
    folder.mkdir(parents=True)
    (folder / f"{remote.filename}.sha256").write_text(f"{sha256_tag(junk_zip)}  {remote.filename}\n")
    server.files["/emodb.zip"] = emodb_zip
    download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    words = (folder / f"{remote.filename}.sha256").read_text().split()
    assert words[0] == sha256_tag(emodb_zip) and "contents-verified" in words


def test_a_mismatch_against_a_record_names_the_record(server, emodb_zip, data_dir, monkeypatch):
    """Item 12: when a verified record blocks an archive, the message says which record to delete."""
    remote = serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    folder = cache.downloads_dir(data_dir)
    folder.mkdir(parents=True)
    record = folder / f"{remote.filename}.sha256"
    record.write_text(f"sha256:{'0' * 64}  {remote.filename}  contents-verified\n")
    server.files["/emodb.zip"] = emodb_zip
    with pytest.raises(ChecksumMismatch) as caught:
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert f"{remote.filename}.rejected" in str(caught.value) and "delete that record too" in str(caught.value)
    assert str(record) in str(caught.value)


def test_a_second_download_on_a_held_cache_is_refused(server, emodb_zip, data_dir, monkeypatch):
    """Item 13: a download holds the cache's downloads folder; a second one is refused with one line naming the
    process, sends no request and leaves the first one's files alone."""
    serve_emodb(monkeypatch, [server.url("/emodb.zip")])
    server.files["/emodb.zip"] = emodb_zip
    folder = cache.downloads_dir(data_dir)
    root = str(Path(__file__).resolve().parents[1])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom didan_lite.folders import hold_folder\n"
         f"with hold_folder({str(folder)!r}):\n    print('held', flush=True)\n    time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": root},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError) as caught:
            download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
        assert "in use by another run" in str(caught.value) and f"process {holder.pid}" in str(caught.value)
        assert server.requests == [] and not list(folder.glob("*.part"))
    finally:
        holder.kill()
        holder.wait()
    assert (download("emodb", data_dir=data_dir, progressbar=False) / "wav" / "03a01Wa.wav").is_file()


def test_verify_names_the_missing_files_of_a_listed_corpus(tmp_path, capsys):
    """Item 20: EmoDB's names are listed (data_fetch/file_lists.py), so a partial copy names what it lacks."""
    tree = BUILDERS["emodb"](tmp_path / "emodb")
    assert data_fetch_main(["verify", "emodb", "--root", str(tree.root)]) == 1
    out = capsys.readouterr().out
    assert "cannot be listed" not in out
    missing = next(line for line in out.splitlines() if line.strip().startswith("missing:"))
    listed = CORPORA["emodb"].archive_keys()
    assert int(missing.split(":")[1]) == len(listed) - 2  # two of the tree's utterances are on the list
    assert sorted(listed)[0] in out.split("missing:")[1]  # named, not counted
