"""Bad inputs to ``python -m didan_lite compare`` found by the third reliability pass (issue 29).

Rows of ``CASES`` run the command in-process on tiny tone corpora, as
tests/test_bad_inputs.py does, and expect exit 2, one ``error:`` line holding
the given words, and nothing trained (``extracts``: the refusal is due after
the features were cached).

==  ==================================================  =============================================
 1  aligning methods that never align                   test_methods_within_the_warm_up_are_warned_and_labelled
 6  one recording twice in a corpus (link, copy)        CASES["link-under-another-label"], ["copies-under-other-names"]
 7  near-silence: cancelling channels, 1-LSB dither     CASES["phase-inverted-stereo"], ["dithered-silence"]
 8  an emotion held by one of two source speakers       CASES["emotion-of-one-speaker"]
 9  DIDAN_LITE_DATA='~/didan'                           test_a_tilde_in_the_data_folder_is_expanded_once
18  other separators, other-case headers                CASES["semicolon-manifest"], ["tab-manifest"], ["capitalised-header"]
19  many rows for few files                             CASES["ten-files-listed-many-times"]
24  audio limit with a warm cache                       test_the_audio_limit_acts_on_a_warm_cache
==  ==================================================  =============================================
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import write_tone_corpus
from test_cli_refusals import QUICK, Setting, _first_file, _rewrite, _rows

import didan_lite.experiment as experiment
from didan_lite.cli import main


def _link_under_another_label(s: Setting) -> list[str]:
    frame = _rows(s)
    link = s.source.parent / "link.wav"
    link.symlink_to(_first_file(s))
    other = "sadness" if frame["emotion"].iloc[0] != "sadness" else "anger"
    return _rewrite(s, pd.concat([frame, frame.iloc[[0]].assign(path="link.wav", emotion=other)]))


def _copies_under_other_names(s: Setting) -> list[str]:
    frame = _rows(s)
    extra = []
    for copy in range(3):
        for index in range(len(frame)):
            original = Path(frame["path"].iloc[index])
            original = original if original.is_absolute() else s.source.parent / original
            name = f"copy{copy}_{original.name}"
            (s.source.parent / name).write_bytes(original.read_bytes())
            extra.append(frame.iloc[[index]].assign(path=name))
    return _rewrite(s, pd.concat([frame, *extra]))


def _stereo_audio(s: Setting, left: np.ndarray, right: np.ndarray, subtype: str = "PCM_16") -> list[str]:
    s.own_corpora()
    sf.write(_first_file(s), np.stack([left, right], axis=1), 16_000, subtype=subtype)
    return QUICK + ["--strict"]


def _phase_inverted(s: Setting) -> list[str]:
    tone = 0.5 * np.sin(np.arange(16_000) / 5)
    return _stereo_audio(s, tone, -tone + 3e-5 * np.sign(tone), subtype="FLOAT")  # the mix peaks at 1.5e-5


def _dithered_silence(s: Setting) -> list[str]:
    lsb = np.random.default_rng(0).integers(-1, 2, 16_000) / 32768  # 1-LSB dither of 16-bit audio: about -90 dBFS
    return _stereo_audio(s, lsb, lsb)


def _emotion_of_one_speaker(s: Setting) -> list[str]:
    """Two source speakers; 'neutral' is spoken by s0 only: a selection fold without s0 cannot learn it."""
    s.source = write_tone_corpus(s.tmp, "duo", per_class=6, speakers=2, seed=5)
    frame = pd.read_csv(s.source, dtype=str, keep_default_na=False)
    frame = frame[~((frame["emotion"] == "neutral") & (frame["speaker"] == "s1"))]
    frame.to_csv(s.source, index=False)
    return QUICK


def _separated(separator: str) -> Callable[[Setting], list[str]]:
    def build(s: Setting) -> list[str]:
        _rows(s).to_csv(s.source, index=False, sep=separator)
        return QUICK

    return build


def _capitalised_header(s: Setting) -> list[str]:
    frame = _rows(s).rename(columns={"path": "Path", "emotion": " Emotion"})
    return _rewrite(s, frame)


def _many_rows(s: Setting) -> list[str]:
    frame = _rows(s).iloc[:10]
    return _rewrite(s, pd.concat([frame] * 40))


@dataclass(frozen=True)
class Case:
    build: Callable[[Setting], list[str]]
    words: tuple[str, ...]
    extracts: bool = False


CASES: dict[str, Case] = {
    "link-under-another-label": Case(_link_under_another_label, ("one recording under two labels", "link.wav",
                                                                 "same audio (by content)")),
    "copies-under-other-names": Case(_copies_under_other_names, ("36 extra copy(ies) of 12 recording(s)", "by content",
                                                                 "Remove the copies")),
    "phase-inverted-stereo": Case(_phase_inverted, ("s0_anger_0.wav", "silent", "channel-mixed", "dBFS"), extracts=True),
    "dithered-silence": Case(_dithered_silence, ("s0_anger_0.wav", "silent", "below -60 dBFS"), extracts=True),
    "emotion-of-one-speaker": Case(_emotion_of_one_speaker, ("['neutral']", "no utterance left", "selection fold"),
                                   extracts=True),
    "semicolon-manifest": Case(_separated(";"), ("lacks the column(s)", "separated by semicolons", "commas")),
    "tab-manifest": Case(_separated("\t"), ("separated by tabs",)),
    "capitalised-header": Case(_capitalised_header, ("'Path'", "Rename 'Path' to 'path', ' Emotion' to 'emotion'")),
    "ten-files-listed-many-times": Case(_many_rows, ("lists 10 file(s) more than once", "390 extra row(s)")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_with_one_line_and_nothing_trained(name, corpora, tmp_path, monkeypatch, capsys):
    case = CASES[name]
    source, target, data = corpora
    s = Setting(tmp_path, source, target, tmp_path / "runs" / "out", data)
    argv = case.build(s)
    monkeypatch.setenv("DIDAN_LITE_DATA", str(s.data))
    extracted = []
    monkeypatch.setattr(experiment, "train_didan", lambda *a, **k: pytest.fail("trained"))
    real_load = experiment.load_task
    monkeypatch.setattr(experiment, "load_task", lambda *a, **k: extracted.append(1) or real_load(*a, **k))
    capsys.readouterr()
    code = main(["compare", "--source", str(s.source), "--target", str(s.target), "--out", str(s.out), *argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert all(word in lines[0] for word in case.words), lines[0]
    assert bool(extracted) == case.extracts


def test_methods_within_the_warm_up_are_warned_and_labelled(corpora, tmp_path, monkeypatch, capsys):
    """Item 1: with --epochs at or below the warm-up, ida and mmd never align: one warning line before training,
    and their rows say so in metrics.json; with one epoch more than the warm-up, nothing is said."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    out = tmp_path / "o"
    argv = ["compare", "--source", str(source), "--target", str(target), "--out", str(out), *QUICK,
            "--methods", "source-only,mmd"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and "mmd will never align" in warned[0] and "--epochs 6" in warned[0], err
    runs = json.loads((out / "metrics.json").read_text())["runs"]
    assert "never aligned" in runs[1]["weight_reason"] and "never aligned" not in runs[0]["weight_reason"]
    from didan_lite.training import TrainConfig
    from didan_lite.validation import never_aligned

    assert never_aligned(["mmd", "ida", "source-only"], TrainConfig(epochs=5)) == ["mmd", "ida"]
    assert never_aligned(["mmd"], TrainConfig(epochs=6)) == [] and never_aligned(["mmd"], TrainConfig(epochs=1, warmup_epochs=0)) == []


def test_a_tilde_in_the_data_folder_is_expanded_once(tmp_path, monkeypatch):
    """Item 9: '~/didan' is the home folder's didan/ for the feature cache as for data_fetch, never ./~/didan."""
    from didan_lite.features import default_cache_dir

    from data_fetch.cache import data_dir

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIDAN_LITE_DATA", "~/didan")
    monkeypatch.chdir(tmp_path)
    assert default_cache_dir() == tmp_path / "home" / "didan" / "features"
    assert default_cache_dir().parent == data_dir()


def test_the_audio_limit_acts_on_a_warm_cache(corpora, tmp_path, monkeypatch, capsys):
    """Item 24: with every feature cached, a bad $DIDAN_LITE_MAX_AUDIO_SECONDS is refused before any work, and
    --max-audio-seconds 0.5 still refuses the longer files (their header is read again; nothing is decoded)."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    base = ["compare", "--source", str(source), "--target", str(target), *QUICK]
    assert main([*base, "--out", str(tmp_path / "warm")]) == 0  # every file's features are cached now
    capsys.readouterr()
    monkeypatch.setattr(experiment, "train_didan", lambda *a, **k: pytest.fail("trained"))
    with monkeypatch.context() as patch:
        patch.setenv("DIDAN_LITE_MAX_AUDIO_SECONDS", "abc")
        patch.setattr(experiment, "load_task", lambda *a, **k: pytest.fail("features were read"))
        assert main([*base, "--out", str(tmp_path / "a")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("error: DIDAN_LITE_MAX_AUDIO_SECONDS='abc'") and "\n" not in line
    assert main([*base, "--out", str(tmp_path / "b"), "--strict", "--max-audio-seconds", "0.5"]) == 2
    line = capsys.readouterr().err.strip()
    assert "more than the 0.5 s limit" in line and "--max-audio-seconds" in line and "\n" not in line
    assert os.environ.get("DIDAN_LITE_MAX_AUDIO_SECONDS") is None
