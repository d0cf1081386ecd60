"""Round 16: the BatchNorm grid (this round's machine) beside round 12's GroupNorm grid (another machine), by seed.

Descriptive only: runs made on two machines are not the same computation (README), so these are differences of
seed-matched runs, not paired reproductions. Run from the repository root:
``python benchmarks/results/round16/grid-batchnorm/beside_round12.py`` (writes beside_round12.md next to it).
"""

import json
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).parent
ROUND12 = HERE.parents[1] / "round12" / "grid"


def rows(folder: Path) -> dict:
    return {(r["task"], r["method"], int(r["seed"])): r for r in json.loads((folder / "grid.json").read_text())["rows"]}


def interval(differences: list[float]) -> str:
    d = np.asarray(differences, float)
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return f"{d.mean():+.1f} [{d.mean() - half:+.1f}, {d.mean() + half:+.1f}] (n={len(d)}, sd {d.std(ddof=1):.1f})"


batch = {k: v for f in ("B-C", "B-C-708", "B-C-709", "C-B", "C-B-706") for k, v in rows(HERE / f).items()}
group = {k: v for f in ("B-C", "C-B", "B-C-adabn", "C-B-adabn") for k, v in rows(ROUND12 / f).items()}
lines = ["# The BatchNorm grid (round 16, this machine) beside round 12's GroupNorm grid (another machine)", "",
         "Target UAR points, seed by seed (701-710), BatchNorm here minus round 12; mean [95 % t-interval]. Two machines:",
         "a description of seed-matched runs, not a paired reproduction (README).", "",
         "| task | method | BatchNorm here | round 12 | here - round 12 |", "|---|---|---|---|---|"]
for task in ("B-C", "C-B"):
    seeds = sorted(s for (t, m, s) in batch if t == task and m == "source-only")
    for method, theirs, key in (("source-only", "source-only", "target_uar"),
                                ("source-only", "adabn", "target_uar_source_statistics"),
                                ("mmd", "mmd", "target_uar"), ("ida", "ida", "target_uar")):
        here = [100 * batch[(task, method, s)]["target_uar"] for s in seeds]
        there = [100 * group[(task, theirs, s)][key] for s in seeds]
        name = "the BatchNorm network of its adabn runs" if theirs == "adabn" else f"GroupNorm {theirs}"
        lines.append(f"| {task} | {method} | {np.mean(here):.1f} | {np.mean(there):.1f} ({name}) | "
                     f"{interval(np.subtract(here, there))} |")
so = [np.mean([100 * batch[(t, "source-only", s)]["target_uar"] for (tt, m, s) in batch if tt == t and m == "source-only"])
      for t in ("B-C", "C-B")]
lines += ["", f"Source-only on BatchNorm, mean of B->C and C->B: {np.mean(so):.1f} (round 12's GroupNorm: 42.2)."]
(HERE / "beside_round12.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
