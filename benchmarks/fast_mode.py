"""Fast- and full-mode benchmark: does what a student runs learn? Measured figures, printed and saved.

    python -m benchmarks.fast_mode [--modes fast,full] [--seeds 217,...,224] [--methods source-only]
                                   [--tasks synth,synth-mirror,B-C,C-B] [--data-root ../shared/corpora]
                                   [--out benchmarks/results/fast_mode]

For each preset of :mod:`didan_lite.presets` and each task it trains every
method with every seed and prints the held-out *source* UAR (speakers the model
never saw: has it learned emotions at all?) and the target UAR (cross-corpus),
per seed and as mean +- sd, with the seconds each run took. Tasks:

- ``synth``: the embedded synthetic pair, synth-studio -> synth-phone (the
  stand-in of B -> C); ``synth-mirror``: synth-phone -> synth-studio (C -> B);
- ``B-C``, ``C-B``: EmoDB <-> CASIA, when ``--data-root`` holds ``emodb/`` and
  ``casia/`` (skipped otherwise).

It also times the generation of the default synthetic pair from scratch (wall
and CPU seconds). The default seeds were never used while choosing the fast
settings or the generator; development used seeds 0-13, 101-103 scored the first
fast preset (40 per emotion, 2 s inputs), 201-208 the second (dropout and weight decay on) and 209-216
the third (1.28 s at a 10 ms hop). It writes ``STEM.md`` and ``STEM.json``, replacing them: the
committed results/fast_mode.md keeps the earlier preset's table as a section below the current one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from didan_lite.atomic import atomic_write
from didan_lite.experiment import load_task, run_method
from didan_lite.manifest import balanced_subset, read_manifest, restrict_emotions
from didan_lite.presets import PRESETS, Preset
from didan_lite.synthetic import GENERATOR_VERSION, make_default_corpora


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_generation(root: Path) -> dict:
    """Generate the default pair into ``root`` (empty: every file is written): wall and CPU seconds."""
    wall, cpu = time.perf_counter(), _cpu_seconds()
    make_default_corpora(root=root, seed=0)
    return {"wall_s": time.perf_counter() - wall, "cpu_s": _cpu_seconds() - cpu}


def task_frames(task: str, synthetic_root: Path, data_root: Path | None):
    """(source frame, target frame, emotions) of a task, or None when its corpora are absent."""
    if task in ("synth", "synth-mirror"):
        studio, phone = make_default_corpora(root=synthetic_root, seed=0)
        source, target = (studio, phone) if task == "synth" else (phone, studio)
        return read_manifest(source), read_manifest(target), None
    if data_root is None or not all((data_root / key).is_dir() for key in ("emodb", "casia")):
        return None
    from data_fetch.notebook_data import task_manifests

    data = task_manifests(task, data_root=data_root)
    if data.is_synthetic:
        return None
    frames = [restrict_emotions(read_manifest(path), data.emotions) for path in (data.source, data.target)]
    return frames[0], frames[1], list(data.emotions)


def run_task(preset: Preset, task: str, frames, methods: list[str], seeds: list[int], cache_dir: str | None) -> list[dict]:
    """Train every method x seed of one task under ``preset``; one record per run."""
    source, target, emotions = frames
    source, target = balanced_subset(source, preset.max_per_class), balanced_subset(target, preset.max_per_class)
    config = dataclasses.replace(preset.config, cache_dir=cache_dir)
    loaded = load_task(source, target, emotions=emotions, config=config, progress=False)
    records = []
    for method in methods:
        for seed in seeds:
            cpu = _cpu_seconds()
            run = run_method(loaded, method, seed, config)
            record = {
                "mode": preset.name, "task": task, "method": method, "seed": seed,
                "source_heldout_uar": 100 * run.source_uar, "target_uar": 100 * run.target_uar,
                "wall_s": run.seconds, "cpu_s": _cpu_seconds() - cpu,
                "n_source_train": len(loaded.source_train.x), "n_source_heldout": len(loaded.source_test.x),
                "n_target": len(loaded.target.x),
            }
            print(f"{preset.name:4s} {task:12s} {method:11s} seed {seed:4d}: held-out source UAR "
                  f"{record['source_heldout_uar']:5.1f} %, target UAR {record['target_uar']:5.1f} % "
                  f"({record['wall_s']:.1f} s wall, {record['cpu_s']:.1f} s CPU)", flush=True)
            records.append(record)
    return records


def summary_markdown(records: list[dict], generation: dict, args: argparse.Namespace) -> str:
    """Markdown: one row per (mode, task, method), mean +- sd over seeds."""
    lines = [
        "# Fast- and full-mode benchmark (benchmarks/fast_mode.py)",
        "",
        f"Seeds {args.seeds} (never used in development). Generator version {GENERATOR_VERSION}: "
        f"default pair generated in {generation['wall_s']:.1f} s wall, {generation['cpu_s']:.1f} s CPU. "
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads available, training on one; "
        f"Python {platform.python_version()}, torch {torch.__version__}.",
        "",
        "| mode | task | method | held-out source UAR % | target UAR % | drop (points) | s per run (wall / CPU) | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    keys = dict.fromkeys((r["mode"], r["task"], r["method"]) for r in records)
    def sd(a: np.ndarray) -> float:
        return a.std(ddof=1) if len(a) > 1 else 0.0

    for mode, task, method in keys:
        runs = [r for r in records if (r["mode"], r["task"], r["method"]) == (mode, task, method)]
        held = np.array([r["source_heldout_uar"] for r in runs])
        target = np.array([r["target_uar"] for r in runs])
        lines.append(
            f"| {mode} | {task} | {method} | {held.mean():.1f} ± {sd(held):.1f} (min {held.min():.1f}) "
            f"| {target.mean():.1f} ± {sd(target):.1f} | {held.mean() - target.mean():.1f} "
            f"| {np.mean([r['wall_s'] for r in runs]):.1f} / {np.mean([r['cpu_s'] for r in runs]):.1f} | {len(runs)} |"
        )
    lines += ["", "Chance is 20 % (5 classes). Held-out source: speakers of the source corpus never trained on."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="fast,full", help="presets, comma-separated (default fast,full)")
    parser.add_argument("--seeds", default="217,218,219,220,221,222,223,224",
                        help="seeds (default 217-224: never used in development)")
    parser.add_argument("--methods", default="source-only", help="methods (default source-only)")
    parser.add_argument("--tasks", default="synth,synth-mirror,B-C,C-B", help="tasks (default synth,synth-mirror,B-C,C-B)")
    parser.add_argument("--data-root", type=Path, default=Path("../shared/corpora"), help="folder with emodb/ and casia/")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fast_mode"),
                        help="output stem: writes STEM.md and STEM.json (default benchmarks/results/fast_mode)")
    parser.add_argument("--features-cache", help="feature cache folder (default: the library's)")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    methods, tasks = args.methods.split(","), args.tasks.split(",")

    records = []
    with tempfile.TemporaryDirectory() as scratch:
        synthetic_root = Path(scratch) / "synthetic"
        generation = time_generation(synthetic_root)
        print(f"generation of the default synthetic pair: {generation['wall_s']:.1f} s wall, "
              f"{generation['cpu_s']:.1f} s CPU", flush=True)
        for mode in args.modes.split(","):
            for task in tasks:
                frames = task_frames(task, synthetic_root, args.data_root)
                if frames is None:
                    print(f"{task}: corpora not found under {args.data_root}; skipped", flush=True)
                    continue
                records += run_task(PRESETS[mode], task, frames, methods, seeds, args.features_cache)
    markdown = summary_markdown(records, generation, args)
    print()
    print(markdown)
    with atomic_write(args.out.with_suffix(".md"), "w", encoding="utf-8") as handle:
        handle.write(markdown)
    with atomic_write(args.out.with_suffix(".json"), "w", encoding="utf-8") as handle:
        json.dump({"generation": generation, "seeds": seeds, "runs": records, "argv": sys.argv[1:]}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
