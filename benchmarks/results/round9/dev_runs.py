"""Dev runs: python dev.py OUT.jsonl TASK SEED SPLIT NAME JSON-overrides..."""
import json, sys, time, dataclasses
from pathlib import Path
sys.path.insert(0, "benchmarks")
from cross_corpus import task_manifests
from didan_lite.experiment import ExperimentConfig, load_task, run_method, cross_validate
from didan_lite.features import FeatureConfig
from didan_lite.training import TrainConfig
from didan_lite.model import ModelConfig
out, task_name, seed, split = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
jobs = [json.loads(a) for a in sys.argv[5:]]
s, t, em = task_manifests(task_name, Path("../shared/corpora"))
base = dict(features=FeatureConfig(hop_ms=16.0, n_frames=125), train=TrainConfig(progress=False, monitor_every=0))
tasks = {}
for job in jobs:
    feat = dataclasses.replace(base["features"], **job.get("features", {}))
    cfg = ExperimentConfig(features=feat, train=dataclasses.replace(base["train"], **job.get("train", {})),
                           model=ModelConfig(**job.get("model", {})), method_options=job.get("options", {}),
                           selection_folds=job.get("folds", 2))
    key = feat
    if key not in tasks:
        tasks[key] = load_task(s, t, emotions=em, config=cfg, progress=False)
    task = tasks[key]
    t0 = time.time()
    if split == "cv":
        r = cross_validate(task, job["method"], seed, cfg, job.get("weight"))
    else:
        if job.get("weight") is not None:
            cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, alignment_weight=job["weight"]))
        r = run_method(task, job["method"], seed, cfg, split=split if split in ("heldout", "all") else int(split))
    row = {"task": task_name, "seed": seed, "split": split, "name": job.get("name", job["method"]), "job": job,
           "target_uar": r.target_uar, "source_heldout_uar": r.source_uar, "proxy_a_distance": r.proxy_a_distance,
           "feature_effective_rank": r.feature_rank, "seconds": time.time() - t0, **r.extra,
           "last_epoch": r.history[-1] if r.history else None}
    print(json.dumps(row), flush=True)
    with open(out, "a") as f:
        f.write(json.dumps(row) + "\n")
