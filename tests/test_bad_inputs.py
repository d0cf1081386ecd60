"""Bad inputs and faults (issues 11 and 21): each is refused with one line before work starts, or handled without a wrong result.

Cases of issue 11 and where they are pinned:

==  ==================================================  =============================================
 1  checkpoint that would run code on resume            CASES["checkpoint-runs-code"],
                                                        test_trainer_refuses_a_checkpoint_that_is_not_plain_data
 2  fewer than two classes                              CASES["one-emotion"]
 3  numeric options (weight, epochs, seeds, batch)      CASES["weight-nan"] ... CASES["batch-size-1"],
                                                        test_library_refuses_bad_run_values_before_work
 4  a class vanishing after unreadable files skipped    CASES["class-vanishes"]
 5  another comparison's report in the same --out       CASES["other-settings-same-out"], CASES["older-report-same-out"],
                                                        test_same_task_with_more_methods_reuses_the_folder
 6  verify: truncated, silent, non-finite files         test_verify_names_truncated_silent_and_nan_files
 7  --out / cache folder not writable                   CASES["out-is-a-file"] ... CASES["data-dir-read-only"]
 8  0-byte or corrupt cache entry                       test_damaged_cache_entry_is_a_miss_replaced_atomically,
                                                        test_wrong_shape_cache_entry_is_a_miss
 9  audio errors name the file                          CASES["too-short-audio"], CASES["truncated-audio"],
                                                        test_short_audio_error_names_the_file_in_the_library
10  single-speaker source                               CASES["single-speaker-too-small"],
                                                        test_single_speaker_source_is_stated_in_the_report
11  Ctrl-C during training (bad seeds: see 3)         test_ctrl_c_stops_with_one_line_and_resumes
12  same seed, same result, every method                test_same_seed_gives_bit_identical_training,
                                                        test_classical_reference_is_deterministic
==  ==================================================  =============================================

Cases of issue 21 (data_fetch rows are in tests/test_data_fetch_cli.py and test_data_fetch_download.py):

==  ==================================================  =============================================
 1  target identical to / sharing audio with source     CASES["target-is-source"], ["target-shares-audio"],
                                                        ["target-shares-renamed-audio"],
                                                        test_partial_overlap_runs_when_allowed_and_the_report_says_so
 2  one file, two labels                                CASES["file-two-labels"]
 3  duplicate rows                                      CASES["duplicate-rows"]
 4  a column given twice                                CASES["column-twice"]
 5  empty required values                              CASES["empty-speaker"]
 6  constant-DC file                                    CASES["dc-offset-audio"], test_verify_rejects_absurd_amplitude_and_dc_by_name
 7  two runs on one --out                               test_a_second_run_on_a_held_folder_is_refused_and_a_stale_lock_taken_over
 8  other methods on a finished folder                  test_same_task_with_more_methods_reuses_the_folder
 9  absent or unusable device, before any work          CASES["device-meta"], CASES["device-cuda-absent"]
10  header lying about rate or length                   CASES["header-rate-1hz"], CASES["longer-than-limit"]
11  a FIFO as manifest                                  CASES["source-is-a-fifo"]
12  huge weight; non-finite loss                        CASES["weight-huge"], test_a_diverging_run_stops_with_one_line_and_is_not_finished
13  disk full on --out or on the cache                  test_a_full_disk_is_one_line_naming_the_folder (tmpfs; skipped without root)
14  dangling symlink                                    CASES["dangling-symlink"], test_a_dangling_symlink_is_named_as_a_missing_file
15  settings.json not an object, corrupt metrics.json   CASES["settings-not-an-object"], ["settings-null"], ["metrics-corrupt"]
16  incomplete or other-shape checkpoint; fingerprint   CASES["checkpoint-incomplete"],
                                                        test_a_checkpoint_that_does_not_load_completely_is_refused_by_name,
                                                        test_the_fingerprint_holds_the_architecture_and_the_version
17  a name over 255 bytes                               CASES["row-name-too-long"], CASES["out-name-too-long"]
18  data_fetch prepare: unwritable destinations         test_prepare_checks_where_it_writes_before_any_work
19  zip with a symlink member                           test_a_bad_archive_is_an_error_and_is_kept[symlink-member]
20  absurd amplitude                                    CASES["absurd-amplitude"], test_verify_rejects_absurd_amplitude_and_dc_by_name
21  too short for opensmile-svm, decided before training CASES["too-short-for-opensmile"]
22  ragged CSV row                                      CASES["ragged-row"]
23  skipped files: one clean line and a list            test_skipped_files_are_one_clean_line_and_listed_in_the_output_folder
24  options without effect, a missing data root         CASES["data-root-without-task"], ["data-root-missing"],
                                                        ["synthetic-seed-with-manifests"]
==  ==================================================  =============================================

Each row of ``CASES`` runs ``python -m didan_lite compare`` (in-process) on tiny
tone corpora (made once per module; a row that damages them works on a copy)
and checks the exit code, the words of the one-line message,
that no traceback is printed, and that nothing was trained or written: the
trainer and (for checks due before extraction) the feature extractor are
replaced by functions that fail the test if called.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from conftest import blob_domain, write_tone_corpus
from data_fetch_fixtures import BUILDERS

import didan_lite.experiment as experiment
import didan_lite.task as task_module
import didan_lite.checkpoints as checkpoints
import didan_lite.training as training
from didan_lite.alignment import ALIGNMENT_METHODS, make_alignment
from didan_lite.cli import main
from didan_lite.errors import InputError, TrainingDiverged
from didan_lite.features import STAT_INDEX, FeatureConfig, extract_corpus
from didan_lite.manifest import read_manifest
from didan_lite.model import ModelConfig
from didan_lite.progress import LineProgress, progress_bar
from didan_lite.training import TrainConfig, train_didan

from data_fetch.cli import main as data_fetch_main

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
QUICK = ["--methods", "source-only", "--seeds", "0", "--epochs", "1", "--batch-size", "8", "--weight", "0.3", "--no-figures", "--quiet"]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Pristine source and target tone corpora, and a data folder whose feature cache the tests share."""
    root = tmp_path_factory.mktemp("corpora")
    source = write_tone_corpus(root, "tones-a", per_class=4, seed=1)
    target = write_tone_corpus(root, "tones-b", per_class=4, sample_rate=22_050, base_hz=180.0, seed=2)
    return source, target, tmp_path_factory.mktemp("data")


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


class _RunsCode:
    """A pickle whose loading creates a marker file: what a hostile checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _plant_hostile_checkpoint(s: Setting) -> list[str]:
    path = s.out / "checkpoints" / "source-only-seed0.pt"
    path.parent.mkdir(parents=True)
    torch.save({"epoch": 1, "payload": _RunsCode(s.marker)}, path)
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
    torch.save({"payload": _RunsCode(marker)}, path)
    torch.load(path, weights_only=False)
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("payload", ["code", "numpy", "garbage"])
def test_trainer_refuses_a_checkpoint_that_is_not_plain_data(tmp_path, payload):
    """Case 1 through the library: resuming reads data only; the message names the file; nothing runs."""
    marker, path = tmp_path / "code-ran.txt", tmp_path / "run.pt"
    if payload == "garbage":
        path.write_bytes(b"\x80\x04not a checkpoint")
    else:  # a pickle that runs code, or one of an older version holding NumPy objects
        torch.save({"epoch": 1, "x": _RunsCode(marker) if payload == "code" else np.random.get_state()}, path)
    config = TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu")
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    with pytest.raises(InputError, match="not a plain-data checkpoint") as caught:
        train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, config=config, model_config=model, checkpoint=path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize("seeds, weight, words", [
    ([-1], 0.3, "Seeds"), ([0.5], 0.3, "Seeds"), ([1, 1], 0.3, "repeat"), ([0], float("nan"), "Alignment weight nan"),
    ([0], -1.0, "Alignment weight -1"), ([0], float("inf"), "Alignment weight inf"),
], ids=["seed-negative", "seed-fraction", "seeds-repeated", "weight-nan", "weight-negative", "weight-inf"])
def test_library_refuses_bad_run_values_before_work(corpora, tmp_path, monkeypatch, seeds, weight, words):
    """Cases 3 and 11 through the library: compare() checks seeds and weight before anything is extracted."""
    source, target, _ = corpora
    monkeypatch.setattr(task_module, "extract_corpus", lambda *a, **k: pytest.fail("extracted"))
    config = experiment.ExperimentConfig(cache_dir=str(tmp_path / "cache"))
    with pytest.raises(InputError, match=words):
        experiment.compare(source, target, methods=["mmd"], seeds=seeds, out_dir=tmp_path / "o", config=config,
                           weight=weight, progress=False)
    assert not (tmp_path / "o").exists()


def test_same_task_with_more_methods_reuses_the_folder(corpora, tmp_path, monkeypatch, capsys):
    """Case 5, allowed side, and issue 21 item 8: other methods or seeds on the same task extend the folder,
    the report keeps every run of the folder (loaded, not retrained), and a line says so."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    base = ["compare", "--source", str(source), "--target", str(target), "--out", str(tmp_path / "o"), *QUICK]
    assert main(base) == 0
    checkpoint = tmp_path / "o" / "checkpoints" / "source-only-seed0-all.pt"  # the refit on every source speaker
    finished = checkpoint.stat().st_mtime_ns
    assert main([*base, "--methods", "mmd"]) == 0
    assert "also holds runs of methods ['source-only']" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert [run["method"] for run in metrics["runs"]] == ["source-only", "mmd"]
    assert "source-only" in (tmp_path / "o" / "report.md").read_text()
    assert checkpoint.stat().st_mtime_ns == finished, "the finished run was retrained"


def test_verify_names_truncated_silent_and_nan_files(tmp_path, capsys):
    """Case 6: verify decodes every file."""
    tree = BUILDERS["casia"](tmp_path / "casia")
    truncated, silent, nan = (next(tree.root.glob(f"{key}.[wW][aA][vV]")) for key in sorted(tree.rows)[:3])
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - 200])
    sf.write(silent, np.zeros(3200, np.float32), 16_000)
    sf.write(nan, np.full(3200, np.nan, np.float32), 16_000, subtype="FLOAT")
    assert data_fetch_main(["verify", "casia", "--root", str(tree.root)]) == 1
    out = capsys.readouterr().out
    for path, word in ((truncated, "truncated"), (silent, "silent"), (nan, "NaN")):
        line = next(line for line in out.splitlines() if str(path) in line)
        assert word in line, line


@pytest.mark.parametrize("damage", [b"", b"\x93NUMPY garbage", b"not numpy at all"], ids=["0-bytes", "bad-header", "junk"])
def test_damaged_cache_entry_is_a_miss_replaced_atomically(make_tone_corpus, tmp_path, damage):
    """Case 8: an entry that does not load as a spectrogram is recomputed and replaced."""
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    cache = tmp_path / "cache"
    first = extract_corpus(manifest, cache_dir=cache, progress=False)
    entries = sorted(cache.rglob("*.npy"))
    entries[0].write_bytes(damage)
    again = extract_corpus(manifest, cache_dir=cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first.spectrograms, again.spectrograms))
    assert not again.skipped
    assert any(np.array_equal(np.load(entries[0]), spec) for spec in first.spectrograms)  # replaced by a good entry
    assert not [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".npy"
                and p.parent.name != STAT_INDEX]  # no temporary file left (by-stat holds the digests)


def test_wrong_shape_cache_entry_is_a_miss(make_tone_corpus, tmp_path):
    """Case 8: a loadable entry of the wrong shape (other settings, hand-made) is not trusted."""
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    cache = tmp_path / "cache"
    first = extract_corpus(manifest, cache_dir=cache, progress=False)
    for entry in cache.rglob("*.npy"):
        np.save(entry, np.zeros((3, 4), np.float32))
    again = extract_corpus(manifest, cache_dir=cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first.spectrograms, again.spectrograms))


def test_short_audio_error_names_the_file_in_the_library(make_tone_corpus, tmp_path):
    """Case 9 through the library: the extractor's message names the file."""
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    path = manifest.loc[0, "path"]
    sf.write(path, 0.3 * np.ones(50, np.float32), 16_000)
    with pytest.raises(Exception, match="shorter than the 100 ms every method needs") as caught:
        extract_corpus(manifest, FeatureConfig(), cache_dir=tmp_path / "cache", strict=True, progress=False)
    assert path in str(caught.value)


def test_single_speaker_source_is_stated_in_the_report(corpora, tmp_path, monkeypatch, capsys):
    """Case 10: the stratified fallback runs without a traceback, and the report and metrics say so."""
    _, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    source = write_tone_corpus(tmp_path, "solo", per_class=4, speakers=1, seed=4)
    out = tmp_path / "o"
    assert main(["compare", "--source", str(source), "--target", str(target), "--out", str(out), *QUICK]) == 0
    assert "single speaker" in capsys.readouterr().out
    assert "single speaker" in (out / "report.md").read_text()
    assert json.loads((out / "metrics.json").read_text())["heldout_source_split"] == "utterance"


def test_ctrl_c_stops_with_one_line_and_resumes(corpora, tmp_path, monkeypatch, capsys):
    """Case 11: Ctrl-C during training exits 130 with one line; the same command resumes from the checkpoint."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    argv = ["compare", "--source", str(source), "--target", str(target), "--out", str(tmp_path / "o"),
            *QUICK, "--epochs", "2"]
    original = checkpoints.save

    def save_then_interrupt(*args, **kwargs):
        original(*args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save", save_then_interrupt)
        assert main(argv) == 130
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "resume" in lines[0] and "checkpoint" in lines[0] and "Traceback" not in err
    checkpoint = next((tmp_path / "o" / "checkpoints").glob("source-only-seed0*.pt"))  # the first run saved, then interrupted
    assert checkpoints.load_checkpoint(checkpoint)["epoch"] == 1
    assert main(argv) == 0
    history = json.loads((tmp_path / "o" / "metrics.json").read_text())["runs"][0]["epochs"]
    assert [row["epoch"] for row in history] == [1, 2]


@pytest.mark.parametrize("method", ALIGNMENT_METHODS)
def test_same_seed_gives_bit_identical_training(method):
    """Case 12: same seed, device (CPU) and thread count: the same weights and losses, whatever ran before.

    The global generators are set differently before each run, as other work
    in a notebook or an earlier run of a comparison would leave them.
    """
    source, target = blob_domain(24, 0.0, 0), blob_domain(16, 1.0, 1)
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.3)
    config = TrainConfig(epochs=3, batch_size=8, warmup_epochs=1, progress=False, device="cpu", cpu_threads=1)

    def run(disturbance: int):
        torch.manual_seed(disturbance), np.random.seed(disturbance), random.seed(disturbance)
        torch.randn(disturbance)
        alignment = make_alignment(method, feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
        result = train_didan(source, target, 2, alignment=alignment, config=config, model_config=model, seed=7)
        history = [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]
        return [p.detach().clone() for p in result.model.parameters()], history

    (weights_a, history_a), (weights_b, history_b) = run(11), run(12)
    assert history_a == history_b
    assert all(torch.equal(a, b) for a, b in zip(weights_a, weights_b))


def test_classical_reference_is_deterministic():
    """Case 12 for the opensmile-svm row: the same features give the same predictions, whatever ran before."""
    from didan_lite.classical import fit_reference

    rng = np.random.default_rng(0)
    source, labels = rng.normal(size=(30, 12)), np.arange(30) % 3
    heldout, target = rng.normal(size=(9, 12)), rng.normal(1.0, 1.0, size=(20, 12))
    fits = []
    for disturbance in (11, 12):
        np.random.seed(disturbance), random.seed(disturbance)
        fits.append(fit_reference(source, labels, heldout, target))
    assert np.array_equal(fits[0].target_pred, fits[1].target_pred)
    assert np.array_equal(fits[0].heldout_pred, fits[1].heldout_pred)


def test_progress_is_whole_lines_off_a_terminal(capsys):
    """Also: off a TTY (CI logs, | tee) progress is printed as whole lines, never carriage-return frames."""
    assert isinstance(progress_bar(range(3), desc="features"), LineProgress)
    for _ in progress_bar(range(3), desc="features"):
        pass
    err = capsys.readouterr().err
    assert "\r" not in err and err.splitlines()[-1].startswith("features: 3/3")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stream)
        bar = progress_bar(range(3), desc="features")
    assert not isinstance(bar, LineProgress)
    bar.close()
    assert not isinstance(progress_bar(range(3), enabled=False), LineProgress)


# ---------------------------------------------------------------- issue 21: cases beyond the table


def _compare_argv(source: Path, target: Path, out: Path, *extra: str) -> list[str]:
    return ["compare", "--source", str(source), "--target", str(target), "--out", str(out), *QUICK, *extra]


def _single_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_partial_overlap_runs_when_allowed_and_the_report_says_so(corpora, tmp_path, monkeypatch, capsys):
    """Item 1, allowed side: --allow-overlap runs, and the report and the metrics name the overlap."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    s = Setting(tmp_path, source, target, tmp_path / "o", data)
    _target_shares_audio(s)
    assert main(_compare_argv(s.source, s.target, s.out, "--allow-overlap")) == 0
    assert "1 of the 13 target file(s) are also source files" in capsys.readouterr().out
    assert "1 target file(s) are also source files" in (s.out / "report.md").read_text().splitlines()[0]
    assert json.loads((s.out / "metrics.json").read_text())["source_target_overlap"] == 1


def test_a_second_run_on_a_held_folder_is_refused_and_a_stale_lock_taken_over(corpora, tmp_path, monkeypatch, capsys):
    """Item 7 with two real processes: one holds --out; a second compare is refused naming it, writes and trains
    nothing; once the holder is killed (its lock left behind, stale), the same command runs."""
    import subprocess
    import sys

    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    out = tmp_path / "o"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom didan_lite.folders import hold_folder\n"
         f"with hold_folder({str(out)!r}):\n    print('held', flush=True)\n    time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        trained = []
        with monkeypatch.context() as patch:
            patch.setattr(experiment, "train_didan", lambda *a, **k: trained.append(1) or pytest.fail("trained"))
            assert main(_compare_argv(source, target, out)) == 2
        line = _single_error(capsys)
        assert "in use by another run" in line and f"process {holder.pid}" in line and "another --out" in line
        assert [p.name for p in out.iterdir()] == [".didan_lite.lock"] and not trained
    finally:
        holder.kill()
        holder.wait()
    assert (out / ".didan_lite.lock").read_text().split()[0] == str(holder.pid)  # killed: the lock is stale
    assert main(_compare_argv(source, target, out)) == 0
    assert f"took over the lock of process {holder.pid}" in capsys.readouterr().out
    assert (out / "report.md").is_file() and not (out / ".didan_lite.lock").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 48 kB file system (tmpfs), where the machine lets this process mount one."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if not ROOT_USER or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8); the disk-full case cannot be made here")
    import subprocess

    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()})")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("full", ["out", "cache"])
def test_a_full_disk_is_one_line_naming_the_folder(corpora, tmp_path, monkeypatch, capsys, small_disk, full):
    """Item 13: a full --out (a checkpoint does not fit) or feature cache: one line, exit 2, no partial file left."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(small_disk if full == "cache" else data))
    out = small_disk / "o" if full == "out" else tmp_path / "o"
    assert main(_compare_argv(source, target, out, "--strict")) == 2
    line = _single_error(capsys)
    assert "is full" in line and str(small_disk) in line and "run the same command again" in line
    assert not [p for p in small_disk.rglob("*.part")], "a partial file was left"


def test_skipped_files_are_one_clean_line_and_listed_in_the_output_folder(corpora, tmp_path, monkeypatch, capsys):
    """Item 23: without --strict an unusable file is skipped with one line (count and where the list is);
    no warning with a line of package source; the list names the file and why."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    s = Setting(tmp_path, source, target, tmp_path / "o", data)
    s.own_corpora()
    bad = _first_file(s)
    sf.write(bad, np.zeros(16_000, np.float32), 16_000)  # silent
    assert main(_compare_argv(s.source, s.target, s.out)) == 0
    captured = capsys.readouterr()
    listing = s.out / "skipped_files.tsv"
    said = [line for line in (captured.out + captured.err).splitlines() if "Skipped" in line]
    assert said == [f"Skipped 1 unusable audio file(s) (unreadable, silent, too short ...); the list with reasons is in "
                    f"{listing}. Pass --strict (strict=True) to stop on the first one instead."]
    assert "warnings.warn" not in captured.err and ".py:" not in captured.err
    rows = listing.read_text().splitlines()
    assert rows[0] == "path\treason" and rows[1].startswith(f"{bad}\t") and "silent" in rows[1]


def test_a_diverging_run_stops_with_one_line_and_is_not_finished(tmp_path):
    """Item 12 through the library: a loss that becomes non-finite stops training; no finished checkpoint is left."""
    config = TrainConfig(epochs=2, batch_size=8, progress=False, device="cpu", warmup_epochs=0, alignment_weight=1e300)
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    alignment = make_alignment("mmd", feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
    path = tmp_path / "mmd-seed0.pt"
    with pytest.raises(TrainingDiverged, match="diverged at epoch 1") as caught:
        train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, alignment=alignment, config=config,
                    model_config=model, checkpoint=path)
    assert "mmd-seed0.pt" in str(caught.value) and "\n" not in str(caught.value)
    assert not path.exists()


def _finished_checkpoint(tmp_path: Path) -> tuple[Path, Callable[[ModelConfig], None]]:
    config = TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu")
    path = tmp_path / "run.pt"

    def train(model: ModelConfig) -> None:
        train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, config=config, model_config=model, checkpoint=path)

    return path, train


@pytest.mark.parametrize("damage", ["layer-shapes", "no-optimiser"])
def test_a_checkpoint_that_does_not_load_completely_is_refused_by_name(tmp_path, damage):
    """Item 16: same fingerprint, other layer shapes or a missing part: one line naming the file, nothing trained."""
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    path, train = _finished_checkpoint(tmp_path)
    train(model)
    state = checkpoints.load_checkpoint(path)
    if damage == "layer-shapes":
        name = next(iter(state["model"]))
        state["model"][name] = torch.zeros(3, *state["model"][name].shape[1:])
    else:
        del state["optimiser"]
    torch.save(state, path)
    with pytest.raises(InputError, match="does not load completely" if damage == "layer-shapes" else "lacks optimiser"):
        if damage == "layer-shapes":
            train(model)
        else:
            from didan_lite.validation import check_checkpoints

            check_checkpoints([path])


def test_the_fingerprint_holds_the_architecture_and_the_version(tmp_path, monkeypatch):
    """Item 16: a checkpoint of another architecture or package version is another run's, not resumed."""
    from didan_lite import __version__

    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    path, train = _finished_checkpoint(tmp_path)
    train(model)
    fingerprint = json.loads(checkpoints.load_checkpoint(path)["fingerprint"])
    assert fingerprint["version"] == __version__ and ["output.weight", [2, 8]] in fingerprint["architecture"]
    monkeypatch.setattr(training, "__version__", "0.0.0-other")
    with pytest.raises(InputError, match="belongs to a run with other settings"):
        train(model)
