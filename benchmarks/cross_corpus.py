"""Cross-corpus benchmark: tasks x methods x seeds on real corpora, with the protocol fixed in advance.

    python -m benchmarks.cross_corpus --task B-C,C-B --seeds 21,22,23 --data-root ../shared/corpora \\
        --out benchmarks/results/real

Methods default to every method of the package: ``opensmile-svm`` (the
classical reference), source-only, MMD, CORAL, DANN and each IDA variant.
The alignment weight is chosen per task and method without target labels
(``--weight auto``: the one-standard-error rule on held-out source speakers by
default, or DEV with ``--criterion dev``; see :mod:`didan_lite.model_selection`)
unless a number is given.

Methods run in the outer loop and tasks in the inner one, and after every
(method, task) the task's ``metrics.json`` / ``report.md`` and the combined
``results.md`` / ``results.json`` are rewritten, so a benchmark stopped early
leaves every finished method on disk; started again with the same arguments it
resumes from the checkpoints of ``--out`` (finished runs are loaded, not
retrained). ``--task synthetic`` runs the embedded pair; ``--target-channel telephone``
re-records each target corpus through a simulated telephone channel first (a channel condition on top of the
corpus gap).

The one place that reads target labels for anything but scoring is the table
marked ORACLE: each candidate weight's target UAR on the selection seed,
printed so that the unsupervised choice can be judged, never used for it.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from data_fetch import task_manifest_paths
from didan_lite.atomic import atomic_write
from didan_lite.experiment import METHODS, Comparison, ExperimentConfig, add_method, load_task
from didan_lite.manifest import read_manifest
from didan_lite.model_selection import CRITERIA, DEFAULT_CRITERION
from didan_lite.report import results_markdown, runs_markdown, write_metrics, write_report
from didan_lite.runtime import pick_device
from didan_lite.synthetic import TELEPHONE_CHANNEL, default_root, rerecord_corpus
from didan_lite.training import TrainConfig
from didan_lite.verdicts import verdict_lines

ALL_METHODS = "opensmile-svm,source-only,ida,mmd,ida-ridge,coral,dann,ida-class,ida-layer"
"""Every row of the README table, the issue's main comparison (reference, source-only, IDA, MMD) first, so that a
benchmark stopped early has the rows that matter most."""


CHANNELS = {"telephone": TELEPHONE_CHANNEL}
"""Recording conditions ``--target-channel`` can impose on the target."""


def rerecorded(manifest: Path, channel: str) -> Path:
    """The target corpus re-recorded through ``channel``: made once under the data folder
    (``$DIDAN_LITE_DATA/rerecorded``, else ``~/.cache/didan_lite/rerecorded``), then reused."""
    corpus = read_manifest(manifest)["corpus"].iloc[0]
    out = default_root().parent / "rerecorded" / f"{corpus}-{channel}"
    return rerecord_corpus(manifest, out, CHANNELS[channel], tag=channel, progress=False)


def task_section(name: str, comparison: Comparison) -> list[str]:
    """Markdown of one task: table, per-seed figures, weight choices, verdicts and the ORACLE view."""
    task = comparison.task
    lines = [f"## {name}: {task.corpus_names[0]} -> {task.corpus_names[1]}", "", results_markdown(comparison.table()), "",
             "Per method and seed:", "", runs_markdown(comparison.runs), ""]
    if comparison.choices:
        lines += [f"Weights chosen without target labels ({comparison.choices[0].criterion}; each candidate's score on the "
                  "selection seed):", ""]
        lines += [f"- {c.method}: **{c.chosen:g}**, {c.reason}" for c in comparison.choices] + [""]
        lines += ["ORACLE, for judging the choice only (target UAR % of each candidate on the selection seed; "
                  "uses target labels, never used for any choice):", ""]
        lines += [f"- {method}: " + ", ".join(f"{w:g}: {100 * run.target_uar:.1f}" for w, run in sorted(runs.items()))
                  for method, runs in comparison.candidate_runs.items()] + [""]
    lines += ["Verdicts (guarded, didan_lite.verdicts):", ""]
    lines += [f"- {line}" for line in verdict_lines(comparison.runs, len(task.class_names))] + [""]
    return lines


def task_record(comparison: Comparison) -> dict:
    """JSON record of one task (the per-run figures without the epoch histories)."""
    return {
        "summary": comparison.table().to_dict(orient="records"),
        "runs": [{k: v for k, v in run.summary().items() if k != "epochs"} for run in comparison.runs],
        "weight_selection": [c.summary() for c in comparison.choices],
        "oracle_candidate_target_uar": {m: {str(w): r.target_uar for w, r in runs.items()}
                                        for m, runs in comparison.candidate_runs.items()},
        "verdicts": verdict_lines(comparison.runs, len(comparison.task.class_names)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="B-C,C-B", help="comma-separated presets (B-C, C-B, B-E, ...) or 'synthetic'")
    parser.add_argument("--methods", default=ALL_METHODS)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--data-root", type=Path, help="folder with one sub-folder per corpus (emodb/, casia/, ...)")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--weight", default="auto", help="'auto' (chosen without target labels) or a number")
    parser.add_argument("--criterion", default=DEFAULT_CRITERION, choices=sorted(CRITERIA),
                        help="how --weight auto chooses (default %(default)s)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--options", type=json.loads, default={},
                        help='alignment options per method as JSON, e.g. \'{"ida": {"regulariser": "simplex"}}\'')
    parser.add_argument("--target-channel", choices=sorted(CHANNELS),
                        help="re-record every target corpus through this simulated channel first (a channel gap on top "
                             "of the corpus gap; didan_lite.synthetic.rerecord_corpus); tasks are then named TASK+CHANNEL")
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()

    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; choose among {list(METHODS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    weight = "auto" if args.weight == "auto" else float(args.weight)
    config = ExperimentConfig(
        train=TrainConfig(epochs=args.epochs, device=args.device, progress=False, monitor_every=0),
        method_options=args.options,
        weight_criterion=args.criterion,
    )
    began = time.perf_counter()
    comparisons, seconds = {}, {}
    for name in [t for t in args.task.split(",") if t]:
        source, target, emotions = task_manifest_paths(name, args.data_root)
        if args.target_channel:
            target = rerecorded(target, args.target_channel)
            name = f"{name}+{args.target_channel}"
        task = load_task(source, target, emotions=emotions, config=config, progress=False)
        comparisons[name] = Comparison(task, [], args.out / name, weight=weight)
        seconds[name] = {}
    payload = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date_started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "device": str(pick_device(args.device)),
                    "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "settings": {"methods": methods, "seeds": seeds, "weight": weight, "weight_candidates": list(config.weight_candidates),
                     "weight_criterion": config.weight_criterion, "options": args.options, **dataclasses.asdict(config.train)},
    }
    for method in methods:
        for name, comparison in comparisons.items():
            method_began = time.perf_counter()
            add_method(comparison, method, seeds, config, progress=False)
            seconds[name][method] = time.perf_counter() - method_began
            write_metrics(comparison, config)
            write_report(comparison, config)
            done = [m for m in methods if m in {run.method for run in comparison.runs}]
            print(f"[{name}] {method} done in {seconds[name][method]:.0f} s ({len(done)}/{len(methods)} methods)", flush=True)
            _write_results(args.out, payload, comparisons, seconds, methods, time.perf_counter() - began)
    print("\n".join(_sections(comparisons, seconds)), flush=True)
    print(f"Saved {args.out / 'results.md'} and results.json")


def summary_markdown(comparisons: dict[str, Comparison]) -> str:
    """One table over tasks (the README's): mean +- sd over seeds, PAD, rank, weight, seconds per run."""
    lines = ["| task | method | target UAR % | target WAR % | held-out source UAR % | proxy A-distance | feature rank "
             "| weight | s / run |", "|---|---|---|---|---|---|---|---|---|"]
    for name, comparison in comparisons.items():
        if not comparison.runs:
            continue
        for r in comparison.table().itertuples():
            weight = "-" if r.weight is None or r.weight != r.weight else f"{r.weight:g}"
            lines.append(f"| {name} | {r.method} | {r.target_uar_mean:.1f} ± {r.target_uar_sd:.1f} | {r.target_war_mean:.1f} ± "
                         f"{r.target_war_sd:.1f} | {r.source_uar_mean:.1f} ± {r.source_uar_sd:.1f} | {r.proxy_a_distance_mean:.2f} "
                         f"| {r.feature_rank_mean:.1f} | {weight} | {r.seconds_mean:.0f} |")
    return "\n".join(lines)


def _sections(comparisons: dict[str, Comparison], seconds: dict[str, dict[str, float]]) -> list[str]:
    lines = ["## Summary (mean ± sd over seeds)", "", summary_markdown(comparisons), ""]
    for name, comparison in comparisons.items():
        if comparison.runs:
            lines += task_section(name, comparison)
            lines += ["Wall time per method (s, all seeds and the weight choice): "
                      + ", ".join(f"{m} {s:.0f}" for m, s in seconds[name].items()), ""]
    return lines


def _write_results(out: Path, payload: dict, comparisons: dict[str, Comparison], seconds: dict, methods: list[str],
                   elapsed: float) -> None:
    finished = {name: sorted({run.method for run in c.runs}, key=methods.index) for name, c in comparisons.items()}
    complete = all(len(done) == len(methods) for done in finished.values())
    payload = payload | {
        "tasks": {name: task_record(c) | {"seconds_per_method": seconds[name]} for name, c in comparisons.items() if c.runs},
        "finished_methods": finished,
        "complete": complete,
        "seconds": elapsed,
    }
    settings = payload["settings"]
    header = [
        f"# Cross-corpus benchmark (started {payload['date_started']})", "",
        f"Command: `{payload['command']}`", "",
        f"Machine: {payload['machine']['platform']}, {payload['machine']['cpu_count']} CPUs, device "
        f"{payload['machine']['device']}; torch {torch.__version__}. Epochs {settings['epochs']}, alignment weight "
        f"{settings['weight']} (candidates {settings['weight_candidates']}, rule {settings.get('weight_criterion', 'dev')}), seeds {settings['seeds']}. "
        f"Elapsed {elapsed:.0f} s. " + ("Complete." if complete else f"INCOMPLETE: finished so far {finished}."), "",
    ]
    with atomic_write(out / "results.md", "w") as handle:
        handle.write("\n".join(header + _sections(comparisons, seconds)))
    with atomic_write(out / "results.json", "w") as handle:
        json.dump(payload, handle, indent=1)


if __name__ == "__main__":
    main()
