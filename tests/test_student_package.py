"""What a student installs or opens holds no instructor answer: the built wheel, the sdist's file list, the student
notebooks (issue 26, item 9)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "Model answers (instructor version only)", "*A good answer covers:*")
"""Text only the instructor versions hold (notebooks/coursework.py strips it from the student versions)."""
INSTRUCTOR_FILES = ("instructor_key", "notebooks/source/", "notebooks/instructor/")


def _leaks(name: str, text: str) -> list[str]:
    return [f"{name}: {marker!r}" for marker in MARKERS if marker in text]


@pytest.mark.slow
def test_the_built_wheel_holds_no_instructor_material(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "--wheel-dir", str(tmp_path), str(REPO)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("didan_lite-*.whl")
    leaks = []
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            leaks += [f"{name}: an instructor file" for part in INSTRUCTOR_FILES if part in name]
            if name.endswith((".py", ".ipynb", ".md", ".json", ".txt")):
                leaks += _leaks(name, archive.read(name).decode("utf-8", errors="replace"))
    assert not leaks, leaks


def test_the_sdist_leaves_the_instructor_material_out():
    manifest = (REPO / "MANIFEST.in").read_text(encoding="utf-8")
    for rule in ("prune notebooks/source", "prune notebooks/instructor", "exclude notebooks/instructor_key.ipynb"):
        assert rule in manifest.splitlines(), rule


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("0*.ipynb")), ids=lambda p: p.name)
def test_student_notebooks_hold_no_answer_and_do_not_point_to_the_key(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    leaks = []
    for index, cell in enumerate(notebook["cells"]):
        source = "".join(cell["source"])
        leaks += _leaks(f"cell {index}", source)
        leaks += [f"cell {index}: names the instructor key" for _ in [0] if "instructor_key" in source]
        leaks += [f"cell {index}: tagged {tag}" for tag in cell.get("metadata", {}).get("tags", []) if tag in ("instructor", "rubric")]
    assert not leaks, leaks
