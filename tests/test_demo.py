"""``make demo``: the DEMO preset, the CLI's --demo and the reference printed beside the run.

The demo's time is measured, not tested here: benchmarks/results/demo_time.txt.
"""

from __future__ import annotations

import dataclasses
import re
from types import SimpleNamespace

import pandas as pd
import pytest

import didan_lite.synthetic

from conftest import REPO
from didan_lite import experiment
from didan_lite.alignment import make_alignment
from didan_lite.cli import beside_reference, main
from didan_lite.presets import DEMO, FAST, preset
from didan_lite.reference import load_reference


def test_the_demo_is_fast_mode_on_one_seed_at_the_references_fixed_weight():
    assert preset("demo") is DEMO
    assert DEMO.config == FAST.config and DEMO.max_per_class == FAST.max_per_class and len(DEMO.seeds) == 1
    reference = load_reference(DEMO.reference).runs
    aligning = [m for m in DEMO.methods if make_alignment(m, feature_dims=[8, 5], class_names=list("abcde")) is not None]
    assert aligning and set(DEMO.methods) <= set(reference["method"])
    for method in aligning:
        weights = set(reference.loc[reference["method"] == method, "alignment_weight"])
        assert weights == {DEMO.weight}, f"{method}: the reference trained at {weights}"
    assert DEMO.weight > 0, "a weight of 0 would make MMD and IDA source-only's model under other names"


def test_make_demo_runs_the_demo_preset():
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.MULTILINE)[1]
    assert "didan_lite compare --demo" in recipe


def _table(methods, weights, uar=40.0):
    return pd.DataFrame({"method": methods, "seeds": 1, "target_uar_mean": uar, "weight": weights})


def test_beside_reference_sets_each_method_by_the_references_mean_and_verdict():
    reference = load_reference("synthetic")
    text = beside_reference(_table(["source-only", "mmd", "ida", "coral"], [None, 0.1, 0.1, 0.1]), "synthetic")
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ") and "---" not in line}
    for method in ("source-only", "mmd", "ida"):
        mean = 100 * reference.runs.loc[reference.runs["method"] == method, "target_uar"].mean()
        assert f"{mean:.1f} +- " in rows[method]
    assert "0.1 / 0.1" in rows["mmd"] and "- / -" in rows["source-only"]
    assert "not in the reference" in rows["coral"]
    verdict = reference.table().set_index("method").loc["ida", "verdict"]
    assert verdict and verdict in rows["ida"] and not rows["source-only"].rstrip(" |").endswith(":")
    assert text.rstrip().endswith(reference.describe())


@pytest.mark.parametrize("extra", [["--task", "B-C"], ["--weight", "0.3"], ["--fast"], ["--synthetic-seed", "3"]])
def test_demo_refuses_options_it_fixes_in_one_line(extra, capsys, tmp_path):
    assert main(["compare", "--demo", "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: --demo fixes") and extra[0] in err


def test_demo_trains_the_preset_and_prints_the_reference_beside(monkeypatch, tmp_path, capsys, make_tone_corpus):
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "data"))
    pair = make_tone_corpus("synth-studio", per_class=80), make_tone_corpus("synth-phone", per_class=2)
    monkeypatch.setattr(didan_lite.synthetic, "make_default_corpora", lambda seed=0: pair)  # stands in: no generation
    calls = {}

    def fake_compare(source, target, **kwargs):
        calls.update(kwargs, source=source, target=target)
        table = _table(list(kwargs["methods"]), [None, kwargs["weight"], kwargs["weight"]])
        return SimpleNamespace(table=lambda: table, out_dir=tmp_path / "o")

    monkeypatch.setattr(experiment, "compare", fake_compare)
    monkeypatch.setattr(experiment, "results_markdown", lambda table: "the run's own table")
    assert main(["compare", "--demo", "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert calls["weight"] == DEMO.weight and list(calls["seeds"]) == list(DEMO.seeds)
    assert calls["config"].train.batch_size == DEMO.config.train.batch_size
    assert dataclasses.replace(calls["config"], strict=False, weight_criterion=DEMO.config.weight_criterion,
                               train=DEMO.config.train) == DEMO.config
    assert calls["source"]["emotion"].value_counts().max() == DEMO.max_per_class < 80, "the preset's subset"
    out = capsys.readouterr().out
    assert "Demo mode (didan_lite.presets.DEMO)" in out and f"alignment weight fixed at {DEMO.weight:g}" in out
    assert "Beside the reference (synthetic" in out and "may choose no alignment" in out
