"""Reference results: the shipped files load, match the benchmark's run format, and round-trip through make_reference."""

from __future__ import annotations

import importlib

import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from didan_lite.errors import InputError
from didan_lite.results import RunResult
from didan_lite.reference import (
    PROVENANCE_KEYS,
    REFERENCE_DIR,
    available_references,
    load_reference,
    read_reference,
    reference_runs,
)
from didan_lite.report import write_metrics
from didan_lite.verdicts import paired_verdict

ROOT = Path(__file__).resolve().parents[1]


def _make_reference():
    return importlib.import_module("benchmarks.make_reference").main


def _run(method: str, seed: int, target_uar: float) -> RunResult:
    return RunResult(method=method, seed=seed, target_uar=target_uar, target_war=target_uar + 0.01, source_uar=0.7,
                     proxy_a_distance=1.2, feature_rank=3.0, target_confusion=np.eye(3), history=[{"epoch": 1}],
                     source_features=np.zeros((4, 2)), target_features=np.zeros((4, 2)), seconds=5.0)


@dataclass
class _Config:
    epochs: int = 3


def _metrics_json(folder: Path) -> tuple[Path, list[RunResult]]:
    """A metrics.json written by the CLI's own writer (didan_lite.report.write_metrics)."""
    runs = [_run(m, seed, uar + 0.01 * seed) for seed in (1, 2, 3) for m, uar in (("source-only", 0.40), ("ida", 0.45))]
    split = SimpleNamespace(x=np.zeros((4, 1)))
    task = SimpleNamespace(corpus_names=("synth-a", "synth-b"), class_names=["anger", "neutral", "sadness"],
                           source_train=split, source_test=split, target=split, skipped=[], heldout_by="speaker")
    comparison = SimpleNamespace(task=task, weight=0.3, choices=[], runs=runs, out_dir=folder,
                                 table=lambda: pd.DataFrame([{"method": "ida"}]))
    return write_metrics(comparison, _Config()), runs


def test_every_shipped_reference_loads_with_its_provenance_and_the_run_format():
    tasks = available_references()
    assert {"synthetic", "B-C", "C-B"} <= set(tasks)
    for task in tasks:
        reference = load_reference(task)
        assert reference.task == task and (reference.runs["task"] == task).all()
        assert all(reference.provenance[key] for key in PROVENANCE_KEYS)
        assert reference.n_classes == len(reference.emotions) >= 2
        assert {"method", "seed", "target_uar", "source_heldout_uar"} <= set(reference.runs.columns)
        assert "epochs" not in reference.runs and not reference.runs.map(lambda v: isinstance(v, (list, dict))).any().any()
        assert not reference.runs.duplicated(["method", "seed"]).any()
        assert (REFERENCE_DIR / f"{task}.json").stat().st_size < 100_000


def test_table_and_verdicts_follow_the_paired_rule():
    reference = load_reference("synthetic")
    table = reference.table().set_index("method")
    verdicts = {v.method: v for v in reference.verdicts()}
    assert set(verdicts) == set(table.index) - {"source-only"}
    for method, verdict in verdicts.items():
        again = paired_verdict(reference.runs, method, n_classes=reference.n_classes)
        assert verdict == again and table.loc[method, "verdict"] == verdict.verdict
        assert table.loc[method, "difference"] == pytest.approx(verdict.mean_difference)
    mean = 100 * reference.runs.loc[reference.runs["method"] == "ida", "target_uar"].mean()
    assert table.loc["ida", "target_uar_mean"] == pytest.approx(mean)
    assert "synthetic" in reference.describe()


def test_make_reference_round_trips_the_clis_metrics_json(tmp_path):
    metrics, runs = _metrics_json(tmp_path / "run")
    code = _make_reference()([str(metrics), "--task", "toy", "--out", str(tmp_path / "ref"), "--mode", "fast",
                              "--command", "didan-lite compare ...", "--commit", "0" * 40])
    assert code == 0
    reference = read_reference(tmp_path / "ref" / "toy.json")
    assert reference.emotions == ("anger", "neutral", "sadness")
    assert reference.provenance["mode"] == "fast" and reference.provenance["date"] == "not recorded"
    expected = pd.DataFrame([{k: v for k, v in run.summary().items() if k != "epochs"} for run in runs])
    pd.testing.assert_frame_equal(reference.runs.drop(columns="task"), expected, check_dtype=False)
    assert [v.method for v in reference.verdicts()] == ["ida"]


def test_make_reference_reads_results_json_and_refuses_bad_input(tmp_path, capsys):
    metrics, _ = _metrics_json(tmp_path / "bench" / "toy")
    record = json.loads(metrics.read_text())
    results = {"command": "python benchmarks/cross_corpus.py --task toy", "date_started": "2026-12-03T09:00+00:00",
               "machine": {"platform": "Linux", "cpu_count": 2}, "tasks": {"toy": {"runs": record["runs"]}}}
    (tmp_path / "bench" / "results.json").write_text(json.dumps(results))
    make = _make_reference()
    assert make([str(tmp_path / "bench" / "results.json"), "--task", "toy", "--out", str(tmp_path)]) == 0
    reference = read_reference(tmp_path / "toy.json")
    assert reference.emotions == ("anger", "neutral", "sadness")  # from the task's metrics.json beside results.json
    assert reference.provenance["command"] == results["command"] and "cpu_count 2" in reference.provenance["machine"]
    assert len(reference.runs) == 6
    capsys.readouterr()
    assert make([str(tmp_path / "bench" / "results.json"), "--task", "B-C", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: ") and not (tmp_path / "B-C.json").exists()
    assert make([str(metrics), str(metrics), "--task", "toy", "--out", str(tmp_path / "twice")]) == 2
    assert "more than one output" in capsys.readouterr().err
    record["runs"][0]["target_uar"] = "high"  # a file that would not load is never written
    metrics.write_text(json.dumps(record))
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "toy.json").write_text("the file already there")
    assert make([str(metrics), "--task", "toy", "--out", str(tmp_path / "kept")]) == 2
    assert "toy.json (not written)" in capsys.readouterr().err
    assert (tmp_path / "kept" / "toy.json").read_text() == "the file already there"


def test_unknown_task_and_damaged_file_are_named(tmp_path):
    with pytest.raises(InputError, match="available: .*synthetic"):
        load_reference("no-such-task")
    damaged = tmp_path / "x.json"
    damaged.write_text(json.dumps({"format": 1, "task": "x", "emotions": ["a", "b"], "runs": [], "provenance": {}}))
    with pytest.raises(InputError, match="provenance.command"):
        read_reference(damaged)


def test_report_tables_give_paired_intervals_per_task_and_pooled_and_label_class_alignment():
    from didan_lite.report import paired_markdown, plot_alignment_map, runs_markdown

    runs = reference_runs("B-C", "C-B", methods=["source-only", "ida"]).drop(columns=["class_alignment"], errors="ignore")
    assert set(runs["task"]) == {"B-C", "C-B"} and set(runs["method"]) == {"source-only", "ida"}
    assert len(runs) == sum(len(load_reference(t).runs.query("method in ['source-only', 'ida']")) for t in ("B-C", "C-B"))
    table = paired_markdown(runs, 5)
    pooled = paired_verdict(runs, "ida", n_classes=5)
    n_ida = int((runs.method == 'ida').sum())
    assert f"| pooled | ida | {n_ida} | {100 * runs[runs.method == 'ida'].target_uar.mean():.1f} ± " in table
    assert f"{pooled.mean_difference:+.1f} {pooled.interval()} | {pooled.paired_sd:.1f} | {pooled.verdict} |" in table
    assert "| B-C | source-only |" in table and "(baseline)" in table and "class alignment" not in table
    records = runs.to_dict(orient="records")
    records[0] |= {"class_alignment": 0.42, "precision": "fp32"}
    assert "class alignment % (reads target labels: evaluation only)" in paired_markdown(pd.DataFrame(records), 5)
    lines = runs_markdown(records).splitlines()
    assert lines[0].endswith("| class alignment % (eval. only) | precision |") and lines[2].endswith("| 42.0 | fp32 |")
    figure = plot_alignment_map(records)
    assert "reads target labels" in figure.axes[0].get_title() and len(figure.axes[0].collections) == 1


def test_cite_is_one_short_line_with_a_link_not_the_provenance_block():
    from didan_lite.reference import load_reference

    reference = load_reference("synthetic")
    line = reference.cite()
    assert "\n" not in line and len(line) < 250
    assert str(reference.provenance["commit"])[:7] not in line and "command" not in line
    assert line.endswith("didan_lite/reference_results/synthetic.json")
