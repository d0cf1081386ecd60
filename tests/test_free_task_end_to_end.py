"""The free task end to end, offline: EmoDB and a RAVDESS-shaped archive from a loopback server, through a fast ``compare``.

RAVDESS itself is not on this machine. The archive made here has its real layout
(``Actor_NN/03-01-EE-II-SS-RR-NN.wav``: audio-only speech, emotion, intensity, statement, repetition,
actor) at its real 48 kHz, with every one of its eight emotions, so the run goes through the download
(checksum, extraction), RAVDESS's parser, the task's six shared emotions (calm and surprise dropped,
EmoDB's boredom dropped), resampling, features, training and the report, with chance at 1/6.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import replace

import pytest

from data_fetch.corpora import CORPORA, Remote
from data_fetch.notebook_data import task_manifests
from data_fetch_fixtures import write_wav, zip_bytes
from didan_lite import compare, preset
from data_fetch.file_lists import emodb_keys
from test_data_fetch_free_task import nothing_present  # noqa: F401  (fixtures)

RAVDESS_EMOTIONS = {1: "neutral", 2: "calm", 3: "happy", 4: "sad", 5: "angry", 6: "fearful", 7: "disgust", 8: "surprised"}
ACTORS = (1, 2, 3, 4)


def ravdess_archive(folder) -> tuple[bytes, list[str]]:
    """A zip in RAVDESS's layout at 48 kHz: 4 actors x 8 emotions x 2 statements (strong intensity except neutral)."""
    entries, names = {}, []
    for actor in ACTORS:
        for code in RAVDESS_EMOTIONS:
            for statement in (1, 2):
                intensity = 1 if code == 1 else 2
                name = f"Actor_{actor:02d}/03-01-{code:02d}-{intensity:02d}-{statement:02d}-01-{actor:02d}.wav"
                wav = write_wav(folder / name, seconds=0.4, sample_rate=48000, frequency=150.0 + 40 * code + 5 * actor + 2 * statement)
                entries[name], names = wav.read_bytes(), [*names, name]
    return zip_bytes(entries), names


@pytest.fixture
def emodb_served(server, monkeypatch, tmp_path):
    """EmoDB's 535 names served from the loopback server, each a tone of its own pitch: a corpus that holds one
    recording under two labels is refused, so every file must be audio of its own."""
    entries = {f"wav/{key}.wav": write_wav(tmp_path / "emodb-made" / f"{key}.wav", seconds=0.3,
                                           frequency=150.0 + 1.5 * index).read_bytes()
               for index, key in enumerate(sorted(emodb_keys()))}
    entries["erkennung.txt"] = b"Satz\tErkennung\n"
    server.files["/download.zip"] = zip_bytes(entries)
    remote = replace(CORPORA["emodb"].remote, urls=(server.url("/download.zip"),))
    monkeypatch.setitem(CORPORA, "emodb", replace(CORPORA["emodb"], remote=remote))
    return server


@pytest.fixture
def ravdess_48k_served(server, monkeypatch, tmp_path):
    archive, names = ravdess_archive(tmp_path / "ravdess-made")
    server.files["/Audio_Speech_Actors_01-24.zip"] = archive
    remote = Remote("Audio_Speech_Actors_01-24.zip", (server.url("/Audio_Speech_Actors_01-24.zip"),),
                    "md5:" + hashlib.md5(archive).hexdigest())
    monkeypatch.setitem(CORPORA, "ravdess", replace(CORPORA["ravdess"], remote=remote))
    return names


@pytest.mark.slow
def test_the_free_task_runs_from_download_to_a_fast_comparison(nothing_present, emodb_served, ravdess_48k_served, tmp_path):  # noqa: F811
    data = task_manifests(download=True, accept_license=True)
    emotions = ("anger", "disgust", "fear", "happiness", "neutral", "sadness")
    assert (data.task, data.is_synthetic, data.emotions) == ("B-ravdess", False, emotions)
    kept = len(ACTORS) * 6 * 2  # calm and surprise dropped
    assert f"-> ravdess ({kept} utterances), 6 emotions" in data.description
    source, target = data.load(max_per_class=8)
    assert sorted(set(target["emotion"])) == list(emotions) and len(target) == 6 * 8
    assert target["speaker"].nunique() == len(ACTORS)

    fast = preset("fast")
    config = dataclasses.replace(fast.config, train=dataclasses.replace(fast.config.train, epochs=2, warmup_epochs=1))
    comparison = compare(source, target, methods=("source-only", "ida"), seeds=(0,), out_dir=tmp_path / "run",
                         config=config, emotions=data.emotions, weight=1.0, figures=False, progress=False)
    assert [run.method for run in comparison.runs] == ["source-only", "ida"]
    for run in comparison.runs:
        assert len(run.target_confusion) == 6 and all(len(row) == 6 for row in run.target_confusion)
        assert 0.0 <= run.target_uar <= 1.0
    report = (tmp_path / "run" / "report.md").read_text()
    assert "chance (17 %)" in report, "chance follows the task's six emotions"
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert len(metrics["runs"]) == 2
