"""The synthetic pair in fast mode with the shared-band mask: python synthetic_band_mask.py FLOOR|none SEEDS METHODS WEIGHT
(run from the repository root; round 10, before band_floor_db=40 became the default)."""
import sys, dataclasses, json, numpy as np, torch
torch.set_num_threads(1)
from didan_lite import preset
from didan_lite.synthetic import make_default_corpora
from didan_lite.manifest import read_manifest, balanced_subset
from didan_lite.experiment import load_task, run_method
P = preset("fast")
s, t = make_default_corpora()
S, T = (balanced_subset(read_manifest(m), P.max_per_class, seed=0) for m in (s, t))
floor = float(sys.argv[1]) if sys.argv[1] != "none" else None
cfg = dataclasses.replace(P.config, band_floor_db=floor)
task = load_task(S, T, config=cfg, progress=False)
for method in sys.argv[3].split(","):
  for seed in [int(x) for x in sys.argv[2].split(",")]:
    c = cfg if method == "source-only" else dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, alignment_weight=float(sys.argv[4])))
    r = run_method(task, method, seed, c)
    print(json.dumps({"floor": floor, "method": method, "seed": seed, "target_uar": round(r.target_uar, 4), "heldout": round(r.source_uar, 4),
                      "pad": round(r.proxy_a_distance, 3), "confusion": np.round(np.array(r.target_confusion), 2).tolist()}), flush=True)
