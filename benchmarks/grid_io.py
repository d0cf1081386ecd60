"""The benchmark scripts' files: provenance, seeds, paths that must exist, JSON read and written atomically.

Shared by :mod:`benchmarks.paired_grid`, :mod:`benchmarks.make_checkpoints`, :mod:`benchmarks.shift_bench`
and :mod:`benchmarks.backbone_selection`.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import subprocess
from pathlib import Path

import torch

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.features import SpecMasks
from didan_lite.validation import MAX_SEED


def provenance(argv: list[str]) -> dict:
    """Command (``python`` + ``argv``, the script first: a tool of this folder is written as ``-m benchmarks.<tool>``),
    commit (marked when the tree has uncommitted changes), date and machine of a benchmark run."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()

    script = Path(argv[0]) if argv else None
    if script is not None and script.suffix == ".py" and script.resolve().parent == Path(__file__).resolve().parent:
        argv = ["-m", f"benchmarks.{script.stem}", *argv[1:]]
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"command": " ".join(["python", *argv]),
            "commit": (git("rev-parse", "--short", "HEAD") or "not recorded") + (" (uncommitted changes)" if dirty else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="minutes"),
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs shared, torch {torch.__version__}, one torch thread per run"}


def required(path: Path, what: str) -> Path:
    """``path`` when it exists.

    Raises:
        InputError: it does not (a mistyped folder would silently drop its rows).
    """
    if not path.exists():
        raise InputError(f"{what} {path} does not exist; check the path.")
    return path


MAX_SEEDS = 10_000
"""Most seeds one call may list: a grid trains every one, so a larger range is a typing mistake (and would only
build a list that fills the memory)."""


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``701,702`` or ``701-705`` (ranges inclusive), in order, each once; every seed in
    [0, :data:`didan_lite.validation.MAX_SEED`], at most :data:`MAX_SEEDS` of them.

    Raises:
        InputError: anything else, before any list is built.
    """
    seeds: dict[int, None] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        low, dash, high = part.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())) or (dash and int(high) < int(low)):
            raise InputError(f"--seeds {text!r}: {part!r} is not a seed or a range such as 701-705.")
        first, last = int(low), int(high or low)
        if last > MAX_SEED:
            raise InputError(f"--seeds {text!r}: {last} is out of range; a seed must lie in [0, {MAX_SEED}].")
        if last - first + 1 + len(seeds) > MAX_SEEDS:
            raise InputError(f"--seeds {text!r} lists more than {MAX_SEEDS:,} seeds; a grid trains every one. "
                             "Give a shorter range such as 701-710.")
        seeds.update(dict.fromkeys(range(first, last + 1)))
    if not seeds:
        raise InputError("--seeds is empty; give e.g. 701,702,703 or 701-710.")
    return list(seeds)


def read_json(path: Path, default):
    """``path``'s JSON, ``default`` when absent.

    Raises:
        InputError: the file is not JSON.
    """
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON ({exc.msg}); move it away or give another --out.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text, so not a JSON file this script wrote; move it away.") from None


def backbone_name(norm: str, spec_masks: dict | None = None) -> str:
    """A backbone as folders record it: the normalisation layer, then ``+spec-masks`` when the source batches were
    masked with :class:`didan_lite.features.SpecMasks`' defaults, ``+spec-masks(F,B,T,N)`` with other settings."""
    if not spec_masks:
        return norm
    settings = tuple(spec_masks.values())
    return f"{norm}+spec-masks" + ("" if settings == dataclasses.astuple(SpecMasks()) else str(settings).replace(" ", ""))


def backbone_of(grid: dict) -> str | None:
    """The backbone (:func:`backbone_name`) of a ``grid.json``'s runs; None for a folder without runs.

    A folder written before ``--norm`` existed records none: its runs used the GroupNorm default of that time.
    """
    settings = grid.get("settings") or {}
    if settings.get("norm") is None:
        return "group" if grid.get("rows") else None
    return backbone_name(settings["norm"], settings.get("spec_masks"))


def write_json(path: Path, payload) -> None:
    """``payload`` as JSON at ``path``, written atomically."""
    with atomic_write(path, "w") as handle:
        json.dump(payload, handle, indent=1)
