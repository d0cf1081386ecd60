"""Training-set UAR of every seed-700 selection fold model (source labels only; loaded from checkpoints, no training).

A record, not a tool: run once from a detached worktree at 49713a0 (PYTHONPATH=that worktree), reading the
session's checkpoint folders under /work/wt (round 16's and round 19's selection runs), which are not kept.
"""
import json, sys
from pathlib import Path
from didan_lite.experiment import load_task, _train
from data_fetch import task_manifest_paths as task_manifests
from benchmarks.paired_grid import grid_config

W = Path("/work/wt")
DIRS = {"B-C": [W / "out16/B-C/checkpoints", W / "out19-B-C-auto/checkpoints", W / "out19-B-C-mmd-auto/checkpoints"],
        "C-B": [W / "out16/C-B/checkpoints", W / "out19-C-B-auto/checkpoints", W / "out19-C-B-mmd-auto/checkpoints"]}
out = {}
for name, dirs in DIRS.items():
    source, target, emotions = task_manifests(name, "/work/shared/corpora")
    config = grid_config(False, None)
    task = load_task(source, target, emotions=emotions, config=config, progress=False)
    for method, weight in [("source-only", None), ("mmd", 0.1), ("mmd", 0.3), ("mmd", 1.0), ("ida", 0.1), ("ida", 0.3), ("ida", 1.0)]:
        fits = []
        for k in range(4):
            fname = f"{method}-seed700-fold{k}.pt" if weight is None else f"{method}-w{weight:g}-seed700-fold{k}.pt"
            found = [d for d in dirs if (d / fname).is_file()]
            if not found:
                break
            run = _train(task, method, 700, config, weight, found[0], False, split=k)
            fits.append(run.extra["source_fit_uar"])
        key = f"{name} {method} {'-' if weight is None else weight}"
        out[key] = fits
        print(key, [round(100 * f, 1) for f in fits], flush=True)
Path(sys.argv[1]).write_text(json.dumps(out, indent=1))
