"""Train and ship small full-mode checkpoints of the embedded synthetic pair (didan_lite/reference_results/checkpoints).

    nice -n 15 python -m benchmarks.make_checkpoints                      # source-only, mmd, ida; seed 0; weight 0.1
    python -m benchmarks.make_checkpoints --methods ida --weights '{"ida": 0.3}' --out /tmp/ckpt

Each model is the full preset's (:data:`didan_lite.presets.FULL`: every utterance, the library's defaults) trained
on *all* source speakers of :func:`didan_lite.synthetic.make_default_corpora` (generator seed 0), as the full
preset's final models are, with the aligning methods' weight fixed (default 0.1, the fixed weight of the round-9
paired grid, not chosen here). Writes ``<method>.pt`` (a plain dict of float16 tensors) and ``<method>.json``
(the sidecar, format of :mod:`didan_lite.teaching.pretrained`), loads each back with
:func:`didan_lite.teaching.pretrained.load_pretrained`, and prints sizes, times and scores. One torch thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from didan_lite.alignment import make_alignment
from didan_lite.errors import InputError
from didan_lite.task import load_task
from didan_lite.metrics import effective_rank, proxy_a_distance, unweighted_average_recall
from didan_lite.presets import FULL
from didan_lite.model import DIDAN
from didan_lite.teaching.pretrained import CHECKPOINT_DIR, load_pretrained, save_pretrained
from didan_lite.synthetic import make_default_corpora
from didan_lite.training import predict, train_didan

from benchmarks import grid_io

WEIGHT_NOTE = "weight fixed by the caller (default 0.1: the round-9 paired grid's fixed weight), not chosen here"


def provenance(argv: list[str]) -> dict:
    """Command, commit, date, machine and mode of this run (:func:`grid_io.provenance`)."""
    return grid_io.provenance(["-m", "benchmarks.make_checkpoints", *argv]) | {"mode": "full", "note": WEIGHT_NOTE}

def train_one(task, method: str, weight: float | None, seed: int) -> tuple[DIDAN, dict, float]:
    """Train ``method`` on every source speaker; return (the model, scores, training seconds)."""
    config = FULL.config
    train = dataclasses.replace(config.train, progress=False, cpu_threads=1,
                                **({} if weight is None else {"alignment_weight": weight}))
    alignment = make_alignment(method, feature_dims=[*config.model.fc_dims, len(task.class_names)],
                               class_names=task.class_names, **dict(config.method_options.get(method, {})))
    began = time.perf_counter()
    model = train_didan(task.source_all, task.target, len(task.class_names), alignment=alignment, config=train,
                        model_config=config.model, seed=seed).model
    seconds = time.perf_counter() - began
    layer = -2 if alignment is None or alignment.layer is None else alignment.layer
    _, f_s = predict(model, task.source_all.x, layer=layer)
    target_pred, f_t = predict(model, task.target.x, layer=layer)
    scores = {"layer": layer, "proxy_a_distance": proxy_a_distance(f_s, f_t, seed=seed),
              "feature_rank": effective_rank(np.concatenate([f_s, f_t])),
              "target_uar_evaluation_only": unweighted_average_recall(task.target.y.numpy(), target_pred)}
    return model, scores, seconds


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default="source-only,mmd,ida", help="comma-separated methods")
    parser.add_argument("--weights", default='{"mmd": 0.1, "ida": 0.1}', help="JSON: alignment weight per method")
    parser.add_argument("--seed", type=int, default=0, help="training seed (the pair is generated with seed 0)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT_DIR, help="folder to write <method>.pt/.json into")
    args = parser.parse_args(argv)
    try:
        weights = {k: float(v) for k, v in json.loads(args.weights).items()}
    except (ValueError, AttributeError) as error:
        print(f"error: --weights {args.weights!r} is not a JSON object of numbers ({error}).", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    config, record = FULL.config, provenance(argv)
    began = time.perf_counter()
    task = load_task(*make_default_corpora(seed=0), config=config, progress=False)
    print(f"features of {len(task.source_all.y)} + {len(task.target.y)} utterances: {time.perf_counter() - began:.1f} s",
          flush=True)
    for method in args.methods.split(","):
        weight = weights.get(method) if method != "source-only" else None
        if method != "source-only" and weight is None:
            print(f"error: no weight for {method!r} in --weights {args.weights}.", file=sys.stderr)
            return 2
        model, scores, seconds = train_one(task, method, weight, args.seed)
        info = {"method": method, "weight": weight, "seed": args.seed,
                "n_bins": int(task.target.x.shape[1]), "n_frames": int(task.target.x.shape[2]),
                "class_names": list(task.class_names), "model": dataclasses.asdict(config.model),
                "features": dataclasses.asdict(config.features), "holdout_speakers": config.holdout_speakers,
                "layer": scores.pop("layer"), "method_options": dict(config.method_options.get(method, {})),
                "trained_on": "all source speakers", "corpora": list(task.corpus_names), "generator_seed": 0,
                "scores": scores, "training_seconds": round(seconds, 1), "provenance": record}
        sidecar = save_pretrained(model, info, args.out)
        pt = sidecar.with_suffix(".pt")
        try:
            load_pretrained(method, args.out)
        except InputError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"{method}: trained in {seconds:.0f} s; {pt.name} {pt.stat().st_size / 1000:.0f} kB, "
              f"{sidecar.name} {sidecar.stat().st_size / 1000:.1f} kB; proxy A-distance {scores['proxy_a_distance']:.2f}, "
              f"feature rank {scores['feature_rank']:.1f}, target UAR {100 * scores['target_uar_evaluation_only']:.1f} % "
              "(evaluation only)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
