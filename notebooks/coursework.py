"""Student and instructor notebooks from one source of truth per notebook (nbgrader's conventions, no nbgrader).

Usage::

    python notebooks/coursework.py            # regenerate both versions of notebooks 01-07
    python notebooks/coursework.py --check    # exit 1 when a generated file is out of sync with its source

The source of truth of teaching notebook ``notebooks/0N_*.ipynb`` is
``notebooks/source/0N_*.ipynb``: the whole notebook, with

* model solutions in code cells between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` lines (nbgrader's markers);
* markdown cells tagged ``instructor`` or ``rubric`` (model answers to the open
  questions, marking notes), and inline rubrics: the text of a list item from
  ``*A good answer covers:*`` to the end of that item.

Generated from it:

* ``notebooks/0N_*.ipynb``, the **student** version (what Colab opens, executed
  and committed with outputs): each solution is replaced by ``# YOUR CODE HERE``,
  instructor and rubric cells and inline rubrics are removed, the checks stay.
  Outputs of cells whose source did not change are kept, and the badge (the
  first line of cell 0) and the set-up cell (cell 1) are kept from the student
  file: they belong to ``notebooks/sync_setup.py``. The rest of cell 0 (title,
  time line, learning goals) comes from the source, like every other cell.
* ``notebooks/instructor/0N_*.ipynb``, the **instructor** version: the source
  with its solutions and answers, without outputs (badge and set-up cells
  from the student file too).

Why not nbgrader or otter-grader: both install a Jupyter server extension stack
(nbgrader pins jupyter_server, nbconvert and a database layer; otter-grader
pulls its own grading runtime) beside Colab's pinned packages, for three
operations this course needs: strip solutions, strip instructor cells, keep
checks. The markers are nbgrader's, so a course that adopts nbgrader later can
use the sources as they are.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent
SOURCES = NOTEBOOKS / "source"
INSTRUCTOR = NOTEBOOKS / "instructor"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
INSTRUCTOR_TAGS = {"instructor", "rubric"}
RUBRIC = re.compile(r"\n?[ \t]*\*A good answer covers:\*.*?(?=\n\d+\. |\n#|\Z)", re.DOTALL)
SETUP_CELLS = 2
"""Badge and set-up cells: owned by notebooks/sync_setup.py, taken from the student file (of cell 0, its badge line only)."""
BADGE = "[![Open In Colab]"


class CourseworkError(ValueError):
    """A source notebook that cannot be split safely: one line naming the notebook (and cell) and what to fix."""


def _marker(line: str) -> str | None:
    """``BEGIN`` or ``END`` for a solution marker line in any form nbgrader accepts (the words anywhere in the
    line: ``### BEGIN SOLUTION  # note``, ``# BEGIN SOLUTION``), else ``None``."""
    text = line.upper()
    if "BEGIN SOLUTION" in text:
        return "BEGIN"
    if "END SOLUTION" in text:
        return "END"
    return None


def strip_solutions(source: str) -> str:
    """Each solution block (``### BEGIN SOLUTION`` ... ``### END SOLUTION``, markers in any form nbgrader accepts)
    -> ``# YOUR CODE HERE`` at the block's indentation.

    Raises:
        CourseworkError: unbalanced markers, naming the line.
    """
    lines, out, inside = source.splitlines(), [], False
    for number, line in enumerate(lines, 1):
        marker = _marker(line)
        if marker == "BEGIN":
            if inside:
                raise CourseworkError(f"line {number}: {BEGIN} inside a solution")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + "# YOUR CODE HERE")
        elif marker == "END":
            if not inside:
                raise CourseworkError(f"line {number}: {END} without {BEGIN} before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise CourseworkError(f"{BEGIN} without {END}")
    return "\n".join(out)


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def student_version(source, current=None):
    """The student notebook of ``source`` (see the module docstring); ``current``: the student file as it is now."""
    student = copy.deepcopy(source)
    cells = []
    for index, cell in enumerate(student.cells):
        if _tags(cell) & INSTRUCTOR_TAGS:
            continue
        if cell.cell_type == "code":
            try:
                cell.source = strip_solutions(cell.source)
            except CourseworkError as error:
                raise CourseworkError(f"cell {index}: {error}") from None
        elif cell.cell_type == "markdown":
            cell.source = RUBRIC.sub("", cell.source)
        cells.append(cell)
    student.cells = cells
    if current is not None:
        kept = {(c.cell_type, c.source): c for c in current.cells[SETUP_CELLS:]}
        first = _first_cell(student.cells[0], current.cells[0])
        student.cells[:SETUP_CELLS] = copy.deepcopy(current.cells[:SETUP_CELLS])
        student.cells[0] = first
        for index, cell in enumerate(student.cells[SETUP_CELLS:], SETUP_CELLS):
            before = kept.get((cell.cell_type, cell.source))
            if before is not None:
                student.cells[index] = copy.deepcopy(before)
        student.metadata = copy.deepcopy(current.metadata)
    return student


def _first_cell(source_cell, current_cell):
    """Cell 0 of a generated version: the source's text under the student file's badge line (notebooks/sync_setup.py
    writes that line from pyproject.toml; the source's own badge line, if any, may be stale)."""
    cell = copy.deepcopy(source_cell)
    badge = current_cell.source.split("\n", 1)[0]
    if badge.startswith(BADGE):
        lines = cell.source.split("\n")
        if lines[0].startswith(BADGE):
            lines[0] = badge
        else:
            lines[:0] = [badge, ""]
        cell.source = "\n".join(lines)
    return cell


def instructor_version(source, current=None):
    """The source with its solutions and answers, outputs and execution counts cleared; ``current``: the student
    file, whose badge and set-up cells (notebooks/sync_setup.py's) it takes."""
    instructor = copy.deepcopy(source)
    if current is not None:
        first = _first_cell(instructor.cells[0], current.cells[0])
        instructor.cells[:SETUP_CELLS] = copy.deepcopy(current.cells[:SETUP_CELLS])
        instructor.cells[0] = first
    for cell in instructor.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return instructor


def _text(notebook) -> str:
    return nbformat.writes(notebook) + "\n"


def generate(name: str, write: bool = True) -> list[Path]:
    """Regenerate both versions of notebook ``name`` (e.g. ``"03_mmd.ipynb"``); return the files that changed."""
    source = _read(SOURCES / name)
    student_path, instructor_path = NOTEBOOKS / name, INSTRUCTOR / name
    current = _read(student_path) if student_path.is_file() else None
    changed = []
    try:
        student = student_version(source, current)
    except CourseworkError as error:
        raise CourseworkError(f"{SOURCES / name}, {error}; fix the solution markers there "
                              f"({BEGIN} ... {END}) and run this again. Nothing was written.") from None
    versions = ((student_path, student), (instructor_path, instructor_version(source, current)))
    for path, notebook in versions:
        text = _text(notebook)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if write:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return changed


def _read(path: Path):
    """A notebook file, or one line naming it when it is not a readable notebook (truncated, not JSON)."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises NotJSONError, ValidationError, OSError ...
        reason = " ".join(str(error).split())[:120] or type(error).__name__
        raise CourseworkError(f"{path} is not a readable notebook ({type(error).__name__}: {reason}); restore it "
                              "(e.g. git checkout -- it) and run this again. Nothing was written.") from None


def sources() -> list[str]:
    """Names of the notebooks that have a source of truth."""
    return sorted(path.name for path in SOURCES.glob("0*.ipynb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="report files out of sync; write nothing")
    args = parser.parse_args(argv)
    try:  # every source is read and split before anything is written: a broken one leaves every file as it was
        stale = [path for name in sources() for path in generate(name, write=False)]
    except CourseworkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.check:
        for name in sources():
            generate(name, write=True)
    for path in stale:
        print(f"{'out of sync' if args.check else 'wrote'}: {path.relative_to(NOTEBOOKS.parent).as_posix()}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
