"""Fast and full mode presets, the class-balanced subset, the CLI's --fast and the mirrored synthetic stand-ins."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import didan_lite.synthetic
from data_fetch import notebook_data
from didan_lite.alignment import ALIGNMENT_METHODS
from didan_lite.cli import build_parser
from didan_lite.errors import InputError
from didan_lite.manifest import balanced_subset
from didan_lite.model import ModelConfig
from didan_lite.model_selection import DEFAULT_CANDIDATES
from didan_lite.presets import FAST, FULL, preset
from didan_lite.config import ExperimentConfig


def test_preset_follows_the_fast_switch_and_names(monkeypatch):
    monkeypatch.setenv("DIDAN_LITE_FAST", "1")
    assert preset() is FAST
    monkeypatch.setenv("DIDAN_LITE_FAST", "0")
    assert preset() is FULL
    assert preset("FAST") is FAST and preset("full") is FULL
    with pytest.raises(InputError, match="fast, full"):
        preset("quick")


def test_presets_are_consistent():
    for run in (FAST, FULL):
        assert set(run.methods) <= set(ALIGNMENT_METHODS) and run.methods[0] == "source-only"
        assert len(set(run.seeds)) == len(run.seeds) >= 2
    assert FULL.max_per_class is None and FAST.max_per_class >= 20
    assert FAST.config.train.epochs <= FULL.config.train.epochs
    assert FAST.with_progress(True).config.train.progress and not FAST.config.train.progress
    # fast mode tries fewer weights, but from the default grid and at least two: notebook 5's weight lesson needs a choice
    assert set(FAST.config.weight_candidates) <= set(DEFAULT_CANDIDATES) and len(FAST.config.weight_candidates) >= 2
    assert FULL.config.weight_candidates == DEFAULT_CANDIDATES
    # fewer input frames, never more, and the full mode keeps the experiment's default input and protocol
    assert FAST.config.features.n_frames <= FULL.config.features.n_frames == ExperimentConfig().features.n_frames
    assert FULL.config.refit and FULL.config.selection_folds >= 2
    # the library's architecture in both modes: fast mode only switches dropout (and weight decay) off
    assert FULL.config.model == ModelConfig() and FAST.config.model.dropout == 0
    assert dataclasses.replace(FAST.config.model, dropout=ModelConfig().dropout) == ModelConfig()
    # method options only for methods the preset trains (and the label-aware IDA readings notebook 4 trains with
    # it); full mode keeps every method's library defaults
    assert set(FAST.config.method_options) <= {*FAST.methods, "ida-class", "ida-layer"} and not FULL.config.method_options
    assert len({str(options) for method, options in FAST.config.method_options.items() if method.startswith("ida")}) == 1


def test_balanced_subset_caps_each_emotion_and_is_reproducible():
    frame = pd.DataFrame({"emotion": ["anger"] * 10 + ["sadness"] * 3, "path": [f"f{i}.wav" for i in range(13)]})
    subset = balanced_subset(frame, 4, seed=0)
    assert subset["emotion"].value_counts().to_dict() == {"anger": 4, "sadness": 3}
    assert subset.equals(balanced_subset(frame, 4, seed=0))
    assert not subset.equals(balanced_subset(frame, 4, seed=1))
    assert list(subset["path"]) == sorted(subset["path"], key=lambda p: int(p[1:-4]))  # manifest order kept
    assert len(balanced_subset(frame, None)) == 13
    with pytest.raises(InputError, match="max_per_class=0"):
        balanced_subset(frame, 0)


def test_cli_fast_flag_parses_and_leaves_seeds_to_the_preset():
    args = build_parser().parse_args(["compare", "--fast"])
    assert args.fast and args.seeds is None
    assert build_parser().parse_args(["compare", "--fast", "--seeds", "5,6"]).seeds == [5, 6]


@pytest.mark.parametrize(("task", "mirrored"), [("B-C", False), ("C-B", True), ("B-E", False), ("E-B", True),
                                                 ("E-C", False), ("C-E", True)])
def test_synthetic_stand_ins_keep_the_task_direction(tmp_path, monkeypatch, make_tone_corpus, task, mirrored):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(notebook_data.CORPORA_ENV_VAR, raising=False)
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "cache"))
    studio, phone = make_tone_corpus("synth-studio"), make_tone_corpus("synth-phone")
    monkeypatch.setattr(didan_lite.synthetic, "make_default_corpora", lambda: (studio, phone))
    data = notebook_data.task_manifests(task)
    assert data.is_synthetic
    assert (data.source, data.target) == ((phone, studio) if mirrored else (studio, phone))
