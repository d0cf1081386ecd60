"""Progress display policy: bars in terminals and notebooks, plain lines in logs.

Every progress display of both packages is made by :func:`progress_bar`. In a
terminal or a Jupyter/Colab notebook it is a tqdm bar; when the output is a
file or a pipe (CI logs, ``| tee``) a redrawn bar would write thousands of
carriage-return frames, so it prints whole lines instead: one when the loop
starts, then at most one every ``interval`` seconds, and one at the end.
Kept free of torch so that ``data_fetch`` can use it cheaply.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Iterable, Iterator

from tqdm.auto import tqdm

LOG_INTERVAL_S = 30.0
"""Seconds between two progress lines written to a log."""


def interactive_output(stream: IO | None = None) -> bool:
    """Whether progress goes to a person watching: a terminal, or a Jupyter/Colab kernel."""
    stream = sys.stderr if stream is None else stream
    if "IPython" in sys.modules:  # only imported when running under IPython
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and "IPKernelApp" in shell.config:
            return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(iterable: Iterable | None = None, *, desc: str = "", total: int | None = None,
                 enabled: bool = True, **options):
    """A tqdm bar where a person watches, a :class:`LineProgress` in logs, or nothing when not ``enabled``.

    Args:
        iterable: what to iterate over (``None`` for a bar driven by ``update``).
        desc: label printed before the counts.
        total: expected count (default ``len(iterable)`` where it has one).
        enabled: ``False`` shows nothing.
        **options: passed to tqdm (``unit``, ``leave``, ``unit_scale`` ...).

    Returns:
        An object with tqdm's ``__iter__``, ``update``, ``set_postfix``,
        ``close`` and context-manager protocol.
    """
    if not enabled or interactive_output():
        return tqdm(iterable, desc=desc, total=total, disable=not enabled, **options)
    return LineProgress(iterable, desc=desc, total=total, unit=options.get("unit", "it"),
                        initial=options.get("initial", 0), unit_scale=bool(options.get("unit_scale")))


class LineProgress:
    """Line-based progress for logs: ``desc: n/total unit [elapsed] postfix``, one whole line at a time."""

    def __init__(self, iterable: Iterable | None = None, *, desc: str = "", total: int | None = None,
                 unit: str = "it", initial: int = 0, unit_scale: bool = False, interval: float = LOG_INTERVAL_S,
                 stream: IO | None = None) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.iterable, self.desc, self.total, self.unit = iterable, desc, total, unit
        self.interval, self.stream = interval, stream
        self.n, self.unit_scale, self.postfix, self.closed = initial, unit_scale, "", False
        self.began = self.last = time.monotonic()
        self._write()

    def __iter__(self) -> Iterator:
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more; print a line if ``interval`` seconds passed since the last one."""
        self.n += n
        if time.monotonic() - self.last >= self.interval:
            self._write()

    def set_postfix(self, **values) -> None:
        """Values shown after the counts in the next line (e.g. ``loss=0.31``)."""
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def close(self) -> None:
        """Print the final line once."""
        if not self.closed:
            self.closed = True
            self._write()

    def _write(self) -> None:
        self.last = time.monotonic()
        size = (lambda n: tqdm.format_sizeof(n, divisor=1024)) if self.unit_scale else str
        count = size(self.n) + ("" if self.total is None else f"/{size(self.total)}")
        line = f"{self.desc}: {count} {self.unit} [{self.last - self.began:.0f} s]" + (f" {self.postfix}" if self.postfix else "")
        stream = self.stream or sys.stderr
        stream.write(line + "\n")
        stream.flush()
