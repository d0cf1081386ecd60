"""Speed benchmark: measured figures, printed and saved (never a timed test).

    python -m benchmarks.speed [--device auto] [--methods source-only,mmd,ida] [--demo] [--out runs/bench-speed]

Measures, on the embedded synthetic corpora:
- corpus generation (s),
- feature extraction in utterances per second (cold cache: decode, resample,
  spectrogram) on the CPU, and on the GPU when there is one,
- training time per epoch and per run for each method (default settings),
- with ``--demo``: the main job end to end (``make demo`` without install).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from didan_lite.atomic import atomic_write
from didan_lite.experiment import ExperimentConfig, load_task, run_method
from didan_lite.features import extract_corpus
from didan_lite.manifest import read_manifest
from didan_lite.runtime import pick_device
from didan_lite.synthetic import make_default_corpora
from didan_lite.training import TrainConfig


def machine() -> dict:
    """Where the figures were measured."""
    info = {"python": platform.python_version(), "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
            "cpu_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--methods", default="source-only,mmd,ida")
    parser.add_argument("--demo", action="store_true", help="also time the main job end to end")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-speed"))
    args = parser.parse_args()
    results: dict = {"machine": machine()}

    with tempfile.TemporaryDirectory() as scratch:
        began = time.perf_counter()
        source, target = make_default_corpora(root=Path(scratch) / "data", seed=0)
        results["generation_s"] = time.perf_counter() - began

        frame = read_manifest(source)
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            began = time.perf_counter()
            extract_corpus(frame, cache_dir=Path(scratch) / f"cache-{device}", progress=False, device=device)
            results[f"features_utt_per_s_{device}"] = len(frame) / (time.perf_counter() - began)

        config = ExperimentConfig(cache_dir=str(Path(scratch) / "cache-cpu"), train=TrainConfig(device=args.device, progress=False))
        task = load_task(source, target, config=config, progress=False)
        results["device"] = str(pick_device(args.device))
        results["training"] = {}
        for method in args.methods.split(","):
            run = run_method(task, method, seed=0, config=config)
            per_epoch = [row["seconds"] for row in run.history]
            results["training"][method] = {
                "run_s": run.seconds,
                "epoch_s_median": sorted(per_epoch)[len(per_epoch) // 2],
                "epochs": len(per_epoch),
                "target_uar": run.target_uar,
            }

    if args.demo:
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "didan_lite", "compare", "--out", out, "--quiet"], check=True)
            results["demo_end_to_end_s"] = time.perf_counter() - began

    with atomic_write(args.out / "speed.json", "w") as handle:
        json.dump(results, handle, indent=1)
    print(json.dumps(results, indent=1))
    print(f"Saved to {args.out / 'speed.json'}")


if __name__ == "__main__":
    main()
