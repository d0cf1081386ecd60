# A record, not a tool: the one-off script that wrote this round's figure, kept as run. It wrote to the fixed path
# /tmp/w18/ (created by hand; its output was copied beside this file) and imported benchmarks/ through sys.path,
# before benchmarks/ became a package: to rerun it, create /tmp/w18 or change the path, and check out its round's commit.
import sys, json, dataclasses, time
from pathlib import Path
sys.path.insert(0, "benchmarks")
from fast_mode import task_frames
from didan_lite.presets import FAST
from didan_lite.manifest import balanced_subset
from didan_lite.experiment import load_task, run_method
from didan_lite.synthetic import default_root
src, tgt, em = task_frames("synth", default_root(), None)
src, tgt = balanced_subset(src, FAST.max_per_class), balanced_subset(tgt, FAST.max_per_class)
variants = {"default": {}, "level-none": {"level": "none"}, "trim-none": {"trim_db": None}, "pad": {"length": "pad"},
            "old": {"level": "none", "trim_db": None, "length": "pad"}}
for name in sys.argv[1].split(","):
    feat = dataclasses.replace(FAST.config.features, **variants[name])
    cfg = dataclasses.replace(FAST.config, features=feat)
    task = load_task(src, tgt, emotions=em, config=cfg, progress=False)
    t0 = time.time()
    r = run_method(task, "source-only", 301, cfg)
    row = {"variant": name, "target": r.target_uar, "heldout": r.source_uar, "s": time.time() - t0}
    print(json.dumps(row), flush=True)
    open("/tmp/w18/synthdiag.jsonl", "a").write(json.dumps(row) + "\n")
