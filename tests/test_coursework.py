"""The student and instructor notebooks are generated from one source per notebook, and stay in sync with it.

notebooks/coursework.py writes both versions from notebooks/source/; these tests regenerate them in memory and
compare with the committed files, and check what each version may and may not hold.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from conftest import load_script

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks" / "source").glob("0*.ipynb"))


def _coursework():
    return load_script("notebooks/coursework.py")


def test_every_teaching_notebook_has_a_source():
    assert [path.name[:2] for path in SOURCES] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_regenerating_changes_nothing(source):
    """Student and instructor files are exactly what notebooks/coursework.py writes (run it after editing a source)."""
    assert _coursework().generate(source.name, write=False) == [], "out of sync: run `python notebooks/coursework.py`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_version_has_no_solution_and_no_rubric_but_keeps_every_check(source):
    coursework = _coursework()
    student = nbformat.read(REPO / "notebooks" / source.name, as_version=4)
    instructor = nbformat.read(REPO / "notebooks" / "instructor" / source.name, as_version=4)
    text = "\n".join(cell.source for cell in student.cells)
    assert coursework.BEGIN not in text and coursework.END not in text
    assert "A good answer covers" not in text and "Model answers" not in text
    assert not [cell for cell in student.cells if set(cell.metadata.get("tags", [])) & coursework.INSTRUCTOR_TAGS]
    checks = [line for cell in instructor.cells if cell.cell_type == "code" for line in cell.source.splitlines()
              if line.startswith("check_exercise_")]
    assert checks and all(check in text for check in checks), "every check of the instructor version is in the student's"
    solved = [cell for cell in instructor.cells if coursework.BEGIN in cell.source]
    assert solved or source.stem.startswith("06"), "at least one code exercise whose check runs the student's code"
    assert text.count("# YOUR CODE HERE") == len(solved)
    answers = [cell for cell in instructor.cells if "instructor" in cell.metadata.get("tags", [])]
    assert answers and "Model answers" in answers[0].source


def test_solutions_are_replaced_at_their_indentation_and_bad_markers_are_refused():
    coursework = _coursework()
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\ncheck(f)"
    assert coursework.strip_solutions(source) == "def f(x):\n    # YOUR CODE HERE\n\ncheck(f)"
    for broken in ("### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION"):
        with pytest.raises(ValueError):
            coursework.strip_solutions(broken)


def test_inline_rubrics_leave_the_student_version_and_the_question_stays():
    coursework = _coursework()
    cell = "3. **Q.** Why?\n   *A good answer covers:* the reason,\n   and more.\n4. **R.** How?"
    assert coursework.RUBRIC.sub("", cell) == "3. **Q.** Why?\n4. **R.** How?"


def test_cell_0_text_comes_from_the_source_and_its_badge_from_the_student_file():
    """The title, time line and learning goals are edited in the source; the badge line is notebooks/sync_setup.py's."""
    coursework = _coursework()
    badge = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://example.org/fork/01.ipynb)"
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("[![Open In Colab](old)](old)\n\n# 1. New title\n\n**Time.** 9 min"),
                                              nbformat.v4.new_code_cell("print('set-up, source')"),
                                              nbformat.v4.new_markdown_cell("prose")])
    current = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"{badge}\n\n# 1. Old title"),
                                               nbformat.v4.new_code_cell("print('set-up, student')"),
                                               nbformat.v4.new_markdown_cell("prose")])
    for version in (coursework.student_version(source, current), coursework.instructor_version(source, current)):
        assert version.cells[0].source == f"{badge}\n\n# 1. New title\n\n**Time.** 9 min"
        assert version.cells[1].source == "print('set-up, student')"
