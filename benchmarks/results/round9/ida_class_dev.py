"""ida-class development runs (issue 18, section 3): python ida_class_dev.py OUT.jsonl TASK SEED JOB...

TASK: ``synth`` (the embedded synthetic pair under the fast preset, as benchmarks/fast_mode.py runs it) or
``B-C`` / ``C-B`` (the real pair with the library defaults, fixed held-out source speakers, as dev_runs.py).
JOB: JSON ``{"method": ..., "weight": ..., "options": {...}, "name": ...}``; ``options`` replace the method's
``method_options``. Each run also records what the class term used (IDALoss.last_usage, averaged over the
steps after the warm-up): the mean share of the target batch in the term, of confident targets, and the
confident targets per pseudo-class. Target labels only score.
"""
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, "benchmarks")
from didan_lite.alignment.ida import IDALoss
from didan_lite.experiment import ExperimentConfig, load_task, run_method
from didan_lite.features import FeatureConfig
from didan_lite.manifest import balanced_subset, read_manifest
from didan_lite.presets import PRESETS
from didan_lite.training import TrainConfig

USAGE: list[dict] = []
_forward = IDALoss.forward


def _recording_forward(self, *args, **kwargs):
    out = _forward(self, *args, **kwargs)
    usage = self.last_usage
    if usage and float(usage["class_term"]):
        USAGE.append({"used": float(usage["targets_used"]), "counts": usage["confident_counts"].tolist()})
    return out


IDALoss.forward = _recording_forward


def main() -> None:
    out, task_name, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    jobs = [json.loads(a) for a in sys.argv[4:]]
    with tempfile.TemporaryDirectory() as scratch:
        if task_name == "synth":
            from didan_lite.synthetic import make_default_corpora
            preset = PRESETS["fast"]
            studio, phone = make_default_corpora(root=Path(scratch) / "synthetic", seed=0)
            source, target = (balanced_subset(read_manifest(p), preset.max_per_class) for p in (studio, phone))
            base, emotions = preset.config, None
        else:
            from cross_corpus import task_manifests
            source, target, emotions = task_manifests(task_name, Path("../shared/corpora"))
            base = ExperimentConfig(features=FeatureConfig(hop_ms=16.0, n_frames=125),
                                    train=TrainConfig(progress=False, monitor_every=0))
        task = load_task(source, target, emotions=emotions, config=base, progress=False)
        for job in jobs:
            config = dataclasses.replace(base, method_options={**base.method_options, **job.get("options", {})})
            if job.get("weight") is not None:
                config = dataclasses.replace(config, train=dataclasses.replace(config.train, alignment_weight=job["weight"]))
            USAGE.clear()
            began = time.time()
            result = run_method(task, job["method"], seed, config, split="heldout")
            n = len(USAGE)
            row = {"task": task_name, "seed": seed, "name": job.get("name", job["method"]), "job": job,
                   "weight": config.train.alignment_weight,
                   "source_heldout_uar": result.source_uar, "target_uar": result.target_uar,
                   "proxy_a_distance": result.proxy_a_distance, "feature_effective_rank": result.feature_rank,
                   "class_steps": n,
                   "targets_used": sum(u["used"] for u in USAGE) / n if n else None,
                   "confident_counts_mean": [sum(c) / n for c in zip(*(u["counts"] for u in USAGE))] if n else None,
                   "seconds": time.time() - began}
            print(json.dumps(row), flush=True)
            with open(out, "a") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
