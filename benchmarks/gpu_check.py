"""GPU check in one call: every notebook in full mode and the default comparison, one table of what it cost.

    python -m benchmarks.gpu_check [--out runs/gpu-check]        # on a GPU machine (make gpu-check)
    python -m benchmarks.gpu_check --tiny [--out runs/gpu-check]  # the same machinery in about a minute on a CPU

Full mode (the default) executes each teaching notebook (``notebooks/NN_*.ipynb``) with
``DIDAN_LITE_FAST=0`` in a fresh kernel, from the notebooks' folder and against this checkout, writing
the executed copy under ``--out`` (the committed notebooks are never touched), then runs the default
comparison (``python -m didan_lite compare``, the ``make demo`` job). ``--tiny`` runs a two-cell
notebook and a two-epoch, one-seed comparison in fast mode instead: it checks the script, not a GPU.

For every step the table gives the wall time, the peak GPU memory in use and the mean and peak GPU
utilisation (``nvidia-smi``, sampled every second; "n/a" where there is none), the precision the step's
runs trained in, read from the ``metrics.json`` files the step wrote (every run records its own; "n/a" for a
step without a deep run), and the device's name;
a last row sums the wall times against the goal of 30 minutes on a Colab-class GPU. Written to
``<out>/gpu_check.md`` and ``<out>/gpu_check.json``. Exit status 1 when a step failed (its row says why).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from didan_lite.atomic import atomic_write

REPO = Path(__file__).resolve().parents[1]

GOAL_SECONDS = 30 * 60
"""The whole sequence in full mode on a Colab-class GPU (issue 20)."""
TINY_NOTEBOOK = [
    "import didan_lite\nfrom didan_lite.runtime import fast_mode, pick_device\nprint(didan_lite.__version__, pick_device(), fast_mode())",
    "import torch\nx = torch.randn(256, 256, device=pick_device())\nprint(float((x @ x).sum()) == float((x @ x).sum()))",
]


class GpuSampler:
    """Samples ``nvidia-smi`` (memory in use, MiB; utilisation, %) every ``interval`` s while a step runs."""

    QUERY = ["nvidia-smi", "--query-gpu=memory.used,utilization.gpu", "--format=csv,noheader,nounits"]

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self.available = shutil.which("nvidia-smi") is not None
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "GpuSampler":
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.available:
            self._sample()  # at least one reading, however short the step

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        try:
            out = subprocess.run(self.QUERY, capture_output=True, text=True, timeout=10).stdout
            first = out.strip().splitlines()[0]  # GPU 0: the one torch uses by default
            memory, utilisation = (float(value) for value in first.split(","))
        except (OSError, subprocess.SubprocessError, IndexError, ValueError):
            return
        self.samples.append((memory, utilisation))

    def summary(self) -> dict:
        """Peak memory (MiB) and mean/peak utilisation (%) over the samples; None without nvidia-smi."""
        if not self.samples:
            return {"peak_gpu_memory_mib": None, "gpu_util_mean_pct": None, "gpu_util_peak_pct": None}
        memory, utilisation = zip(*self.samples)
        return {"peak_gpu_memory_mib": max(memory), "gpu_util_mean_pct": round(sum(utilisation) / len(utilisation), 1),
                "gpu_util_peak_pct": max(utilisation)}


def device_name() -> str:
    """The GPU's name, else the CPU's."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def run_notebook(path: Path, out: Path, environment: dict[str, str], timeout: int, workdir: Path) -> None:
    """Execute ``path`` in ``workdir`` (its ``runs/`` start empty); write the executed copy to ``out`` (also on failure)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}}, record_timing=False)
    try:
        client.execute(env=environment)
    finally:
        notebook.metadata.pop("widgets", None)
        with atomic_write(out, "w", encoding="utf-8") as handle:
            nbformat.write(notebook, handle)


def metrics_files(root: Path) -> dict[Path, int]:
    """Every ``metrics.json`` under ``root`` and its modification time (ns)."""
    return {path: path.stat().st_mtime_ns for path in root.rglob("metrics.json")}


def run_precisions(root: Path, before: dict[Path, int]) -> str:
    """The precisions ("bf16", "fp16", "fp32") recorded by the runs of every ``metrics.json`` under ``root`` that is
    new or changed since ``before`` (:func:`metrics_files`), comma-separated; "n/a" when there is none."""
    found = set()
    for path, modified in metrics_files(root).items():
        if before.get(path) == modified:
            continue
        try:
            runs = json.loads(path.read_text(encoding="utf-8")).get("runs", [])
        except (OSError, ValueError, AttributeError):  # unreadable or not a comparison's metrics.json
            continue
        found |= {str(run["precision"]) for run in runs if isinstance(run, dict) and run.get("precision")}
    return ", ".join(sorted(found)) or "n/a"


def steps(tiny: bool, out: Path) -> list[tuple[str, object]]:
    """(name, action) of every step; an action is a notebook path or a command line."""
    if tiny:
        notebook = out / "tiny.ipynb"
        notebook.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in TINY_NOTEBOOK])))
        compare = ["--fast", "--seeds", "0", "--methods", "source-only,mmd", "--epochs", "2", "--weight", "0.5", "--no-figures"]
        return [("tiny notebook", notebook), ("tiny compare", [sys.executable, "-m", "didan_lite", "compare", *compare,
                                                             "--out", str(out / "compare"), "--quiet"])]
    notebooks = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [(path.name, path) for path in notebooks] + [
        ("default compare", [sys.executable, "-m", "didan_lite", "compare", "--out", str(out / "compare"), "--quiet"])]


def check(out: Path, tiny: bool, timeout: int, synthetic: Path | None = None) -> list[dict]:
    """Run every step, one after another (later notebooks reuse earlier ones' feature cache); one row each.

    ``synthetic``: a folder holding the generated synthetic pair, linked in instead of generating it again
    (the tests' shortcut: its generation is then not timed).
    """
    if out.exists() and any(out.iterdir()):  # finished runs and a warm cache would be timed as GPU work
        raise SystemExit(f"error: {out} is not empty; give a new --out, so that nothing is loaded instead of trained.")
    workdir, data = out / "work", out / "data"  # the notebooks' runs/ and the corpora/feature cache start empty
    workdir.mkdir(parents=True), data.mkdir()
    if synthetic is not None:
        (data / "synthetic").symlink_to(synthetic.resolve(), target_is_directory=True)
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    environment = {**os.environ, "DIDAN_LITE_FAST": "1" if tiny else "0", "DIDAN_LITE_DATA": str(data),
                   "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}
    rows = []
    for name, action in steps(tiny, out):
        print(f"{name} ...", flush=True)
        began, before, status = time.perf_counter(), metrics_files(out), "ok"
        with GpuSampler() as sampler:
            try:
                if isinstance(action, Path):
                    run_notebook(action, out / f"executed-{action.name}", environment, timeout, workdir)
                else:
                    result = subprocess.run(action, cwd=REPO, env=environment, capture_output=True, text=True)
                    if result.returncode != 0:
                        status = "failed: " + ((result.stderr.strip().splitlines() or ["no message"])[-1])[:200]
            except Exception as exc:  # a failed cell: recorded in the table, and the next step still runs
                status = "failed: " + (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]
        rows.append({"step": name, "mode": "fast" if tiny else "full", "wall_s": round(time.perf_counter() - began, 1),
                     **sampler.summary(), "precision": run_precisions(out, before), "device": device_name(), "status": status})
        print(f"  {rows[-1]['wall_s']:.0f} s, {status}", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    """One table: a row per step, then the total against the 30-minute goal."""
    def cell(value) -> str:
        return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    columns = ["step", "mode", "wall_s", "peak_gpu_memory_mib", "gpu_util_mean_pct", "gpu_util_peak_pct", "precision", "device", "status"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    total = sum(row["wall_s"] for row in rows)
    verdict = "within" if total <= GOAL_SECONDS else "over"
    lines.append(f"\nTotal wall time {total / 60:.1f} min ({verdict} the 30-minute goal); torch {torch.__version__}, "
                 f"CUDA {torch.version.cuda or 'none'}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "gpu-check", help="output folder (default runs/gpu-check)")
    parser.add_argument("--tiny", action="store_true", help="a two-cell notebook and a two-epoch comparison, fast mode")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per notebook cell (default 3600)")
    parser.add_argument("--synthetic", type=Path, help="reuse the synthetic pair generated in this folder (not timed)")
    args = parser.parse_args(argv)
    rows = check(args.out.resolve(), args.tiny, args.timeout, args.synthetic)
    table = markdown(rows)
    with atomic_write(args.out / "gpu_check.json", "w") as handle:
        json.dump({"rows": rows, "total_wall_s": round(sum(r["wall_s"] for r in rows), 1), "goal_s": GOAL_SECONDS,
                   "torch": torch.__version__, "cuda": torch.version.cuda}, handle, indent=2)
    with atomic_write(args.out / "gpu_check.md", "w") as handle:
        handle.write(table)
    print(table)
    return 0 if all(row["status"] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
