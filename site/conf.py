"""Sphinx configuration of the course site (``make site``): the executed student notebooks, from their saved outputs.

The numbered notebooks (``notebooks/NN_*.ipynb``) are copied into ``site/notebooks/`` at each build, so the
instructor key and ``notebooks/instructor/`` and ``notebooks/source/`` never reach the site. Nothing is executed
(``nb_execution_mode = "off"``): the pages show the outputs committed with the notebooks. The front page is the
README's notebook table (between its ``<!-- notebooks -->`` markers).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

SITE = Path(__file__).resolve().parent
REPO = SITE.parent
STUDENT_NOTEBOOK = re.compile(r"\d\d_.+\.ipynb")

project = "didan-lite"
author = "didan-lite contributors"
extensions = ["myst_nb"]
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]  # the notebooks' $...$ and $$...$$ (MathJax)
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1200px"}
html_title = "didan-lite: cross-corpus speech emotion recognition, a course"
suppress_warnings = ["mystnb.unknown_mime_type"]


def _copy_student_notebooks(app) -> None:
    """Replace ``site/notebooks/`` with the numbered student notebooks of ``notebooks/``."""
    target = SITE / "notebooks"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        if STUDENT_NOTEBOOK.fullmatch(path.name):
            shutil.copy2(path, target / path.name)


def setup(app) -> None:
    app.connect("builder-inited", _copy_student_notebooks)
