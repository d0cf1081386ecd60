"""Round 16, amendment 1: the fast preset's backbone, GroupNorm against BatchNorm, on held-out source speakers.

Source-only in the fast preset (didan_lite.presets.FAST: the class-balanced subset, 8 utterances per domain in
a batch, one pass per epoch, no dropout) on the embedded synthetic pair; selection seeds 700 and 900; the
preset's fixed held-out speakers (``score_candidate(..., n_folds=1)``). No target figure is computed. Run from the
repository root: ``python benchmarks/results/round16/fast_backbone_check.py OUT.json``.
"""

import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, ".")
from benchmarks.backbone_selection import score_candidate  # noqa: E402
from data_fetch import task_manifest_paths  # noqa: E402
from didan_lite.experiment import load_task  # noqa: E402
from didan_lite.manifest import balanced_subset, read_manifest  # noqa: E402
from didan_lite.presets import FAST  # noqa: E402

source, target, emotions = task_manifest_paths("synthetic")
source, target = (balanced_subset(read_manifest(m), FAST.max_per_class) for m in (source, target))
task = load_task(source, target, emotions=emotions, config=FAST.config, progress=False)
rows = []
for norm in ("group", "batch"):
    for seed in (700, 900):
        began = time.perf_counter()
        row = score_candidate(task, dataclasses.replace(FAST.config.model, norm=norm),
                              dataclasses.replace(FAST.config.train, progress=False), seed, 1)
        rows.append({"norm": norm, "seed": seed, **row, "seconds": time.perf_counter() - began})
        print(json.dumps(rows[-1]), flush=True)
        Path(sys.argv[1]).write_text(json.dumps({"task": "synthetic", "preset": "fast", "rows": rows}, indent=1))
