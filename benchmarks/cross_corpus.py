"""Cross-corpus benchmark: tasks x methods x seeds on real corpora, with the protocol fixed in advance.

    python benchmarks/cross_corpus.py --task B-C,C-B --methods source-only,mmd,ida --seeds 0,1,2,3,4 \\
        --data-root ../shared/corpora --out runs/bench

Without ``--data-root`` the corpora come from data_fetch's cache (prepared or
downloaded there); ``--task synthetic`` runs the embedded pair. Each task
runs :func:`didan_lite.experiment.compare` (so every run leaves its own
``metrics.json`` with per-method, per-seed UAR and WAR, and resumes from its
checkpoints), then the tables of all tasks are written, with the machine,
versions and settings, to ``results.md`` / ``results.json`` and printed.

The protocol is the package default (README, "Benchmark protocol"): target
labels are used for evaluation only, the model of the last epoch is scored.
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

from didan_lite.atomic import atomic_write
from didan_lite.experiment import ExperimentConfig, compare, results_markdown
from didan_lite.runtime import pick_device
from didan_lite.training import TrainConfig


def task_manifests(task: str, data_root: Path | None) -> tuple[Path, Path, list[str] | None]:
    """(source manifest, target manifest, emotions) of a preset task or of the synthetic pair."""
    if task == "synthetic":
        from didan_lite.synthetic import make_default_corpora

        source, target = make_default_corpora()
        return source, target, None
    import data_fetch

    preset = data_fetch.get_task(task)
    source = data_fetch.corpus_manifest(preset.source, data_root / preset.source if data_root else None)
    target = data_fetch.corpus_manifest(preset.target, data_root / preset.target if data_root else None)
    return source, target, list(preset.emotions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="B-C,C-B", help="comma-separated presets (B-C, C-B, B-E, ...) or 'synthetic'")
    parser.add_argument("--methods", default="source-only,mmd,ida")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--data-root", type=Path, help="folder with one sub-folder per corpus (emodb/, casia/, ...)")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--weight", type=float, default=TrainConfig.alignment_weight)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--options", type=json.loads, default={},
                        help='alignment options per method as JSON, e.g. \'{"ida": {"regulariser": "simplex"}}\'')
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()

    methods = [m for m in args.methods.split(",") if m]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    config = ExperimentConfig(
        train=TrainConfig(epochs=args.epochs, alignment_weight=args.weight, device=args.device, progress=False),
        method_options=args.options,
    )
    began = time.perf_counter()
    sections, payload = [], {"tasks": {}}
    for task in [t for t in args.task.split(",") if t]:
        source, target, emotions = task_manifests(task, args.data_root)
        task_began = time.perf_counter()
        comparison = compare(source, target, methods=methods, seeds=seeds, out_dir=args.out / task, config=config,
                             emotions=emotions, figures=False, progress=False)
        seconds = time.perf_counter() - task_began
        table = comparison.table()
        per_seed = {m: {r.seed: round(100 * r.target_uar, 1) for r in comparison.runs if r.method == m} for m in methods}
        payload["tasks"][task] = {"summary": table.to_dict(orient="records"), "target_uar_per_seed": per_seed, "seconds": seconds}
        sections += [f"## {task}: {comparison.task.corpus_names[0]} -> {comparison.task.corpus_names[1]}", "",
                     results_markdown(table), "", "Target UAR % per seed: " + "; ".join(
                         f"{m} {list(v.values())}" for m, v in per_seed.items()), "", f"Wall time: {seconds:.0f} s.", ""]
        print("\n".join(sections[-8:]), flush=True)

    payload |= {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
        "machine": {"platform": platform.platform(), "cpu_count": torch.get_num_threads(), "device": str(pick_device(args.device)),
                    "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None},
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "settings": {"methods": methods, "seeds": seeds, "options": args.options, **dataclasses.asdict(config.train)},
        "seconds": time.perf_counter() - began,
    }
    header = [f"# Cross-corpus benchmark ({payload['date']})", "",
              f"Machine: {payload['machine']['platform']}, device {payload['machine']['device']}; torch {torch.__version__}. "
              f"Epochs {args.epochs}, alignment weight {args.weight}, seeds {seeds}. Total {payload['seconds']:.0f} s.", ""]
    with atomic_write(args.out / "results.md", "w") as handle:
        handle.write("\n".join(header + sections))
    with atomic_write(args.out / "results.json", "w") as handle:
        json.dump(payload, handle, indent=1)
    print(f"Saved {args.out / 'results.md'} and results.json")


if __name__ == "__main__":
    main()
