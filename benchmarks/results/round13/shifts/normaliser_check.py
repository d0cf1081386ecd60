"""Record script (round 13): how much of B-C-skewed's loss is the per-corpus standardisation's.

One source-only model per seed, trained exactly as the shift bench trains it (`bench_config(0.1, "full")`, the
EmoDB training speakers), scored on the skewed CASIA subset twice: standardised with the statistics of the
subset itself (what the bench measures) and with those of the whole CASIA target (the same utterances, the
front end's statistics taken from a balanced mix). The subset's labels only score; nothing is chosen here.

    python benchmarks/results/round13/shifts/normaliser_check.py --seeds 701-703 --data-root ../shared/corpora
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository

import torch

from benchmarks.grid_io import parse_seeds, provenance
from benchmarks.shift_bench import bench_config, real_pair
from didan_lite.metrics import unweighted_average_recall
from didan_lite.task import load_task
from didan_lite.training import predict, train_didan
from data_fetch import task_manifest_paths

parser = argparse.ArgumentParser()
parser.add_argument("--seeds", default="701-703")
parser.add_argument("--data-root", type=Path, required=True)
args = parser.parse_args()
out = Path(__file__).resolve().parent
config = bench_config(0.1, "full")
source, whole_target, emotions = task_manifest_paths("B-C", args.data_root)
_, skewed_target, _ = real_pair("B-C-skewed", args.data_root, Path("/tmp"))
whole = load_task(source, whole_target, emotions=emotions, config=config, progress=False)
skewed = load_task(source, skewed_target, emotions=emotions, config=config, progress=False)
assert torch.equal(whole.source_train.x, skewed.source_train.x), "the source inputs differ between the two tasks"
rows = [whole.target_paths.index(path) for path in skewed.target_paths]
assert torch.equal(whole.target.y[rows], skewed.target.y)
records = []
for seed in parse_seeds(args.seeds):
    model = train_didan(whole.source_train, whole.target, len(emotions), config=config.train,
                        model_config=config.model, seed=seed).model
    own, _ = predict(model, skewed.target.x)
    balanced, _ = predict(model, whole.target.x)
    y = skewed.target.y.numpy()
    record = {"seed": seed, "subset_own_statistics": unweighted_average_recall(y, own),
              "subset_whole_target_statistics": unweighted_average_recall(y, balanced[rows]),
              "whole_target": unweighted_average_recall(whole.target.y.numpy(), balanced)}
    records.append(record)
    print(json.dumps(record), flush=True)
(out / "normaliser_check.json").write_text(json.dumps({"provenance": provenance(sys.argv), "runs": records}, indent=1)
                                           + "\n", encoding="utf-8")
