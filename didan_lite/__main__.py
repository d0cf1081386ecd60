"""``python -m didan_lite``: see :mod:`didan_lite.cli`."""

import sys

from didan_lite.cli import main

sys.exit(main())
