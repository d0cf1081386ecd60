"""Shared fixtures: tiny WAV corpora made by the tests, and the real corpora when present."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from data_fetch.corpora import CORPORA, Remote
from data_fetch_fixtures import write_wav, zip_bytes
from didan_lite.manifest import write_manifest
from didan_lite.synthetic import make_default_corpora
from didan_lite.training import DomainData

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPORA = REPO.parent / "shared" / "corpora"

torch.set_num_threads(2)


@pytest.fixture
def shared_corpora() -> Path:
    """The real EmoDB and CASIA copies; skips the test where the folder is absent."""
    if not (SHARED_CORPORA / "emodb").is_dir() or not (SHARED_CORPORA / "casia").is_dir():
        pytest.skip(f"real corpora not found at {SHARED_CORPORA} (see ../shared/corpora/README.md)")
    return SHARED_CORPORA


@pytest.fixture(scope="session")
def synthetic_pair() -> tuple[Path, Path]:
    """The embedded synthetic pair's manifests, generated once (or reused) where the notebooks find it.

    The slow tests share it instead of generating their own: ``make_default_corpora()`` in
    ``$DIDAN_LITE_DATA/synthetic`` or ``~/.cache/didan_lite/synthetic``.
    """
    return make_default_corpora()


def blob_domain(n: int, shift: float, seed: int) -> DomainData:
    """Two classes of 16 x 20 'spectrograms': class 1 has a bright band; the domain adds an offset."""
    generator = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 16, 20, generator=generator) * 0.5 + shift
    x[y == 1, 4:8, :] += 2.0
    return DomainData(x, y)


def write_tone_corpus(root: Path, corpus: str, *, emotions=("anger", "sadness", "neutral"), per_class: int = 6,
                      speakers: int = 3, sample_rate: int = 16_000, base_hz: float = 150.0, seed: int = 0) -> Path:
    """A tiny corpus of harmonic tones whose pitch encodes the emotion; returns its manifest path.

    Each emotion k is a harmonic tone at ``base_hz * (1 + 0.5 k)`` with random
    duration (0.6-1.4 s) and a little noise, so a classifier can learn it.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for k, emotion in enumerate(emotions):
        for i in range(per_class):
            duration = rng.uniform(0.6, 1.4)
            t = np.arange(int(duration * sample_rate)) / sample_rate
            f0 = base_hz * (1 + 0.5 * k) * rng.uniform(0.95, 1.05)
            wave = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, 6))
            wave = 0.3 * wave / np.abs(wave).max() + 0.01 * rng.standard_normal(len(t))
            speaker = f"s{i % speakers}"
            path = root / corpus / f"{speaker}_{emotion}_{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, wave.astype(np.float32), sample_rate, subtype="PCM_16")
            rows.append({"path": str(path), "emotion": emotion, "original_label": emotion, "speaker": speaker, "corpus": corpus})
    return write_manifest(pd.DataFrame(rows), root / corpus / "manifest.csv")


@pytest.fixture
def tone_corpora(tmp_path) -> tuple[Path, Path]:
    """Source and target tone corpora that differ in sample rate and pitch register."""
    source = write_tone_corpus(tmp_path, "tones-a", sample_rate=16_000, base_hz=150.0, seed=1)
    target = write_tone_corpus(tmp_path, "tones-b", sample_rate=22_050, base_hz=180.0, seed=2)
    return source, target


@pytest.fixture
def make_tone_corpus(tmp_path):
    """Factory fixture: ``make_tone_corpus(name, **options) -> manifest path`` under ``tmp_path``."""
    return lambda corpus, **options: write_tone_corpus(tmp_path, corpus, **options)


@pytest.fixture
def server(monkeypatch):
    """A loopback HTTP server (``data_fetch_fixtures.LoopbackServer``), with proxies bypassed for 127.0.0.1."""
    from data_fetch_fixtures import LoopbackServer

    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """An empty data_fetch cache folder."""
    return tmp_path / "cache"


def load_script(relative_path: str):
    """Import a repository script that is not part of a package (``"notebooks/coursework.py"``) as a module."""
    path = Path(__file__).resolve().parents[1] / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Pristine source and target tone corpora, and a data folder whose feature cache the tests share."""
    root = tmp_path_factory.mktemp("corpora")
    source = write_tone_corpus(root, "tones-a", per_class=4, seed=1)
    target = write_tone_corpus(root, "tones-b", per_class=4, sample_rate=22_050, base_hz=180.0, seed=2)
    return source, target, tmp_path_factory.mktemp("data")


EMODB_FILES = ("wav/03a01Wa.wav", "wav/08b02Tb.wav", "wav/16a05Nc.wav")
"""The utterances of the small EmoDB archive the download tests serve (``emodb_zip``)."""


@pytest.fixture(scope="module")
def emodb_zip(tmp_path_factory) -> bytes:
    """A small archive in EmoDB's layout: the three ``EMODB_FILES`` and its rating table."""
    folder = tmp_path_factory.mktemp("emodb-src")
    entries = {name: write_wav(folder / name, seconds=0.5).read_bytes() for name in EMODB_FILES}
    entries["erkennung.txt"] = b"Satz\tErkennung\n"
    return zip_bytes(entries)


def serve_emodb(monkeypatch, urls, known_hash=None, size=None):
    """EmoDB served from ``urls``; its archive check expects the three utterances of ``emodb_zip``."""
    remote = Remote("emodb-download.zip", tuple(urls), known_hash, size)
    keys = frozenset(Path(name).stem for name in EMODB_FILES)
    monkeypatch.setitem(CORPORA, "emodb", replace(CORPORA["emodb"], remote=remote, archive_keys=lambda: keys))
    return remote


def sha256_tag(data: bytes) -> str:
    """``"sha256:<hex>"``, the form data_fetch records a hash in."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def interrupted_after_first_save(monkeypatch):
    """Inside the block, a run writes its first checkpoint, then stops as Ctrl-C would stop it."""
    import didan_lite.checkpoints as checkpoints

    original = checkpoints.save

    def save_then_interrupt(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save", save_then_interrupt)
        yield


class RunsCode:
    """A pickle whose loading creates a marker file: what a hostile checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))
