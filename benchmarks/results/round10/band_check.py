"""Bins the shared-band mask (band_floor_db=40) zeroes on each real task; run from the repository root."""
import sys
from pathlib import Path

sys.path.insert(0, "benchmarks")
from cross_corpus import task_manifests, rerecorded
from didan_lite.results import ExperimentConfig
from didan_lite.features import extract_corpus
from didan_lite.manifest import read_manifest, restrict_emotions
from didan_lite.normalisation import shared_band
cfg = ExperimentConfig()
for task in ["B-C", "C-B", "B-C+telephone"]:
    s, t, e = task_manifests(task.split("+")[0], Path("../shared/corpora"))
    if "+" in task:
        t = rerecorded(t, "telephone")
    cs = [extract_corpus(restrict_emotions(read_manifest(m), e), cfg.features, progress=False) for m in (s, t)]
    for floor in (40.0,):
        keep = shared_band([c.spectrograms for c in cs], floor)
        print(task, floor, "bins zeroed:", int((~keep).sum()), "of", keep.size, "zeroed idx:", [i for i, k in enumerate(keep) if not k])
