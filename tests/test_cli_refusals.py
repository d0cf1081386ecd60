"""Bad input at the command line: ``python -m didan_lite compare`` refuses it with one line before work.

Each row of ``CASES`` runs the command (in-process) on tiny tone corpora (made once per module; a row that
damages them works on a copy) and checks the exit code, the words of the one-line message, that no
traceback is printed, and that nothing was trained or written: the trainer and (for checks due before
extraction) the feature extractor are replaced by functions that fail the test if called. Which row pins
which case of docs/bad_inputs.md: the table at the end of that page.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from conftest import RunsCode, write_tone_corpus

import didan_lite.experiment as experiment
import didan_lite.task as task_module
from didan_lite.cli import main


ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
QUICK = ["--methods", "source-only", "--seeds", "0", "--epochs", "1", "--batch-size", "8", "--weight", "0.3", "--no-figures", "--quiet"]


@dataclass
class Setting:
    """What a row builds: the tone corpora, the output and data folders."""

    tmp: Path
    source: Path
    target: Path
    out: Path
    data: Path
    marker: Path = field(init=False)
    report_before: str | None = None
    data_args: list[str] | None = None  # None: --source and --target; a row may give other data options instead

    def __post_init__(self) -> None:
        self.marker = self.tmp / "code-ran.txt"

    def own_corpora(self) -> None:
        """Work on a copy of the corpora (for rows that damage them); a second call keeps the copy."""
        if self.source.is_relative_to(self.tmp):
            return
        for name in ("source", "target"):
            manifest = getattr(self, name)
            shutil.copytree(manifest.parent, self.tmp / manifest.parent.name)
            setattr(self, name, self.tmp / manifest.parent.name / manifest.name)


def _plant_hostile_checkpoint(s: Setting) -> list[str]:
    path = s.out / "checkpoints" / "source-only-seed0.pt"
    path.parent.mkdir(parents=True)
    torch.save({"epoch": 1, "payload": RunsCode(s.marker)}, path)
    return QUICK


def _corrupt_class(s: Setting) -> list[str]:
    s.own_corpora()
    frame = pd.read_csv(s.target)
    for path in frame.loc[frame["emotion"] == "sadness", "path"]:
        file = Path(path) if Path(path).is_absolute() else s.target.parent / path
        file.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00")  # a header cut short: undecodable
    return QUICK


def _first_file(s: Setting) -> Path:
    path = Path(pd.read_csv(s.source)["path"].iloc[0])
    return path if path.is_absolute() else s.source.parent / path


def _too_short(s: Setting) -> list[str]:
    s.own_corpora()
    sf.write(_first_file(s), 0.3 * np.ones(100, np.float32), 16_000, subtype="PCM_16")  # 6 ms < one 25 ms window
    return QUICK + ["--strict"]


def _truncated(s: Setting) -> list[str]:
    s.own_corpora()
    path = _first_file(s)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return QUICK + ["--strict"]


def _single_speaker_too_small(s: Setting) -> list[str]:
    s.source = write_tone_corpus(s.tmp, "solo", per_class=1, speakers=1, seed=4)  # 3 utterances
    return QUICK


def _other_settings(s: Setting) -> list[str]:
    assert main(["compare", "--source", str(s.source), "--target", str(s.target), "--out", str(s.out), *QUICK]) == 0
    s.report_before = (s.out / "report.md").read_text()
    return [*QUICK, "--weight", "0.1"]


def _legacy_report(s: Setting) -> list[str]:
    """A folder written by a version that did not record its settings: metrics.json holds only the config."""
    s.out.mkdir(parents=True)
    s.report_before = "# an older comparison\n"
    (s.out / "report.md").write_text(s.report_before)
    config = {"features": {}, "model": {}, "train": {"epochs": 20}, "holdout_speakers": 0.2, "method_options": {}}
    (s.out / "metrics.json").write_text(json.dumps({"config": config}))
    return QUICK


def _out_file(s: Setting) -> list[str]:
    s.out.parent.mkdir(parents=True, exist_ok=True)
    s.out.write_text("not a folder")
    return QUICK


def _out_under_file(s: Setting) -> list[str]:
    _out_file(s)
    s.out = s.out / "run"
    return QUICK


def _read_only(folder: Path) -> None:
    if ROOT_USER:
        pytest.skip("permissions do not bind the root user")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)


def _out_read_only(s: Setting) -> list[str]:
    _read_only(s.out.parent)
    return QUICK


def _data_dir_file(s: Setting) -> list[str]:
    s.data = s.tmp / "data"
    s.data.write_text("not a folder")
    return QUICK


def _data_dir_read_only(s: Setting) -> list[str]:
    s.data = s.tmp / "data"
    _read_only(s.data)
    return QUICK


# ---------------------------------------------------------------- issue 21: builders


def _rows(s: Setting, which: str = "source") -> pd.DataFrame:
    s.own_corpora()
    return pd.read_csv(getattr(s, which), dtype=str, keep_default_na=False)


def _rewrite(s: Setting, frame: pd.DataFrame, which: str = "source") -> list[str]:
    frame.to_csv(getattr(s, which), index=False)
    return QUICK


def _target_is_source(s: Setting) -> list[str]:
    s.target = s.source
    return QUICK


def _target_shares_audio(s: Setting) -> list[str]:
    source, target = _rows(s), _rows(s, "target")
    shared = source.iloc[[0]].assign(path=str(_first_file(s)), corpus=target["corpus"].iloc[0])
    return _rewrite(s, pd.concat([target, shared]), "target")


def _target_shares_renamed_audio(s: Setting) -> list[str]:
    """The same audio under another name in the target's folder: found by content, not by path."""
    target = _rows(s, "target")
    copy = s.target.parent / "renamed.wav"
    shutil.copyfile(_first_file(s), copy)
    extra = target.iloc[[0]].assign(path="renamed.wav")
    return _rewrite(s, pd.concat([target, extra]), "target")


def _file_two_labels(s: Setting) -> list[str]:
    frame = _rows(s)
    other = frame.iloc[[0]].assign(emotion="sadness" if frame["emotion"].iloc[0] != "sadness" else "anger")
    return _rewrite(s, pd.concat([frame, other]))


def _duplicate_rows(s: Setting) -> list[str]:
    frame = _rows(s)
    return _rewrite(s, pd.concat([frame, frame.iloc[[0, 1]]]))


def _column_twice(s: Setting) -> list[str]:
    frame = _rows(s)
    text = s.source.read_text().splitlines()
    text[0] += ",emotion"
    text[1:] = [line + ",sadness" for line in text[1:]]
    s.source.write_text("\n".join(text) + "\n")
    assert len(frame)
    return QUICK


def _empty_speaker(s: Setting) -> list[str]:
    frame = _rows(s)
    frame.loc[2, "speaker"] = ""
    return _rewrite(s, frame)


def _ragged_row(s: Setting) -> list[str]:
    _rows(s)
    with open(s.source, "a") as handle:
        handle.write("x.wav,anger,anger,s0,,,tones-a,one,too,many\n")
    return QUICK


def _long_name_row(s: Setting) -> list[str]:
    frame = _rows(s)
    frame.loc[0, "path"] = "x" * 300 + ".wav"
    return _rewrite(s, frame)


def _long_out(s: Setting) -> list[str]:
    s.out = s.tmp / ("o" * 300)
    return QUICK


def _dangling_link(s: Setting) -> list[str]:
    _rows(s)
    path = _first_file(s)
    path.unlink()
    path.symlink_to(s.tmp / "annex" / "objects" / "gone.wav")  # git-annex style: the content is not there
    return QUICK


def _fifo_source(s: Setting) -> list[str]:
    s.source = s.tmp / "source.fifo"
    os.mkfifo(s.source)  # nobody writes to it: opening it would block forever
    return QUICK


def _rewrite_audio(s: Setting, samples: np.ndarray, rate: int = 16_000, subtype: str = "PCM_16") -> list[str]:
    s.own_corpora()
    sf.write(_first_file(s), samples, rate, subtype=subtype)
    return QUICK + ["--strict"]


def _dc_audio(s: Setting) -> list[str]:
    return _rewrite_audio(s, np.full(16_000, 0.5, np.float32))


def _loud_audio(s: Setting) -> list[str]:
    return _rewrite_audio(s, 1e20 * np.sin(np.arange(16_000, dtype=np.float32) / 10), subtype="FLOAT")


def _lying_rate(s: Setting) -> list[str]:
    """A header declaring 1 Hz: 3,200 bytes of samples would decode as 1,600 s and resample to gigabytes."""
    args = _rewrite_audio(s, np.zeros(1_600, np.float32) + 0.1 * np.sin(np.arange(1_600)), rate=1)
    return args


def _too_short_for_opensmile(s: Setting) -> list[str]:
    """30 ms: one spectrogram window fits, openSMILE's eGeMAPS does not; both paths refuse it, before training."""
    args = _rewrite_audio(s, 0.3 * np.sin(np.arange(480, dtype=np.float32) / 5))
    return [*args, "--methods", "source-only,opensmile-svm"]


def _in_out(name: str, text: str) -> Callable[[Setting], list[str]]:
    def build(s: Setting) -> list[str]:
        s.out.mkdir(parents=True)
        (s.out / name).write_text(text)
        return QUICK

    return build


def _incomplete_checkpoint(s: Setting) -> list[str]:
    path = s.out / "checkpoints" / "source-only-seed0.pt"
    path.parent.mkdir(parents=True)
    torch.save({"fingerprint": "{}", "epoch": 1, "model": {}}, path)  # plain data, no optimiser state
    return QUICK


def _data_root_without_task(s: Setting) -> list[str]:
    return [*QUICK, "--data-root", str(s.tmp)]


def _real_audio_option_on_the_embedded_pair(s: Setting) -> list[str]:
    s.data_args = []  # no --source/--target, no --task: the embedded synthetic corpora
    return [*QUICK, "--allow-overlap"]


def _missing_data_root(s: Setting) -> list[str]:
    s.data_args = ["--task", "B-C", "--data-root", str(s.tmp / "nonexistent" / "corpora")]
    return QUICK


def _fresh_cache(*argv: str) -> Callable[[Setting], list[str]]:
    """Options run with an empty feature cache (a cached file is not decoded again, so its header is not re-read)."""
    def build(s: Setting) -> list[str]:
        s.data = s.tmp / "fresh-data"
        return [*QUICK, *argv]

    return build


def _cuda_absent(s: Setting) -> list[str]:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: --device cuda is valid here")
    return [*QUICK, "--device", "cuda"]



def _options(*argv: str) -> Callable[[Setting], list[str]]:
    def build(s: Setting) -> list[str]:
        return [*QUICK, *argv]  # later options win over QUICK's

    return build


@dataclass(frozen=True)
class Case:
    build: Callable[[Setting], list[str]]
    words: tuple[str, ...]
    extracts: bool = False  # the refusal is due after the features are extracted (they are cached, not lost)
    code: int = 2


CASES: dict[str, Case] = {
    # 1: a checkpoint is data, never code
    "checkpoint-runs-code": Case(_plant_hostile_checkpoint, ("source-only-seed0.pt", "not loaded", "delete it")),
    # 2: fewer than two classes
    "one-emotion": Case(_options("--emotions", "anger"), ("--emotions", "at least 2")),
    "one-emotion-repeated": Case(_options("--emotions", "anger,anger"), ("--emotions", "repeats", "anger")),
    # 3: numeric options, at parse time
    "weight-nan": Case(_options("--weight", "nan"), ("--weight", "'nan'", "finite")),
    "weight-inf": Case(_options("--weight", "inf"), ("--weight", "'inf'", "finite")),
    "weight-negative": Case(_options("--weight", "-1"), ("--weight", "'-1'", "[0, 1000]")),
    "weight-word": Case(_options("--weight", "strong"), ("--weight", "'strong'", "not a number")),
    "criterion-unknown": Case(_options("--criterion", "oracle"), ("--criterion", "'oracle'", "source-1se")),
    "criterion-with-fixed-weight": Case(_options("--criterion", "dev"), ("--criterion", "--weight 0.3")),
    "epochs-zero": Case(_options("--epochs", "0"), ("--epochs", "0", ">= 1")),
    "epochs-fraction": Case(_options("--epochs", "1.5"), ("--epochs", "'1.5'", "whole number")),
    "seed-negative": Case(_options("--seeds", "-1"), ("--seeds", "-1", ">= 0")),
    "seed-fraction": Case(_options("--seeds", "0,1.5"), ("--seeds", "'1.5'", "whole number")),
    "seed-too-large": Case(_options("--seeds", str(2**32)), ("--seeds", str(2**32), "out of range")),
    "seeds-repeated": Case(_options("--seeds", "1,1"), ("--seeds", "repeats", "1")),
    "synthetic-seed-negative": Case(_options("--synthetic-seed", "-3"), ("--synthetic-seed", "-3")),
    "batch-size-1": Case(_options("--batch-size", "1"), ("--batch-size", ">= 2")),
    "unknown-option": Case(_options("--epoks", "3"), ("unrecognized arguments", "--help")),
    # 4: a class that vanishes once unreadable files are skipped
    "class-vanishes": Case(_corrupt_class, ("sadness", "no utterance left", "--emotions anger,neutral"), extracts=True),
    # 5: another comparison's report in the same folder
    "other-settings-same-out": Case(_other_settings, ("other settings", "(weight differ)", "another --out")),
    "older-report-same-out": Case(_legacy_report, ("other settings", "config.train.epochs", "another --out")),
    # 7: folders that cannot be written, before any work
    "out-is-a-file": Case(_out_file, ("output folder", "is a file", "--out")),
    "out-inside-a-file": Case(_out_under_file, ("output folder", "which is a file", "--out")),
    "out-read-only": Case(_out_read_only, ("output folder", "cannot be written", "--out")),
    "data-dir-is-a-file": Case(_data_dir_file, ("data folder", "is a file", "DIDAN_LITE_DATA")),
    "data-dir-read-only": Case(_data_dir_read_only, ("data folder", "cannot be written", "DIDAN_LITE_DATA")),
    # 9: every audio error names the file
    "too-short-audio": Case(_too_short, ("s0_anger_0.wav", "shorter than the 100 ms"), extracts=True),
    "truncated-audio": Case(_truncated, ("s0_anger_0.wav", "truncated"), extracts=True),
    # 10: a single-speaker source too small for the stratified fallback
    "single-speaker-too-small": Case(_single_speaker_too_small, ("'solo'", "single speaker", "too few"), extracts=True),
    # ---- issue 21
    # 1: a target that holds source audio (by content)
    "target-is-source": Case(_target_is_source, ("Every target file", "also a source file", "other recordings")),
    "target-shares-audio": Case(_target_shares_audio, ("1 of the 13 target file(s)", "--allow-overlap")),
    "target-shares-renamed-audio": Case(_target_shares_renamed_audio, ("by content", "renamed.wav", "--allow-overlap")),
    # 2-5, 22: manifest rows
    "file-two-labels": Case(_file_two_labels, ("s0_anger_0.wav", "two different labels", "anger and sadness")),
    "duplicate-rows": Case(_duplicate_rows, ("2 file(s) more than once", "Remove the duplicates")),
    "column-twice": Case(_column_twice, ("['emotion'] more than once",)),
    "empty-speaker": Case(_empty_speaker, ("empty 'speaker'", "line(s) 4")),
    "ragged-row": Case(_ragged_row, ("not a readable CSV", "Expected 7 fields", "fix that row")),
    # 6, 10, 20, 21: audio judged by name, from the header where it can be
    "dc-offset-audio": Case(_dc_audio, ("s0_anger_0.wav", "silent", "mean-removed"), extracts=True),
    "absurd-amplitude": Case(_loud_audio, ("s0_anger_0.wav", "absurd amplitude", "1e+20"), extracts=True),
    "header-rate-1hz": Case(_lying_rate, ("s0_anger_0.wav", "sample rate of 1 Hz"), extracts=True),
    "longer-than-limit": Case(_fresh_cache("--strict", "--max-audio-seconds", "0.5"),
                              ("s0_anger_0.wav", "more than the 0.5 s limit", "--max-audio-seconds"), extracts=True),
    "too-short-for-opensmile": Case(_too_short_for_opensmile, ("s0_anger_0.wav", "30.0 ms", "every method"),
                                    extracts=True),
    # 9: devices, before any work
    "device-meta": Case(_options("--device", "meta"), ("'meta'", "cannot train", "--device")),
    "device-cuda-absent": Case(_cuda_absent, ("'cuda'", "CUDA is not available", "--device")),
    # 11, 14, 17: files that are not there, not regular, or named too long
    "source-is-a-fifo": Case(_fifo_source, ("source.fifo", "not a regular file")),
    "dangling-symlink": Case(_dangling_link, ("s0_anger_0.wav", "symbolic link to a missing file")),
    "row-name-too-long": Case(_long_name_row, ("name of 304 bytes", "255 bytes")),
    "out-name-too-long": Case(_long_out, ("output folder", "255 bytes", "--out")),
    # 12: bounded floats
    "weight-huge": Case(_options("--weight", "1e300"), ("--weight", "'1e300'", "[0, 1000]")),
    # 15, 16: damaged files of the output folder
    "settings-not-an-object": Case(_in_out("settings.json", "[]"), ("settings.json is corrupt", "list", "another --out")),
    "settings-null": Case(_in_out("settings.json", "null"), ("settings.json is corrupt", "NoneType")),
    "metrics-corrupt": Case(_in_out("metrics.json", "{not json"), ("metrics.json is corrupt", "another --out")),
    "checkpoint-incomplete": Case(_incomplete_checkpoint, ("source-only-seed0.pt", "incomplete", "optimiser", "delete it")),
    # 24: options without effect, a data root that is not there
    "data-root-without-task": Case(_data_root_without_task, ("--data-root", "only with --task", "--task B-C")),
    "allow-overlap-on-embedded-pair": Case(_real_audio_option_on_the_embedded_pair,
                                           ("--allow-overlap", "only act on real audio", "--task")),
    "data-root-missing": Case(_missing_data_root, ("--data-root", "nonexistent", "not an existing folder")),
    "synthetic-seed-with-manifests": Case(_options("--synthetic-seed", "3"), ("--synthetic-seed", "drop it", "--source")),
}


def _files(folder: Path) -> list[Path]:
    """Everything under ``folder`` (none when it does not exist or cannot even be named)."""
    try:
        return sorted(folder.rglob("*")) if folder.is_dir() else []
    except OSError:  # a name too long for the file system
        return []


@pytest.mark.filterwarnings("ignore:Skipped .* unreadable file")
@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_with_one_line_before_work(name, corpora, tmp_path, monkeypatch, capsys):
    case = CASES[name]
    source, target, data = corpora
    s = Setting(tmp_path, source, target, tmp_path / "runs" / "out", data)
    argv = case.build(s)
    monkeypatch.setenv("DIDAN_LITE_DATA", str(s.data))
    capsys.readouterr()
    trained, extracted = [], []
    monkeypatch.setattr(experiment, "train_didan", lambda *a, **k: trained.append(1) or pytest.fail("trained"))
    real_extract = task_module.extract_corpus
    monkeypatch.setattr(task_module, "extract_corpus", lambda *a, **k: extracted.append(1) or real_extract(*a, **k))
    files_before = _files(s.out)

    data = ["--source", str(s.source), "--target", str(s.target)] if s.data_args is None else s.data_args
    code = main(["compare", *data, "--out", str(s.out), *argv])

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == case.code, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for word in case.words:
        assert word in lines[0], (word, lines[0])
    assert not trained
    assert bool(extracted) == case.extracts, "extraction ran although the input could be refused before it"
    assert not s.marker.exists(), "a checkpoint ran code"
    files_after = _files(s.out)
    assert files_after == files_before, "the refused run wrote into the output folder"
    if s.report_before is not None:
        assert (s.out / "report.md").read_text() == s.report_before


def test_the_planted_checkpoint_is_hostile(tmp_path):
    """The fixture of case 1 would run its code if loaded as a pickle: the row above can fail."""
    marker = tmp_path / "code-ran.txt"
    path = tmp_path / "evil.pt"
    torch.save({"payload": RunsCode(marker)}, path)
    torch.load(path, weights_only=False)
    assert marker.exists()
