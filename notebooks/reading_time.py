"""How long a student needs to read each notebook: words of its markdown and code cells at a stated reading rate.

Usage::

    python notebooks/reading_time.py                 # a table of every teaching notebook (notebooks/NN_*.ipynb)
    python notebooks/reading_time.py --check         # exit 1 when a notebook's reading time is over the budget
    python notebooks/reading_time.py notebooks/04_ida.ipynb

Counted: every markdown and code cell of the student notebook (the set-up cell included), split on white space,
so ``ax.set(xlabel="time (s)")`` is two words and a formula counts by its space-separated pieces. Not counted:
outputs (figures, printed lines), which a student looks at rather than reads word by word; the time to run the
cells, which notebooks/README.md gives separately (measured by ``notebooks/execute.py``).

The rate, :data:`WORDS_PER_MINUTE` = 238, is the mean silent reading rate of English non-fiction in Brysbaert's
meta-analysis (M. Brysbaert, "How many words do we read per minute? A review and meta-analysis of reading rate",
Journal of Memory and Language 109, 2019: 238 words per minute over 190 studies). Text with formulas and code is
read more slowly than that, so the table also gives the time at :data:`SLOW_WORDS_PER_MINUTE` = 200, a careful
reader's pace; the budget (:data:`BUDGET_MINUTES`, a notebook fits a lab period with time to run it and do an
exercise) is checked at the mean rate.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent
WORDS_PER_MINUTE = 238
"""Mean silent reading rate of English non-fiction (Brysbaert 2019)."""
SLOW_WORDS_PER_MINUTE = 200
"""A careful reader of formulas and code."""
BUDGET_MINUTES = 20.0
"""Reading time of one notebook at :data:`WORDS_PER_MINUTE`, at most."""


class ReadingTime(NamedTuple):
    """Words of one notebook and the minutes they take to read."""

    name: str
    markdown_words: int
    code_words: int

    @property
    def words(self) -> int:
        return self.markdown_words + self.code_words

    @property
    def minutes(self) -> float:
        """At :data:`WORDS_PER_MINUTE`."""
        return self.words / WORDS_PER_MINUTE

    @property
    def slow_minutes(self) -> float:
        """At :data:`SLOW_WORDS_PER_MINUTE`."""
        return self.words / SLOW_WORDS_PER_MINUTE


def reading_time(path: Path) -> ReadingTime:
    """The words of the markdown and code cells of the notebook at ``path``."""
    notebook = nbformat.read(path, as_version=4)
    words = {"markdown": 0, "code": 0}
    for cell in notebook.cells:
        if cell.cell_type in words:
            words[cell.cell_type] += len(cell.source.split())
    return ReadingTime(path.name, words["markdown"], words["code"])


def teaching_notebooks() -> list[Path]:
    """The student notebooks ``notebooks/NN_*.ipynb``, sorted."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def table(times: list[ReadingTime]) -> str:
    """A markdown table of ``times``."""
    rows = ["| notebook | markdown words | code words | reading time (238 wpm) | careful reader (200 wpm) |",
            "|---|---:|---:|---:|---:|"]
    rows += [f"| {t.name} | {t.markdown_words} | {t.code_words} | {t.minutes:.1f} min | {t.slow_minutes:.1f} min |"
             for t in times]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when one is over {BUDGET_MINUTES:g} minutes")
    args = parser.parse_args(argv)
    times = [reading_time(path) for path in (args.notebooks or teaching_notebooks())]
    print(table(times))
    over = [t for t in times if t.minutes > BUDGET_MINUTES]
    for t in over:
        print(f"{t.name}: {t.minutes:.1f} min of reading, over the {BUDGET_MINUTES:g}-minute budget "
              f"({t.words} words at {WORDS_PER_MINUTE} per minute)", file=sys.stderr)
    return 1 if args.check and over else 0


if __name__ == "__main__":
    sys.exit(main())
