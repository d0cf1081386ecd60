"""Re-execute notebooks in place so that their committed outputs stay current (what ``make notebooks`` runs).

Usage::

    DIDAN_LITE_FAST=1 python notebooks/execute.py notebooks/*.ipynb     # fast mode, as committed
    python notebooks/execute.py notebooks/03_mmd.ipynb --timeout 900

Each notebook runs in a fresh kernel with its own folder as the working
directory (as in Jupyter and under nbval), against this checkout: the
repository root is put first on the kernel's ``PYTHONPATH``, so an older
installed copy of the package cannot be what the outputs show. Notebooks run
one after another (later ones reuse the feature cache of earlier ones), and a
failing cell stops the run with the cell's error; the notebook on disk is then
left as it was. A notebook with a source of truth in ``notebooks/source/`` is first
regenerated from it (``notebooks/coursework.py``: the student version that runs, and
the instructor version), so an edit of a source is what runs. Execution timestamps and widget state are not stored, so a
re-run changes only what the cells print and draw (an optional widget keeps its
text fallback).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from didan_lite.atomic import atomic_write  # noqa: E402  (needs the repository on sys.path)

sys.path.insert(0, str(REPO / "notebooks"))
import coursework  # noqa: E402  (notebooks/coursework.py, beside this file)


def kernel_environment() -> dict[str, str]:
    """This process's environment with the repository root first on ``PYTHONPATH``."""
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def execute_notebook(path: Path, timeout: int, kernel: str) -> float:
    """Execute ``path`` in place; return the seconds it took.

    Raises:
        CellExecutionError: a cell failed (the file is not rewritten).
    """
    if (coursework.SOURCES / path.name).is_file() and path.parent == coursework.NOTEBOOKS:
        coursework.generate(path.name)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    began = time.perf_counter()
    client.execute(env=kernel_environment())
    seconds = time.perf_counter() - began
    notebook.metadata.pop("widgets", None)  # live widget state: useless in a file, and large
    with atomic_write(path, "w", encoding="utf-8") as handle:
        nbformat.write(notebook, handle)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks to execute, in order")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    args = parser.parse_args(argv)
    mode = os.environ.get("DIDAN_LITE_FAST", "unset: fast on a CPU, full on a GPU")
    print(f"Executing {len(args.notebooks)} notebook(s), DIDAN_LITE_FAST={mode}", flush=True)
    total = 0.0
    for path in args.notebooks:
        try:
            seconds = execute_notebook(path.resolve(), args.timeout, args.kernel)
        except CellExecutionError as exc:
            print(f"FAILED {path.name}:\n{exc}", file=sys.stderr)
            return 1
        total += seconds
        print(f"{path.name}: {seconds:.0f} s", flush=True)
    print(f"All {len(args.notebooks)} notebook(s): {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
