"""benchmarks/gpu_check.py on the CPU: its tiny mode end to end, the nvidia-smi sampler on a stand-in, a failing step.

GPU figures come only from a GPU: here the GPU columns must say n/a (no nvidia-smi on this machine),
and the sampler is checked against a stand-in ``nvidia-smi`` that prints fixed readings.
"""

from __future__ import annotations

import importlib

import json
import shutil
import sys

import pytest

from didan_lite.runtime import PRECISION_NAMES, autocast_dtype, pick_device


def _gpu_check():
    return importlib.import_module("benchmarks.gpu_check")


@pytest.mark.slow
def test_tiny_mode_writes_one_table_of_every_step(tmp_path, synthetic_pair):
    gpu_check = _gpu_check()
    assert gpu_check.main(["--tiny", "--out", str(tmp_path), "--synthetic", str(synthetic_pair[0].parents[1])]) == 0
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    rows = report["rows"]
    assert [row["step"] for row in rows] == ["tiny notebook", "tiny compare"]
    assert all(row["status"] == "ok" and row["wall_s"] > 0 and row["mode"] == "fast" for row in rows)
    runs = json.loads((tmp_path / "compare" / "metrics.json").read_text())["runs"]
    assert rows[0]["precision"] == "n/a"  # no deep run in the notebook
    assert rows[1]["precision"] == ", ".join(sorted({run["precision"] for run in runs})) == PRECISION_NAMES[autocast_dtype(pick_device())]
    has_smi = shutil.which("nvidia-smi") is not None
    assert all((row["peak_gpu_memory_mib"] is not None) == has_smi for row in rows), "GPU figures only from a GPU"
    assert report["total_wall_s"] == pytest.approx(sum(row["wall_s"] for row in rows), abs=0.2)
    table = (tmp_path / "gpu_check.md").read_text()
    assert table.count("\n| tiny ") == 2 and "30-minute goal" in table
    assert (tmp_path / "executed-tiny.ipynb").is_file() and (tmp_path / "compare" / "metrics.json").is_file()
    assert (tmp_path / "data" / "synthetic").resolve() == synthetic_pair[0].parents[1].resolve(), "the pair was reused"


def test_the_sampler_reads_nvidia_smi(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho '1234, 56'\necho '99, 1'\n")  # two GPUs: the first is the one used
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    with _gpu_check().GpuSampler(interval=0.05) as sampler:
        pass
    assert sampler.summary() == {"peak_gpu_memory_mib": 1234.0, "gpu_util_mean_pct": 56.0, "gpu_util_peak_pct": 56.0}


def test_a_failed_step_is_a_row_and_exit_status_1(tmp_path, monkeypatch):
    gpu_check = _gpu_check()
    monkeypatch.setattr(gpu_check, "steps", lambda tiny, out: [("bad", [sys.executable, "-c", "import sys; sys.exit('error: boom')"])])
    assert gpu_check.main(["--tiny", "--out", str(tmp_path)]) == 1
    (row,) = json.loads((tmp_path / "gpu_check.json").read_text())["rows"]
    assert row["status"] == "failed: error: boom"


def test_the_precision_is_read_from_the_runs_metrics_json(tmp_path, monkeypatch):
    gpu_check = _gpu_check()
    write = ("import json, pathlib, sys; p = pathlib.Path(sys.argv[1]); p.mkdir(parents=True); "
             "(p / 'metrics.json').write_text(json.dumps({'runs': [{'precision': 'bf16'}, {'precision': None}, {'precision': 'fp16'}]}))")
    monkeypatch.setattr(gpu_check, "steps", lambda tiny, out: [("writes", [sys.executable, "-c", write, str(out / "compare")]),
                                                              ("writes nothing", [sys.executable, "-c", "pass"])])
    assert gpu_check.main(["--tiny", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "gpu_check.json").read_text())["rows"]
    assert [row["precision"] for row in rows] == ["bf16, fp16", "n/a"]  # not the parent process's fp32
