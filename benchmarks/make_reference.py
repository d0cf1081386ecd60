"""Write a reference result (didan_lite/reference_results/<task>.json) from the benchmark's outputs.

    python -m benchmarks.make_reference benchmarks/results/grid/results.json --task B-C
    python -m benchmarks.make_reference runs/my-compare/metrics.json --task synthetic --mode fast
    python -m benchmarks.make_reference benchmarks/results/round16/grid-batchnorm/{B-C,B-C-708,B-C-709} --task B-C

Inputs: ``results.json`` of ``benchmarks/cross_corpus.py`` (its entry for
``--task``), ``metrics.json`` of ``didan-lite compare``, or a folder of
``benchmarks/paired_grid.py`` (its rows, with the ``adabn`` rows its summary
derives from BatchNorm source-only runs); several are merged (each (method,
seed) once). Provenance (command, commit, date, machine, mode)
is taken from the outputs where they record it; the options below override it
or fill what they lack, and anything still unknown is written "not recorded".
See :mod:`didan_lite.reference` for the format.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.reference import REFERENCE_DIR, read_reference, reference_record

from benchmarks import grid_summary
from benchmarks.grid_io import read_json, required


def grid_output(folder: Path, heldout: dict) -> tuple[Path, dict]:
    """A ``paired_grid`` folder as one comparison output: its runs (a derived ``adabn`` row beside each BatchNorm
    source-only run, :func:`benchmarks.grid_summary.merged_rows`; a missing held-out source UAR filled from
    ``heldout``, task -> method -> UAR), its emotions and every invocation's provenance."""
    rows, invocations, _, _ = grid_summary.merged_rows([folder], heldout)
    settings = read_json(folder / "grid.json", {}).get("settings", {})
    record = {"runs": [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()} for row in rows],
              "class_names": read_json(folder / "metrics.json", {}).get("class_names"),
              "settings": {"mode": "fast" if settings.get("fast") else "full"}}
    for key in ("command", "commit", "date", "machine"):
        record[key] = "; ".join(dict.fromkeys(str(run[key]) for run in invocations if run.get(key) is not None))
    return folder, record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outputs", nargs="+", type=Path, help="results.json or metrics.json files, or paired_grid folders, of one task")
    parser.add_argument("--task", required=True, help="task name, e.g. B-C, C-B, synthetic (the file's name)")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="folder to write <task>.json into")
    for key in ("command", "commit", "date", "machine", "mode"):
        parser.add_argument(f"--{key}", help=f"provenance: {key} (overrides what the outputs record)")
    parser.add_argument("--heldout", type=Path, help="paired_grid folders: JSON task -> method -> held-out source "
                        "UAR for runs that lack one (as paired_grid --summarise --heldout)")
    parser.add_argument("--note", help="provenance: a sentence on what these numbers are (e.g. 'previous defaults')")
    args = parser.parse_args(argv)
    try:
        heldout = read_json(required(args.heldout, "--heldout file"), {}) if args.heldout else {}
        outputs = [grid_output(path, heldout) if (path / "grid.json").is_file() else path for path in args.outputs]
        record = reference_record(outputs, args.task, command=args.command, commit=args.commit, date=args.date,
                                  machine=args.machine, mode=args.mode, note=args.note)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    path = args.out / f"{args.task}.json"
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
        handle.write("\n")
    print(read_reference(path).describe())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
