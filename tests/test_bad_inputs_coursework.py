"""Bad inputs to the coursework generator and the paired grid, found by the third reliability pass (issue 29).

==  ==================================================  =============================================
 3  solution markers in nbgrader's other forms          test_no_solution_reaches_the_student_whatever_the_marker_form
16  only one marker changed; a truncated source         test_a_broken_source_is_one_line_naming_notebook_and_cell
14  a seed range of 400 million                         GRID_CASES["seed-range-huge"]
15  paired_grid: --out a file or read-only,             GRID_CASES["out-is-a-file"], ["out-read-only"],
    seeds beyond 2**32 - 1, --selection-seed -1,        ["seed-too-large"], ["selection-seed-negative"],
    --summarise on a grid.json lacking keys             ["summarise-lacking-keys"]
==  ==================================================  =============================================
"""

from __future__ import annotations

import importlib

import json
import os
import tracemalloc
from pathlib import Path

import nbformat
import pytest
from conftest import load_script

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def coursework(tmp_path, monkeypatch):
    """The generator, its folders moved under ``tmp_path`` with one source notebook holding one solution."""
    module = load_script("notebooks/coursework.py")
    monkeypatch.setattr(module, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(module, "SOURCES", tmp_path / "source")
    monkeypatch.setattr(module, "INSTRUCTOR", tmp_path / "instructor")
    (tmp_path / "source").mkdir()
    return module


def _write_source(module, solution_cell: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("badge"), nbformat.v4.new_code_cell("setup()"),
        nbformat.v4.new_code_cell(solution_cell), nbformat.v4.new_code_cell("check_exercise_1_3(hann)"),
    ])
    path = module.SOURCES / "01_x.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("begin, end", [
    ("### BEGIN SOLUTION  # the model answer", "### END SOLUTION"),
    ("# BEGIN SOLUTION", "# END SOLUTION"),
    ("### begin solution", "### END SOLUTION # done"),
])
def test_no_solution_reaches_the_student_whatever_the_marker_form(coursework, begin, end):
    """Item 3: nbgrader takes any line holding BEGIN / END SOLUTION as a marker; so does the generator."""
    _write_source(coursework, f"def hann(n):\n    {begin}\n    return secret_answer(n)\n    {end}")
    assert coursework.main([]) == 0
    student = (coursework.NOTEBOOKS / "01_x.ipynb").read_text()
    assert "secret_answer" not in student and "# YOUR CODE HERE" in student
    assert "secret_answer" in (coursework.INSTRUCTOR / "01_x.ipynb").read_text()


@pytest.mark.parametrize("damage, words", [
    ("begin-changed", ("01_x.ipynb", "cell 2", "line 4", "END SOLUTION without")),
    ("truncated", ("01_x.ipynb", "not a readable notebook", "NotJSONError")),
])
def test_a_broken_source_is_one_line_naming_notebook_and_cell(coursework, capsys, damage, words):
    """Item 16: one line, exit 2, and nothing written (the student file of a broken source would leak or be lost)."""
    path = _write_source(coursework, "def hann(n):\n    ## BEGIN SOLUTON\n    return secret_answer(n)\n"
                                     "    ### END SOLUTION")
    if damage == "truncated":
        _write_source(coursework, "x = 1")
        path.write_text(path.read_text()[:200])
    assert coursework.main([]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and all(w in lines[0] for w in words), err
    assert not (coursework.NOTEBOOKS / "01_x.ipynb").exists() and not coursework.INSTRUCTOR.exists()


@pytest.fixture
def grid(tmp_path, monkeypatch):
    module = importlib.import_module("benchmarks.paired_grid")
    monkeypatch.setattr(module, "load_task", lambda *a, **k: pytest.fail("the grid started work"))
    monkeypatch.setattr(module, "task_manifests", lambda *a, **k: pytest.fail("the grid started work"))
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "data"))
    return module


def _out_file(tmp_path: Path) -> list[str]:
    (tmp_path / "file").write_text("x")
    return ["--out", str(tmp_path / "file")]


def _out_read_only(tmp_path: Path) -> list[str]:
    if ROOT_USER:
        pytest.skip("permissions do not bind the root user")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    return ["--out", str(tmp_path / "ro" / "out")]


def _summarise_lacking_keys(tmp_path: Path) -> list[str]:
    (tmp_path / "B-C").mkdir()
    (tmp_path / "B-C" / "grid.json").write_text(json.dumps({"rows": [{"task": "B-C", "method": "ida", "seed": 1}]}))
    return ["--summarise", str(tmp_path / "B-C"), "--out", str(tmp_path / "summary")]


GRID_CASES = {
    "seed-range-huge": (lambda t: ["--seeds", "0-400000000", "--out", str(t / "o")], ("more than 10,000 seeds",)),
    "seed-too-large": (lambda t: ["--seeds", "4294967296", "--out", str(t / "o")], ("4294967296", "out of range")),
    "selection-seed-negative": (lambda t: ["--selection-seed", "-1", "--out", str(t / "o")], ("--selection-seed -1",)),
    "out-is-a-file": (_out_file, ("is a file", "--out")),
    "out-read-only": (_out_read_only, ("cannot be written", "--out")),
    "summarise-lacking-keys": (_summarise_lacking_keys, ("grid.json lacks", "command", "elapsed_s")),
}


@pytest.mark.parametrize("name", list(GRID_CASES))
def test_paired_grid_refuses_bad_arguments_with_one_line_before_work(grid, tmp_path, capsys, name):
    """Items 14-15: exit 2, one line, no work; the seed range is refused before any list is built (bounded memory)."""
    build, words = GRID_CASES[name]
    argv = build(tmp_path)
    tracemalloc.start()
    code = grid.main(argv)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert all(word in lines[0] for word in words), lines[0]
    assert peak < 50 * 2**20  # megabytes, not the gigabytes of a 400-million-seed list
