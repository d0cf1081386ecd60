"""``python -m data_fetch``: see :mod:`data_fetch.cli`."""

from data_fetch.cli import main

raise SystemExit(main())
