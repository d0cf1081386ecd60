"""Round 18: IDA's parts against IDA and source-only on seeds 701-705, both tasks, held-out figures filled.

    python benchmarks/results/round18/ida-parts/parts_table.py    # from the repository root
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[4])  # the repository
from benchmarks.grid_summary import merged_rows  # noqa: E402
from didan_lite.verdicts import paired_verdict  # noqa: E402

R = Path("benchmarks/results")
HERE = R / "round18" / "ida-parts"
FOLDERS = {"B-C": [R / "round17/ida-parts-batchnorm/B-C-ida-reconstruction", R / "round17/ida-parts-batchnorm/B-C-ida-spread",
                   R / "round16/grid-batchnorm/B-C"],
           "C-B": [HERE / "C-B-ida-reconstruction", HERE / "C-B-ida-spread", R / "round16/grid-batchnorm/C-B"]}
heldout = json.loads((HERE / "parts-selection-heldout.json").read_text())
for task, folders in FOLDERS.items():
    rows, _, _, _ = merged_rows(folders, heldout)
    runs = [dict(r, source_uar=r["source_heldout_uar"], feature_rank=r["feature_effective_rank"])
            for r in rows if 701 <= int(r["seed"]) <= 705]
    print(f"## {task}, seeds 701-705\n\n| model | target UAR | held-out source | training set | feature rank | PAD |\n|---|---|---|---|---|---|")
    for method in ("source-only", "ida", "ida-reconstruction", "ida-spread"):
        chosen = [r for r in runs if r["method"] == method]
        mean = lambda key: np.mean([r[key] for r in chosen if r.get(key) is not None])  # noqa: E731
        print(f"| {method} (n={len(chosen)}) | {100 * mean('target_uar'):.1f} | {100 * mean('source_uar'):.1f} | "
              f"{100 * mean('source_fit_uar'):.1f} | {mean('feature_rank'):.1f} | {mean('proxy_a_distance'):.2f} |")
    print("\n| contrast | paired difference [95 % CI] | verdict |\n|---|---|---|")
    for method in ("ida-reconstruction", "ida-spread"):
        for baseline in ("ida", "source-only"):
            v = paired_verdict(runs, method, baseline=baseline, n_classes=5)
            print(f"| {method} - {baseline} | {v.mean_difference:+.1f} {v.interval()} (n={v.n_pairs}) | {v.verdict}: {v.reason} |")
    print()
