"""The free real task and how downloads are verified, offline against a loopback server with archives made here.

EmoDB publishes no checksum: its first archive must hold exactly the 535
utterances of its file list before its hash is recorded, and every later use
must match that record. RAVDESS publishes an MD5 (Zenodo). ``task_manifests``
picks the task by what is present and downloads the free pair on request.
"""

from __future__ import annotations

import hashlib
import io
import sys
from collections import Counter
from dataclasses import replace

import pytest

import didan_lite.synthetic
from data_fetch_fixtures import BUILDERS, write_wav, zip_bytes
from didan_lite.errors import InputError

from data_fetch import cache, download, integrity, notebook_data, prepare
from data_fetch.corpora import CORPORA, Remote
from data_fetch.fetch import ArchiveError, ChecksumMismatch, LicenseNotAccepted
from data_fetch.file_lists import emodb_keys
from data_fetch.notebook_data import task_manifests

RAVDESS_FILES = (  # two actors, every emotion EmoDB shares with RAVDESS, plus calm and surprise
    *(f"Actor_01/03-01-{code:02d}-01-01-01-01.wav" for code in range(1, 9)),
    *(f"Actor_02/03-01-{code:02d}-01-01-01-02.wav" for code in range(1, 9)),
)


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> bytes:
    return write_wav(tmp_path_factory.mktemp("tone") / "tone.wav", seconds=0.3).read_bytes()


def _emodb_zip(tone: bytes, drop: int = 0, extra: tuple[str, ...] = ()) -> bytes:
    """An archive in EmoDB's layout with its 535 names (less ``drop`` of them, plus ``extra``), all one tone."""
    keys = sorted(emodb_keys())[drop:]
    entries = {f"wav/{key}.wav": tone for key in [*keys, *extra]}
    entries["erkennung.txt"] = b"Satz\tErkennung\n"
    return zip_bytes(entries)


@pytest.fixture
def emodb_served(server, monkeypatch, tone):
    """EmoDB's real spec (file list, no published checksum) served from the loopback server."""
    server.files["/download.zip"] = _emodb_zip(tone)
    remote = replace(CORPORA["emodb"].remote, urls=(server.url("/download.zip"),))
    monkeypatch.setitem(CORPORA, "emodb", replace(CORPORA["emodb"], remote=remote))
    return server


@pytest.fixture
def ravdess_served(server, monkeypatch, tone):
    """RAVDESS served from the loopback server, with its MD5 published (as on Zenodo) for the archive made here."""
    archive = zip_bytes({name: tone for name in RAVDESS_FILES})
    server.files["/ravdess.zip"] = archive
    remote = Remote("Audio_Speech_Actors_01-24.zip", (server.url("/ravdess.zip"),), "md5:" + hashlib.md5(archive).hexdigest())
    monkeypatch.setitem(CORPORA, "ravdess", replace(CORPORA["ravdess"], remote=remote))
    return server


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- verification of an archive without a published checksum ---------------------------------


def test_the_emodb_file_list_has_the_documented_counts():
    keys = emodb_keys()
    assert len(keys) == CORPORA["emodb"].expected_total == 535
    assert Counter(key[5] for key in keys) == Counter(CORPORA["emodb"].expected_counts)
    assert {key[:2] for key in keys} == {"03", "08", "09", "10", "11", "12", "13", "14", "15", "16"}


def test_a_first_download_that_holds_the_corpus_is_recorded_then_required(emodb_served, data_dir):
    archive = emodb_served.files["/download.zip"]
    folder = download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert len(list((folder / "wav").glob("*.wav"))) == 535
    downloads = cache.downloads_dir(data_dir)
    record = downloads / "emodb-download.zip.sha256"
    assert record.read_text().split()[0] == _sha256(archive)
    assert not list(downloads.glob("*.tmp*")), "the record is written atomically"
    # The archive on disk is damaged and the copy deleted: the next call re-fetches and checks the record.
    (downloads / "emodb-download.zip").write_bytes(archive[: len(archive) // 2])
    cache.extracted_dir("emodb", data_dir).rename(data_dir / "old-copy")
    download("emodb", data_dir=data_dir, progressbar=False)
    assert (downloads / "emodb-download.zip").read_bytes() == archive
    assert [path for path, _ in emodb_served.requests] == ["/download.zip", "/download.zip"]


def test_a_later_archive_that_differs_from_the_recorded_one_is_refused(emodb_served, data_dir, tone):
    download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    recorded = (cache.downloads_dir(data_dir) / "emodb-download.zip.sha256").read_text().split()[0]
    changed = _emodb_zip(tone, extra=("03a01Fb",))
    emodb_served.files["/download.zip"] = changed
    (cache.downloads_dir(data_dir) / "emodb-download.zip").unlink()
    cache.extracted_dir("emodb", data_dir).rename(data_dir / "old-copy")
    with pytest.raises(ChecksumMismatch) as error:
        download("emodb", data_dir=data_dir, progressbar=False)
    message = str(error.value)
    assert recorded in message and "recorded at its first download" in message
    assert hashlib.sha256(changed).hexdigest() in message
    assert (cache.downloads_dir(data_dir) / "emodb-download.zip.rejected").read_bytes() == changed
    assert not cache.extracted_dir("emodb", data_dir).exists()


@pytest.mark.parametrize(
    "drop, extra, words",
    [(1, (), "1 utterance(s) missing (03a01Fa)"), (0, ("16b10Wc",), "1 unexpected utterance(s) (16b10Wc)")],
    ids=["one-missing", "one-unexpected"],
)
def test_a_first_archive_that_is_not_the_corpus_is_refused_and_not_recorded(
    emodb_served, data_dir, tone, drop, extra, words
):
    emodb_served.files["/download.zip"] = _emodb_zip(tone, drop=drop, extra=extra)
    with pytest.raises(ArchiveError) as error:
        download("emodb", accept_license=True, data_dir=data_dir, progressbar=False)
    assert words in str(error.value) and "list of 535" in str(error.value)
    assert not (cache.downloads_dir(data_dir) / "emodb-download.zip.sha256").exists()
    assert not cache.extracted_dir("emodb", data_dir).exists()


def test_without_a_file_list_the_counts_are_checked(tmp_path):
    root = tmp_path / "copy"
    for name in ("wav/03a01Wa.wav", "wav/03a02Wb.wav", "wav/08a01Nc.wav"):
        write_wav(root / name)
    by_total = replace(CORPORA["emodb"], archive_keys=None, expected_counts=None, expected_total=3)
    assert integrity.contents_problem(by_total, root) is None
    assert integrity.contents_problem(replace(by_total, expected_total=5), root) == "3 utterance files, expected 5"
    assert integrity.contents_problem(replace(by_total, expected_total=5, total_tolerance=2), root) is None
    by_label = replace(by_total, expected_counts={"W": 2, "N": 2})
    assert integrity.contents_problem(by_label, root) == "files per label differ: N 1 (expected 2)"


# --- PyAV, needed by eNTERFACE'05 only -------------------------------------------------------


def test_a_video_corpus_without_pyav_says_how_to_install_it_before_any_download(server, data_dir, monkeypatch, tmp_path):
    copy = BUILDERS["enterface"](tmp_path / "enterface").root  # made with PyAV, before it "goes missing"
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    remote = Remote("enterface.zip", (server.url("/enterface.zip"),), None)
    monkeypatch.setitem(CORPORA, "enterface", replace(CORPORA["enterface"], remote=remote))
    for attempt in (
        lambda: download("enterface", accept_license=True, data_dir=data_dir, progressbar=False),
        lambda: prepare("enterface", copy, data_dir=data_dir),
    ):
        with pytest.raises(InputError, match=r'pip install "didan-lite\[video\]"'):
            attempt()
    assert server.requests == []


# --- the notebooks' call ---------------------------------------------------------------------


@pytest.fixture
def nothing_present(tmp_path, monkeypatch, make_tone_corpus):
    """No shared corpora above the working folder, an empty cache, and a cheap synthetic stand-in."""
    cwd = tmp_path / "course" / "notebooks"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv(notebook_data.CORPORA_ENV_VAR, raising=False)
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    stand_ins = (make_tone_corpus("synth-a", emotions=("anger", "sadness")), make_tone_corpus("synth-b", emotions=("anger", "sadness")))
    monkeypatch.setattr(didan_lite.synthetic, "make_default_corpora", lambda: stand_ins)
    return tmp_path


def test_the_free_task_is_downloaded_on_request_and_then_found(nothing_present, emodb_served, ravdess_served, capsys):
    data = task_manifests(download=True, accept_license=True)
    assert not data.is_synthetic and data.task == "B-ravdess"
    assert data.emotions == ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
    # EmoDB without boredom (535 - 81); RAVDESS's 16 files without calm and surprise
    assert data.description.startswith("REAL corpora, task B-ravdess: emodb (454 utterances) -> ravdess (12 utterances)")
    assert "the data_fetch cache" in data.description and str(nothing_present) not in data.description
    printed = capsys.readouterr().out
    assert "CC BY-NC-SA 4.0" in printed and "free for research use" in printed, "each licence is shown"
    source, target = data.load()
    assert set(target["emotion"]) == set(data.emotions) and len(source) == 454
    sent = len(emodb_served.requests)
    again = task_manifests()  # present now: no flag needed, nothing downloaded
    assert (again.task, again.is_synthetic, len(emodb_served.requests)) == ("B-ravdess", False, sent)


def test_without_the_flag_nothing_is_downloaded_and_the_line_says_how(nothing_present, emodb_served, ravdess_served):
    data = task_manifests()
    assert data.is_synthetic and data.description.startswith("SYNTHETIC stand-in for task B-C")
    assert "download=True, accept_license=True" in data.description and "FREE_CORPORA" in data.description
    assert emodb_served.requests == []


def test_download_without_accepting_the_licence_shows_it_and_fetches_nothing(
    nothing_present, emodb_served, ravdess_served, monkeypatch
):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(LicenseNotAccepted, match="free for research use"):
        task_manifests(download=True)
    assert emodb_served.requests == []


def test_a_licence_gated_corpus_is_never_downloaded(nothing_present, emodb_served):
    data = task_manifests("B-C", download=True, accept_license=True)
    assert data.is_synthetic and "casia cannot be downloaded" in data.description
    assert emodb_served.requests == [], "nothing fetched for a task that cannot run"


def test_the_first_present_pair_runs_casia_first(nothing_present):
    root = nothing_present / "corpora"
    for key in ("emodb", "ravdess"):
        BUILDERS[key](root / key)
    assert task_manifests(data_root=root).task == "B-ravdess"
    BUILDERS["casia"](root / "casia")
    data = task_manifests(data_root=root)
    assert (data.task, data.is_synthetic) == ("B-C", False) and "found in data_root" in data.description
