"""What the telephone channel costs source-only on B->C, and how much of it each method recovers (paired by seed).

Run from the repository root: python benchmarks/results/round10/channel_cost.py
Cost = clean source-only (round 9, B-C) - telephone source-only (round 10, B-C+telephone), same seed;
recovery = method - source-only on the telephone task, same seed; 95 % t-intervals over the seeds.
"""
import json
from pathlib import Path

import numpy as np
from scipy import stats

RESULTS = Path("benchmarks/results")


def rows(path: Path) -> dict:
    by_method: dict = {}
    for row in json.loads(path.read_text())["rows"]:
        by_method.setdefault(row["method"], {})[row["seed"]] = 100 * row["target_uar"]
    return by_method


def interval(values: np.ndarray) -> str:
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return f"{values.mean():+.1f} [{values.mean() - half:+.1f}, {values.mean() + half:+.1f}]"


clean = rows(RESULTS / "round9/B-C/grid.json")["source-only"]
telephone = rows(RESULTS / "round10/B-C+telephone/grid.json")
seeds = sorted(telephone["source-only"])
cost = np.array([clean[s] - telephone["source-only"][s] for s in seeds])
print(f"channel cost to source-only, points, seeds {seeds}: {interval(cost)}")
for method in ("mmd", "ida", "adabn"):
    recovery = np.array([telephone[method][s] - telephone["source-only"][s] for s in seeds])
    print(f"{method}: recovers {interval(recovery)} points, {recovery.mean() / cost.mean():+.0%} of the cost")
