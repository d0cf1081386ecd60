"""The benchmark tools are a package: each imports as ``benchmarks.<tool>``, none edits ``sys.path`` (but the two
shims that keep ``python benchmarks/<tool>.py`` working for the commands their records name)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from conftest import REPO

TOOLS = sorted(path.stem for path in (REPO / "benchmarks").glob("*.py") if path.stem != "__init__")
"""Every module of benchmarks/ (the :data:`HELPERS` and the tools, each with a main())."""
HELPERS = {"grid_io", "grid_summary", "shift_table"}
"""Modules the tools import, run through them (grid_summary by ``paired_grid --summarise``, shift_table by
``shift_bench --table``): no main() of their own."""
SHIMMED = {"shift_bench", "backbone_selection"}


@pytest.mark.parametrize("tool", TOOLS)
def test_each_tool_imports_as_a_module_without_touching_sys_path(tool):
    before = list(sys.path)
    module = importlib.import_module(f"benchmarks.{tool}")
    assert sys.path == before
    assert tool in HELPERS or callable(getattr(module, "main", None)), f"benchmarks.{tool} has no main()"
    source = (REPO / "benchmarks" / f"{tool}.py").read_text(encoding="utf-8")
    assert ("sys.path" in source) == (tool in SHIMMED)


@pytest.mark.parametrize("tool", sorted(SHIMMED))
def test_the_shimmed_tools_still_run_as_scripts(tool):
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / f"{tool}.py"), "--help"], capture_output=True,
                          text=True, cwd=REPO.parent, timeout=120)
    assert done.returncode == 0 and "usage:" in done.stdout, done.stderr
