"""pytest over the notebooks (nbval) runs them in fast mode unless DIDAN_LITE_FAST says otherwise.

The committed outputs, and so the cells nbval compares (``# NBVAL_CHECK_OUTPUT``),
are those of fast mode. Unset, ``DIDAN_LITE_FAST`` would mean full mode on a
machine with a GPU, where a checked cell that prints the fast subset's class
counts (notebook 02) would differ; this file makes ``pytest --nbval-lax
notebooks/`` behave the same on every machine, as ``make test`` does. An
explicit ``DIDAN_LITE_FAST=0`` is kept: full mode then runs, and its checked
outputs are not expected to match.
"""

import os

os.environ.setdefault("DIDAN_LITE_FAST", "1")
