"""Model, training and IDA variants on one task: every variant tried, with its numbers.

    python -m benchmarks.variants --task B-C --variants base,crop --seeds 0,1 \\
        --data-root ../shared/corpora --name source-only-dev

Each variant is a named set of overrides of the package defaults (``VARIANTS``
below): a method, and fields of ``ModelConfig``, ``TrainConfig`` and the
method's alignment options. Runs go through :func:`didan_lite.experiment.load_task`
and :func:`didan_lite.experiment.run_method`, the code ``compare`` uses, so a
variant measures what the package would do with those settings. One markdown and
one JSON table per invocation go to ``benchmarks/results/<task>-<name>.{md,json}``:
held-out source UAR, target UAR, proxy A-distance and effective rank of the
aligned layer, seconds, per seed and as mean ± sd.

Protocol: variants are *chosen* on the held-out source speakers, on the
synthetic pair (``--task synthetic``) and on unsupervised figures (proxy
A-distance, rank); the target UAR of a real task is recorded, never used to choose.
Development seeds 0, 1; fresh seeds (11, 12, 13) only for the final check.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import time
from pathlib import Path

import torch

from data_fetch import task_manifest_paths
from didan_lite.atomic import atomic_write
from didan_lite.experiment import ExperimentConfig, load_task, run_method
from didan_lite.metrics import mean_and_sd
from didan_lite.training import TrainConfig

RESULTS = Path(__file__).resolve().parent / "results"

# name -> {"method": ..., "model": {...}, "train": {...}, "options": {...}} (overrides of the defaults)
VARIANTS: dict[str, dict] = {
    # --- source-only DIDAN (section 2) ---
    "base": {"method": "source-only"},  # the package defaults at the time of the run (4 x 4 pooling before so-r4)
    "ep30": {"method": "source-only", "train": {"epochs": 30}},
    "crop": {"method": "source-only", "train": {"n_frames": 160}},
    "wide": {"method": "source-only", "model": {"conv_channels": (16, 32, 64, 128)}},
    "fc128": {"method": "source-only", "model": {"fc_dims": (128,)}},
    "drop5": {"method": "source-only", "model": {"dropout": 0.5}},
    "tpool": {"method": "source-only", "model": {"pooled_size": (4, 1)}},  # the default since so-r4
    "pool4x4": {"method": "source-only", "model": {"pooled_size": (4, 4)}},  # the default before
    # --- alignment (section 3), on top of the source-only defaults ---
    # Tried in round ida-dev-r1/r2 (commit 1d163f4, options since removed): IDA on whitened features
    # ("whiten") and with the source features held fixed ("source_fixed"); both collapsed (rank 1.1).
    "mmd": {"method": "mmd"},
    "ida": {"method": "ida"},  # diversity 0.5 since ida-dev-r5 (0 before: see ida-div0)
    "ida-div0": {"method": "ida", "options": {"diversity": 0.0}},
    "ida-ridge": {"method": "ida-ridge"},
    "ida-symmetric": {"method": "ida-ridge", "options": {"symmetric": True}},  # was the method "ida-symmetric"
    "ida-oneway": {"method": "ida", "options": {"symmetric": False}},
    "ida-tau03": {"method": "ida", "options": {"strength": 0.3}},
    # ida-class, ida-class05: run in round 2 when min_confidence was a top-score threshold and ida-class had no class
    # balance or warm-up; since round 10 they run today's ida-class (top-two margin 0.5, balanced, class term after
    # half of training), so they no longer reproduce B-C-ida-dev-r2.
    "ida-class": {"method": "ida-class", "options": {"min_confidence": 0.5}},
    "ida-w01": {"method": "ida", "train": {"alignment_weight": 0.1}},
    "mmd-w01": {"method": "mmd", "train": {"alignment_weight": 0.1}},
    "ida-class05": {"method": "ida-class", "options": {"min_confidence": 0.5}},  # = ida-class; name of B-C-ida-dev-r2
    "ida-div1": {"method": "ida", "options": {"diversity": 1.0}},
    "ida-div03": {"method": "ida", "options": {"diversity": 0.3}},
    "ida-div05": {"method": "ida", "options": {"diversity": 0.5}},  # = ida since r5 (the default); kept for the files
    "ida-div1-w1": {"method": "ida", "options": {"diversity": 1.0}, "train": {"alignment_weight": 1.0}},
}

REMOVED_VARIANTS: dict[str, dict] = {
    "cmn": {"method": "source-only", "model": {"input_norm": "cmn"}},
    "cmvn": {"method": "source-only", "model": {"input_norm": "cmvn"}},
    "specaug": {"method": "source-only", "train": {"spec_augment": (8, 20)}},
    "mixup": {"method": "source-only", "train": {"mixup": 0.4}},
    "cosine": {"method": "source-only", "train": {"lr_schedule": "cosine"}},
    "ce": {"method": "source-only", "train": {"task_loss": "ce"}},
    "long": {"method": "source-only", "train": {"epochs": 40, "lr_schedule": "cosine"}},
    "long-specaug": {"method": "source-only", "train": {"epochs": 40, "lr_schedule": "cosine", "spec_augment": (8, 20)}},
}
"""Variants whose options were removed from the package (issue 28: rejected, no other user). Their records
(``*-so-r1``, ``*-so-r2``) stay as data; rerun them from commit 64dce22, the last that has the options."""
LAST_COMMIT_WITH_REMOVED = "64dce22"


def _replace(config, overrides: dict):
    return dataclasses.replace(config, **overrides) if overrides else config


def variant_config(spec: dict, base: ExperimentConfig) -> ExperimentConfig:
    """The experiment configuration of one variant: ``base`` with the variant's overrides."""
    method = spec["method"]
    return dataclasses.replace(
        base,
        model=_replace(base.model, spec.get("model", {})),
        train=_replace(base.train, spec.get("train", {})),
        method_options={method: spec.get("options", {})},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", required=True, help="a preset (B-C, C-B, ...) or 'synthetic'")
    parser.add_argument("--variants", required=True, help=f"comma-separated, among {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--name", required=True, help="results file stem: <task>-<name>.md / .json")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    names = [n for n in args.variants.split(",") if n]
    removed = [n for n in names if n in REMOVED_VARIANTS]
    if removed:
        parser.error(f"variant(s) {removed} replay options removed from the package (issue 28); their records stay "
                     f"in benchmarks/results; rerun them from commit {LAST_COMMIT_WITH_REMOVED}")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
    seeds = [int(s) for s in args.seeds.split(",") if s]
    source, target, emotions = task_manifest_paths(args.task, args.data_root)
    base = ExperimentConfig(train=TrainConfig(device=args.device, progress=False, monitor_every=0))

    tasks: dict[tuple, object] = {}  # one load per distinct input setting
    rows, began = [], time.perf_counter()
    for name in names:
        config = variant_config(VARIANTS[name], base)
        key = (config.features, config.train.n_frames)
        if key not in tasks:
            tasks[key] = load_task(source, target, emotions=emotions, config=config, progress=False)
        task = tasks[key]
        for seed in seeds:
            run = run_method(task, VARIANTS[name]["method"], seed, config)
            rows.append({"variant": name, "seed": seed, "source_heldout_uar": 100 * run.source_uar,
                         "target_uar": 100 * run.target_uar, "proxy_a_distance": run.proxy_a_distance,
                         "effective_rank": run.feature_rank, "seconds": run.seconds,
                         "final_alignment_loss": run.history[-1]["alignment_loss"]})
            print(f"{name:>18} seed {seed}: held-out source {rows[-1]['source_heldout_uar']:.1f}  "
                  f"target {rows[-1]['target_uar']:.1f}  PAD {run.proxy_a_distance:.2f}  "
                  f"rank {run.feature_rank:.1f}  {run.seconds:.0f} s", flush=True)
    write_results(args, names, seeds, rows, time.perf_counter() - began, tasks)


def summary(rows: list[dict], names: list[str]) -> list[dict]:
    """Mean and sd over seeds per variant."""
    table = []
    for name in names:
        runs = [r for r in rows if r["variant"] == name]
        entry = {"variant": name, "seeds": len(runs)}
        for key in ("source_heldout_uar", "target_uar", "proxy_a_distance", "effective_rank", "seconds"):
            entry[f"{key}_mean"], entry[f"{key}_sd"] = mean_and_sd([r[key] for r in runs])
        table.append(entry)
    return table


def write_results(args, names, seeds, rows, seconds, tasks) -> None:
    table = summary(rows, names)
    task = next(iter(tasks.values()))
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes")
    lines = [
        f"# Variants on {task.corpus_names[0]} -> {task.corpus_names[1]} ({args.task}), {args.name}",
        "",
        f"{date}; seeds {seeds}; {platform.platform()}, device {args.device}, torch {torch.__version__}, "
        f"one torch thread; total {seconds:.0f} s. Command: `python -m benchmarks.variants --task {args.task} "
        f"--variants {','.join(names)} --seeds {','.join(map(str, seeds))} --name {args.name}`.",
        "",
        "Held-out source UAR chooses; target UAR is recorded, not used to choose. "
        "PAD = proxy A-distance (0 aligned, 2 separable); rank = effective rank of the aligned layer.",
        "",
        "| variant | settings | held-out source UAR % | target UAR % | PAD | rank | s/run |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in table:
        spec = {k: v for k, v in VARIANTS[entry["variant"]].items()}
        lines.append(
            f"| {entry['variant']} | `{json.dumps(spec, separators=(',', ':'))}` "
            f"| {entry['source_heldout_uar_mean']:.1f} ± {entry['source_heldout_uar_sd']:.1f} "
            f"| {entry['target_uar_mean']:.1f} ± {entry['target_uar_sd']:.1f} "
            f"| {entry['proxy_a_distance_mean']:.2f} | {entry['effective_rank_mean']:.1f} | {entry['seconds_mean']:.0f} |"
        )
    lines += ["", "Per seed (held-out source / target UAR %): " + "; ".join(
        f"{r['variant']} s{r['seed']} {r['source_heldout_uar']:.1f}/{r['target_uar']:.1f}" for r in rows)]
    stem = RESULTS / f"{args.task}-{args.name}"
    with atomic_write(stem.with_suffix(".md"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    payload = {"task": args.task, "name": args.name, "date": date, "seeds": seeds, "seconds": seconds,
               "variants": {n: VARIANTS[n] for n in names}, "runs": rows, "summary": table,
               "machine": platform.platform(), "torch": torch.__version__}
    with atomic_write(stem.with_suffix(".json"), "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, default=list)
    print(f"Saved {stem}.md and .json")


if __name__ == "__main__":
    main()
