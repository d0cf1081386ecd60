"""Which difference of the synthetic target makes source-only fail? Fast preset, source-only, seed 301."""
import sys, dataclasses, json, numpy as np, torch
torch.set_num_threads(1)
from pathlib import Path
from didan_lite import preset
from didan_lite.synthetic import DEFAULT_SOURCE, DEFAULT_TARGET, STUDIO_CHANNEL, TELEPHONE_CHANNEL, generate_corpus, make_default_corpora
from didan_lite.synthetic.corpora import CorpusSpec
from didan_lite.manifest import read_manifest, balanced_subset
from didan_lite.experiment import load_task, run_method
P = preset("fast")
root = Path("runs/synthetic-variants")
src, _ = make_default_corpora()
S = balanced_subset(read_manifest(src), P.max_per_class, seed=0)
variants = {
 "studio-channel": dict(channel=dataclasses.replace(STUDIO_CHANNEL, sample_rate=16000)),
 "band-only": dict(channel=dataclasses.replace(TELEPHONE_CHANNEL, rt60_s=0.0, snr_db=60.0)),
 "noise-room-only": dict(channel=dataclasses.replace(TELEPHONE_CHANNEL, band_hz=(50.0, 7600.0), band_order=2, resonance_db=2.0)),
}
for name in sys.argv[1].split(","):
    spec = dataclasses.replace(DEFAULT_TARGET, name=f"synth-phone-{name}", **variants[name])
    t = generate_corpus(spec, root, seed=0)
    T = balanced_subset(read_manifest(t), P.max_per_class, seed=0)
    task = load_task(S, T, config=P.config, progress=False)
    r = run_method(task, "source-only", 301, P.config)
    print(json.dumps({"variant": name, "target_uar": r.target_uar, "heldout": r.source_uar,
                      "confusion": np.round(np.array(r.target_confusion), 2).tolist()}), flush=True)
