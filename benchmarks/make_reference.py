"""Write a reference result (didan_lite/reference_results/<task>.json) from the benchmark's outputs.

    python -m benchmarks.make_reference benchmarks/results/grid/results.json --task B-C
    python -m benchmarks.make_reference runs/my-compare/metrics.json --task synthetic --mode fast

Inputs: ``results.json`` of ``benchmarks/cross_corpus.py`` (its entry for
``--task``) or ``metrics.json`` of ``didan-lite compare``; several are merged
(each (method, seed) once). Provenance (command, commit, date, machine, mode)
is taken from the outputs where they record it; the options below override it
or fill what they lack, and anything still unknown is written "not recorded".
See :mod:`didan_lite.reference` for the format.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.reference import REFERENCE_DIR, read_reference, reference_record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outputs", nargs="+", type=Path, help="results.json or metrics.json files of one task")
    parser.add_argument("--task", required=True, help="task name, e.g. B-C, C-B, synthetic (the file's name)")
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="folder to write <task>.json into")
    for key in ("command", "commit", "date", "machine", "mode"):
        parser.add_argument(f"--{key}", help=f"provenance: {key} (overrides what the outputs record)")
    parser.add_argument("--note", help="provenance: a sentence on what these numbers are (e.g. 'previous defaults')")
    args = parser.parse_args(argv)
    try:
        record = reference_record(args.outputs, args.task, command=args.command, commit=args.commit, date=args.date,
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
