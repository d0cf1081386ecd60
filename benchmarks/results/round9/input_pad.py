# A record, not a tool: the one-off script that wrote this round's figure, kept as run. It wrote to the fixed path
# /tmp/w18/ (created by hand; its output was copied beside this file) and imported benchmarks/ through sys.path,
# before benchmarks/ became a package: to rerun it, create /tmp/w18 or change the path, and check out its round's commit.
import sys, json, dataclasses
from pathlib import Path
sys.path.insert(0, "benchmarks")
from cross_corpus import task_manifests
from didan_lite.experiment import ExperimentConfig, load_task
from didan_lite.metrics import proxy_a_distance
out = {}
for name in ("B-C", "C-B", "synthetic"):
    s, t, em = task_manifests(name, Path("../shared/corpora"))
    for label, feat in (("new", ExperimentConfig().features), ("old", dataclasses.replace(ExperimentConfig().features, level="none", trim_db=None, length="pad"))):
        task = load_task(s, t, emotions=em, config=ExperimentConfig(features=feat), progress=False)
        xs, xt = task.source_all.x.mean(-1).numpy(), task.target.x.mean(-1).numpy()
        out[f"{name} {label}"] = proxy_a_distance(xs, xt, seed=0)
        print(name, label, out[f"{name} {label}"], flush=True)
json.dump(out, open("/tmp/w18/inpad.json", "w"), indent=1)
