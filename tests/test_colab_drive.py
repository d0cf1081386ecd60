"""Google Drive's mount as Colab shows it: no hard links (the run-folder lock), slow reads (the feature cache).

The tests stand Drive in with a local folder whose missing features are made to fail: ``os.link`` raises
Errno 95 (EOPNOTSUPP, what Drive's FUSE mount answers), and reading an audio file's bytes is counted.
"""

from __future__ import annotations

import errno
import os
import socket

import numpy as np
import pytest
import soundfile as sf

from didan_lite import features
from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig, extract_corpus
from didan_lite.folders import LOCK_FILE, hold_folder


@pytest.fixture
def no_hard_links(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "link", refuse)


def test_the_lock_works_on_a_folder_without_hard_links(tmp_path, no_hard_links):
    with hold_folder(tmp_path / "run") as lock:
        assert lock.read_text().split() == [str(os.getpid()), socket.gethostname()]
        with pytest.raises(InputError, match="in use by another run"):
            with hold_folder(tmp_path / "run"):
                pass
    assert not (tmp_path / "run" / LOCK_FILE).exists()
    assert [p.name for p in (tmp_path / "run").iterdir()] == [], "no temporary file left behind"


def test_a_stale_lock_is_taken_over_without_hard_links(tmp_path, no_hard_links, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).write_text(f"999999999 {socket.gethostname()}\n")  # no such process
    with hold_folder(folder) as lock:
        assert lock.read_text().split()[0] == str(os.getpid())
    assert "took over the lock of process 999999999" in capsys.readouterr().out


def test_an_empty_lock_of_a_writer_just_starting_holds_the_folder(tmp_path, no_hard_links):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_FILE).touch()  # created by a writer that has not yet written its id
    with pytest.raises(InputError, match="in use by another run"):
        with hold_folder(folder):
            pass


@pytest.fixture
def corpus(tmp_path):
    """Three short tone files and their manifest."""
    rows = []
    for i in range(3):
        path = tmp_path / "audio" / f"u{i}.wav"
        path.parent.mkdir(exist_ok=True)
        t = np.arange(8000) / 16000
        sf.write(path, (0.1 * np.sin(2 * np.pi * (200 + 50 * i) * t)).astype("float32"), 16000)
        rows.append({"path": str(path), "label": "anger", "speaker": f"s{i}", "corpus": "toy"})
    import pandas as pd

    return pd.DataFrame(rows)


@pytest.fixture
def digests(monkeypatch):
    """The paths whose bytes were hashed."""
    hashed = []
    real = features.file_digest
    monkeypatch.setattr(features, "file_digest", lambda path: hashed.append(str(path)) or real(path))
    return hashed


def test_a_cache_hit_reads_no_audio_bytes_when_path_size_and_time_are_unchanged(corpus, tmp_path, digests):
    config, cache = FeatureConfig(), tmp_path / "cache"
    first = extract_corpus(corpus, config, cache_dir=cache, progress=False)
    assert len(digests) == 3, "a miss hashes the file (the content key)"
    digests.clear()
    again = extract_corpus(corpus, config, cache_dir=cache, progress=False)
    assert digests == [], "a hit keyed by path, size and modification time does not read the file"
    assert all(np.array_equal(a, b) for a, b in zip(first.spectrograms, again.spectrograms))


def test_a_changed_file_is_hashed_again_and_a_moved_one_hits_by_content(corpus, tmp_path, digests):
    config, cache = FeatureConfig(), tmp_path / "cache"
    extract_corpus(corpus, config, cache_dir=cache, progress=False)
    changed = corpus.path[0]
    t = np.arange(8000) / 16000
    sf.write(changed, (0.1 * np.sin(2 * np.pi * 900 * t)).astype("float32"), 16000)
    os.utime(changed, ns=(1, 1))  # a new modification time even on a coarse clock
    moved = tmp_path / "elsewhere.wav"
    os.replace(corpus.path[1], moved)
    corpus.loc[1, "path"] = str(moved)
    digests.clear()
    entries = {p.name for p in cache.rglob("*.npy")}
    result = extract_corpus(corpus, config, cache_dir=cache, progress=False)
    assert sorted(digests) == sorted([changed, str(moved)]), "the content digest is the fallback"
    new = {p.name for p in cache.rglob("*.npy")} - entries
    assert len(new) == 1, "the changed file is a new entry; the moved one hit its old entry by content"
    expected = features.spectrogram(features.load_audio(changed), config).numpy()
    assert np.allclose(result.spectrograms[0], expected)
