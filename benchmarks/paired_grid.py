"""Paired benchmark grid: for every seed, every method from the same initial weights and batch order, seed-major.

    python benchmarks/paired_grid.py --task B-C --seeds 701,702,703 --weights '{"mmd": 0.1, "ida": 0.1}' \\
        --heldout benchmarks/results/round9/selection.json --data-root ../shared/corpora --out benchmarks/results/round9/B-C

The protocol of :func:`didan_lite.experiment.compare` with the weights fixed in advance (chosen on held-out
source speakers, never on target labels): each seed's final model is trained on all source speakers
(``ExperimentConfig.refit``), so its held-out source UAR is the one the selection runs measured, read from
``--heldout`` (task -> method -> UAR). Seeds run in the outer loop, so a grid stopped early holds complete
seeds: after every run the task's ``metrics.json`` (the CLI's format) and ``grid.json`` are rewritten.
:func:`summarise` merges the tasks' ``grid.json`` into ``results.json`` / ``results.md`` with the per-seed
differences to source-only and their 95 % t-intervals.

``knn_class_agreement`` is an ORACLE figure (it reads target labels, evaluation only): the share of target
utterances whose five nearest source utterances (standardised features of the aligned layer) vote for the
target's own emotion.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from didan_lite.atomic import atomic_write
from didan_lite.experiment import Comparison, ExperimentConfig, load_task, run_classical, run_method
from didan_lite.report import write_metrics

sys.path.insert(0, str(Path(__file__).parent))
from cross_corpus import task_manifests  # noqa: E402  (benchmarks/ is not a package)


def knn_class_agreement(source_features: np.ndarray, source_labels: np.ndarray, target_features: np.ndarray,
                        target_labels: np.ndarray, k: int = 5) -> float:
    """ORACLE: share of targets whose k nearest sources (standardised features) vote for the target's emotion."""
    scaler = StandardScaler().fit(np.concatenate([source_features, target_features]))
    vote = KNeighborsClassifier(n_neighbors=k).fit(scaler.transform(source_features), source_labels)
    return float((vote.predict(scaler.transform(target_features)) == target_labels).mean())


def provenance(argv: list[str]) -> dict:
    """Command, commit, date and machine of a benchmark."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    return {"command": " ".join(["python", *argv]), "commit": commit,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs shared, torch {torch.__version__}, one torch thread per run"}


def run_grid(args: argparse.Namespace) -> None:
    config = ExperimentConfig(train=ExperimentConfig().train.__class__(progress=False, monitor_every=0))
    weights, heldout = json.loads(args.weights), json.loads(Path(args.heldout).read_text()) if args.heldout else {}
    source, target, emotions = task_manifests(args.task, args.data_root)
    task = load_task(source, target, emotions=emotions, config=config, progress=False)
    comparison = Comparison(task, [], args.out, weight="auto")
    rows, began = [], time.perf_counter()
    for seed in [int(s) for s in args.seeds.split(",")]:
        for method in args.methods.split(","):
            if method == "opensmile-svm":
                run = run_classical(task, seed, config)
            else:
                weight = weights.get(method)
                train = config.train if weight is None else config.train.__class__(
                    **{**config.train.__dict__, "alignment_weight": float(weight)})
                run = run_method(task, method, seed, ExperimentConfig(**{**config.__dict__, "train": train}), split="all")
                run.source_uar = heldout.get(args.task, {}).get(method, float("nan"))
                run.heldout_from = f"selection runs ({args.heldout})"
                run.weight_reason = "fixed in advance on held-out source speakers" if weight is not None else ""
            labels = task.source_all.y.numpy() if run.trained_on == "all source speakers" else task.source_train.y.numpy()
            rows.append({"task": args.task, "method": method, "seed": seed, "target_uar": run.target_uar,
                         "source_heldout_uar": run.source_uar, "proxy_a_distance": run.proxy_a_distance,
                         "feature_effective_rank": run.feature_rank, "seconds": run.seconds,
                         "alignment_weight": run.alignment_weight, "trained_on": run.trained_on,
                         "knn_class_agreement": knn_class_agreement(run.source_features, labels, run.target_features,
                                                                    task.target.y.numpy()), **run.extra})
            comparison.runs.append(run)
            write_metrics(comparison, config)
            with atomic_write(args.out / "grid.json", "w") as handle:
                json.dump({**provenance(sys.argv), "elapsed_s": time.perf_counter() - began, "rows": rows}, handle, indent=1)
            print(json.dumps(rows[-1]), flush=True)


def paired(rows: list[dict], method: str, tasks: list[str]) -> tuple[list[float], str]:
    """Per-seed target UAR differences (points) of ``method`` to source-only over ``tasks``, and mean [95 % t-CI]."""
    by_key = {(r["task"], r["seed"], r["method"]): r["target_uar"] for r in rows}
    diffs = [100 * (by_key[(t, s, method)] - by_key[(t, s, "source-only")]) for (t, s, m) in by_key
             if m == method and t in tasks and (t, s, "source-only") in by_key]
    if len(diffs) < 2:
        return diffs, "n/a"
    mean, half = np.mean(diffs), stats.t.ppf(0.975, len(diffs) - 1) * np.std(diffs, ddof=1) / np.sqrt(len(diffs))
    return diffs, f"{mean:+.1f} [{mean - half:+.1f}, {mean + half:+.1f}] (n={len(diffs)})"


def summarise(folders: list[Path], out: Path, heldout: dict) -> None:
    """Merge the tasks' grid.json into results.json / results.md (per-run rows, means, paired intervals);
    ``heldout`` (task -> method -> UAR of the selection runs) fills the held-out source column."""
    grids = [json.loads((f / "grid.json").read_text()) for f in folders if (f / "grid.json").is_file()]
    rows = [r for g in grids for r in g["rows"]]
    for r in rows:
        r["source_heldout_uar"] = heldout.get(r["task"], {}).get(r["method"], r["source_heldout_uar"])
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    lines = [f"# Paired grid ({grids[0]['date']})", "", f"Commit {grids[0]['commit']}; machine: {grids[0]['machine']}.", "",
             "Commands:", ""] + [f"- `{g['command']}` ({g['elapsed_s']:.0f} s)" for g in grids] + ["",
             "Target UAR %, mean ± sd over seeds (every seed's model trained on all source speakers); held-out source "
             "UAR % from the selection runs; kNN class agreement % is an ORACLE figure (reads target labels).", "",
             "| task | method | seeds | target UAR % | held-out source UAR % | proxy A-distance | feature rank | kNN class agreement % | weight | s / run |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for t in tasks:
        for m in methods:
            sel = [r for r in rows if r["task"] == t and r["method"] == m]
            if not sel:
                continue
            u = 100 * np.array([r["target_uar"] for r in sel])
            sd = u.std(ddof=1) if len(u) > 1 else 0.0
            weight = sel[0]["alignment_weight"]
            lines.append(f"| {t} | {m} | {len(sel)} | {u.mean():.1f} ± {sd:.1f} | {100 * sel[0]['source_heldout_uar']:.1f} | "
                         f"{np.mean([r['proxy_a_distance'] for r in sel]):.2f} | {np.mean([r['feature_effective_rank'] for r in sel]):.1f} | "
                         f"{100 * np.mean([r['knn_class_agreement'] for r in sel]):.1f} | {'-' if weight is None else f'{weight:g}'} | "
                         f"{np.mean([r['seconds'] for r in sel]):.0f} |")
    lines += ["", "Paired differences to source-only (target UAR points, same seed; mean [95 % t-interval]):", "",
              "| method | " + " | ".join(tasks) + " | pooled |", "|---|" + "---|" * (len(tasks) + 1)]
    summary = {}
    for m in methods:
        if m == "source-only":
            continue
        cells = [paired(rows, m, [t])[1] for t in tasks] + [paired(rows, m, tasks)[1]]
        summary[m] = dict(zip([*tasks, "pooled"], cells))
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    so = [r for r in rows if r["method"] == "source-only" and r["task"] in ("B-C", "C-B")]
    if {r["task"] for r in so} == {"B-C", "C-B"}:
        means = [100 * np.mean([r["target_uar"] for r in so if r["task"] == t]) for t in ("B-C", "C-B")]
        lines += ["", f"Source-only, mean of B->C and C->B: {np.mean(means):.1f} UAR (goal 41.0)."]
    lines += ["", "Per run:", "", "| task | method | seed | target UAR % | PAD | rank | kNN % | s |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['method']} | {r['seed']} | {100 * r['target_uar']:.1f} | {r['proxy_a_distance']:.2f} | "
              f"{r['feature_effective_rank']:.1f} | {100 * r['knn_class_agreement']:.1f} | {r['seconds']:.0f} |" for r in rows]
    with atomic_write(out / "results.md", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    with atomic_write(out / "results.json", "w") as handle:
        json.dump({"provenance": [{k: g[k] for k in ("command", "commit", "date", "machine", "elapsed_s")} for g in grids],
                   "paired_differences": summary, "rows": rows}, handle, indent=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="B-C")
    parser.add_argument("--methods", default="source-only,mmd,ida")
    parser.add_argument("--seeds", default="701,702,703,704,705,706,707,708,709,710")
    parser.add_argument("--weights", default="{}", help='fixed alignment weight per method, JSON')
    parser.add_argument("--heldout", help="JSON file: task -> method -> held-out source UAR of the selection runs")
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summarise", nargs="*", type=Path, help="only merge these task folders' grid.json into --out")
    args = parser.parse_args()
    if args.summarise is not None:
        summarise(args.summarise, args.out, json.loads(Path(args.heldout).read_text()) if args.heldout else {})
    else:
        run_grid(args)


if __name__ == "__main__":
    main()
