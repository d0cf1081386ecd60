"""Write a reference result (didan_lite/reference_results/<task>.json) from the benchmark's outputs.

    python -m benchmarks.make_reference benchmarks/results/grid/results.json --task B-C
    python -m benchmarks.make_reference runs/my-compare/metrics.json --task synthetic --mode fast
    python -m benchmarks.make_reference benchmarks/results/round16/grid-batchnorm/{B-C,B-C-708,B-C-709} --task B-C

Inputs: ``results.json`` of ``benchmarks/cross_corpus.py`` (its entry for
``--task``), ``metrics.json`` of ``didan-lite compare``, or a folder of
``benchmarks/paired_grid.py`` with the rows its summary gives
(:func:`benchmarks.grid_summary.merged_rows`: an ``adabn`` row per BatchNorm
source-only run, a ``batchnorm`` row per ``adabn`` run, ``<method>@rule`` for a
weight the rule chose); several are merged (each (method, seed) once), and
folders of one backbone only (recorded as ``provenance.backbone``). Provenance
(command, commit, date, machine, mode) is taken from the outputs where they
record it; the options below override it or fill what they lack, and anything
still unknown is written "not recorded". The file is checked before it
replaces anything in ``--out``.
See :mod:`didan_lite.reference` for the format.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.reference import REFERENCE_DIR, read_reference, reference_record

from benchmarks import grid_summary
from benchmarks.grid_io import backbone_of, read_json, required


def grid_output(folder: Path, task: str, heldout: dict) -> tuple[Path, dict]:
    """A ``paired_grid`` folder as one comparison output: its rows for ``task`` (a missing held-out source UAR filled
    from ``heldout``, task -> method -> UAR), its emotions, backbone and every invocation's provenance.

    Raises:
        InputError: no ``grid.json``, rows of another task, or no emotions in its ``metrics.json``.
    """
    if not (folder / "grid.json").is_file():
        raise InputError(f"{folder} is a folder without grid.json; give folders written by benchmarks/paired_grid.py, "
                         "or results.json / metrics.json files.")
    rows, invocations, _, _ = grid_summary.merged_rows([folder], heldout)
    other = sorted({row["task"] for row in rows} - {task})
    if other:
        raise InputError(f"{folder} holds runs of task(s) {', '.join(other)}, not {task}; give the folders of --task only.")
    emotions = read_json(folder / "metrics.json", {}).get("class_names")
    if not emotions:
        raise InputError(f"{folder / 'metrics.json'} is missing or names no emotions; give the folder paired_grid wrote.")
    grid = read_json(folder / "grid.json", {})
    settings = grid.get("settings") or {}
    record = {"runs": [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()} for row in rows],
              "class_names": emotions, "backbone": backbone_of(grid),
              "settings": {"mode": {True: "fast", False: "full"}.get(settings.get("fast"))}}
    for key in ("command", "commit", "date", "machine"):
        values = dict.fromkeys(str(run[key]) for run in invocations if run.get(key) is not None)
        record[key] = "; ".join(values) if values else None
    return folder, record


def checked_heldout(path: Path) -> dict:
    """``--heldout``: task -> method -> held-out source UAR (a fraction in [0, 1]).

    Raises:
        InputError: a missing or unreadable file, or another shape, naming the first bad entry.
    """
    heldout = read_json(required(path, "--heldout file"), None)
    if not isinstance(heldout, dict):
        raise InputError(f"--heldout {path} holds a {type(heldout).__name__}, not an object task -> method -> UAR.")
    for task, methods in heldout.items():
        for method, uar in (methods.items() if isinstance(methods, dict) else [("", methods)]):
            if not isinstance(methods, dict) or isinstance(uar, bool) or not isinstance(uar, (int, float)) \
                    or not 0 <= uar <= 1:
                raise InputError(f"--heldout {path}: {task!r} {method!r} is {uar!r}; give task -> method -> a UAR in [0, 1].")
    return heldout


def grid_outputs(paths: list[Path], task: str, heldout: dict) -> tuple[list[Path | tuple[Path, dict]], str | None]:
    """(``paths`` with every folder read by :func:`grid_output`, the folders' one backbone or None without folders).

    Raises:
        InputError: as :func:`grid_output`, or folders of two backbones.
    """
    outputs = [grid_output(path, task, heldout) if path.is_dir() else path for path in paths]
    backbones = {record.pop("backbone"): folder for folder, record in (o for o in outputs if isinstance(o, tuple))}
    if len(backbones) > 1:
        raise InputError("the folders ran different backbones (" + ", ".join(f"{b!r} in {f}" for b, f in backbones.items())
                         + "); one reference is one network: give the folders of one backbone.")
    return outputs, next(iter(backbones), None)


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
        outputs, backbone = grid_outputs(args.outputs, args.task, checked_heldout(args.heldout) if args.heldout else {})
        record = reference_record(outputs, args.task, command=args.command, commit=args.commit, date=args.date,
                                  machine=args.machine, mode=args.mode, note=args.note, backbone=backbone)
        text = json.dumps(record, indent=1) + "\n"
        path = args.out / f"{args.task}.json"
        with tempfile.TemporaryDirectory() as scratch:  # checked before it replaces anything in --out
            trial = Path(scratch) / path.name
            trial.write_text(text, encoding="utf-8")
            try:
                reference = read_reference(trial)
            except InputError as error:
                raise InputError(str(error).replace(str(trial), str(path) + " (not written)")) from None
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(reference.describe())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
