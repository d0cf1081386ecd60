"""Choose the shared backbone on held-out source speakers: training-set and held-out source UAR per candidate.

    python -m benchmarks.backbone_selection --task C-B --seeds 900,901 --data-root ../shared/corpora \\
        --out benchmarks/results/round11/backbone/C-B.json

Each candidate trains source-only and is scored on its own training data (``source_fit_uar``) and on source
speakers it never saw. ``--folds 1`` (default): the training speakers of the fixed split, scored on its
held-out speakers. ``--folds K``: the selection folds of :func:`didan_lite.task.source_folds` (speakers never
split; a four-speaker corpus is left out speaker by speaker), one model per fold, every source utterance
predicted once by a model that never saw its speaker and the held-out UAR computed over all of them pooled
(the fit is the mean over the folds' models). No target figure is computed or written: the choice reads
source labels only.
"""

from __future__ import annotations

if __name__ == "__main__" and not __package__:  # `python benchmarks/backbone_selection.py`, the command its records name
    import runpy
    import sys

    sys.path[0] = str(__import__("pathlib").Path(__file__).resolve().parents[1])  # the repository, not benchmarks/
    runpy.run_module("benchmarks.backbone_selection", run_name="__main__", alter_sys=True)
    raise SystemExit(0)

import argparse
import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from didan_lite.atomic import atomic_write
from didan_lite.experiment import load_task
from didan_lite.features import SpecMasks
from didan_lite.metrics import unweighted_average_recall
from didan_lite.model import ModelConfig
from didan_lite.config import ExperimentConfig
from didan_lite.task import TaskData, source_folds
from didan_lite.training import DomainData, TrainConfig, predict, train_didan

from data_fetch import task_manifest_paths
from benchmarks.grid_io import parse_seeds

CANDIDATES: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "batch-300": (ModelConfig(norm="batch"), TrainConfig(steps_per_epoch=15)),
    "group-300": (ModelConfig(norm="group"), TrainConfig(steps_per_epoch=15)),
    "layer-300": (ModelConfig(norm="layer"), TrainConfig(steps_per_epoch=15)),
    "batch-900": (ModelConfig(norm="batch"), TrainConfig(steps_per_epoch=45)),
    "group-900": (ModelConfig(norm="group"), TrainConfig(steps_per_epoch=45)),
    "batch-900-wide": (ModelConfig(norm="batch", conv_channels=(16, 32, 64, 128)), TrainConfig(steps_per_epoch=45)),
    "batch-900-masked": (ModelConfig(norm="batch"), TrainConfig(steps_per_epoch=45, spec_masks=SpecMasks())),
}


def score_candidate(task: TaskData, model_config: ModelConfig, train_config: TrainConfig, seed: int,
                    n_folds: int = 1) -> dict:
    """Training-set UAR (mean over the folds' models) and pooled held-out UAR of one candidate on one seed.

    ``n_folds`` asks :func:`source_folds` for that many speaker folds (it may raise the number so that every
    fold trains on enough speakers; the row records the number used). Only source data and labels are read.
    """
    everything = task.source_all
    labels = everything.y.numpy()
    folds = source_folds(task, n_folds)
    pooled, fits = np.full(len(labels), -1, dtype=np.int64), []
    for held in folds:
        kept = np.setdiff1d(np.arange(len(labels)), held)
        training = DomainData(everything.x[kept], everything.y[kept])
        model = train_didan(training, task.target, len(task.class_names), config=train_config,
                            model_config=model_config, seed=seed).model
        fits.append(unweighted_average_recall(labels[kept], predict(model, training.x)[0]))
        pooled[held] = predict(model, everything.x[held])[0]
    scored = np.concatenate(folds)  # every utterance with several folds; the held-out speakers with one
    return {"folds_requested": n_folds, "folds": len(folds), "source_fit_uar": float(np.mean(fits)), "fold_fit_uars": fits,
            "heldout_source_uar": unweighted_average_recall(labels[scored], pooled[scored])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True)
    parser.add_argument("--seeds", default="900,901")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--folds", type=int, default=1,
                        help="1: the fixed held-out split; K: speaker folds, held-out predictions pooled")
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    source, target, emotions = task_manifest_paths(args.task, args.data_root)
    task = load_task(source, target, emotions=emotions, config=ExperimentConfig(), progress=False)
    rows = json.loads(args.out.read_text())["rows"] if args.out.is_file() else []
    done = {(r["candidate"], r["seed"], r.get("folds_requested", 1)) for r in rows}
    for name in args.candidates.split(","):
        model_config, train_config = CANDIDATES[name]
        train_config = dataclasses.replace(train_config, progress=False)
        for seed in parse_seeds(args.seeds):
            if (name, seed, args.folds) in done:
                continue
            began = time.perf_counter()
            row = score_candidate(task, model_config, train_config, seed, args.folds)
            rows.append({"candidate": name, "seed": seed, **row, "seconds": time.perf_counter() - began})
            print(f"{args.task} {name} seed {seed} ({row['folds']} fold(s)): fit {100 * row['source_fit_uar']:.1f} "
                  f"held-out {100 * row['heldout_source_uar']:.1f} ({rows[-1]['seconds']:.0f} s)", flush=True)
            with atomic_write(args.out, "w") as handle:
                json.dump({"task": args.task, "source_corpus": task.corpus_names[0], "rows": rows}, handle, indent=1)
    by = {}
    for r in rows:
        by.setdefault((r["candidate"], r.get("folds", 1)), []).append(r)
    for (name, folds), group in by.items():
        print(f"{name} ({folds} fold(s), {len(group)} seed(s)): fit {100 * np.mean([r['source_fit_uar'] for r in group]):.1f} "
              f"held-out {100 * np.mean([r['heldout_source_uar'] for r in group]):.1f}")


if __name__ == "__main__":
    main()
