"""Progress output off a terminal is whole lines, not carriage-return redraws."""

from __future__ import annotations

import io

import pytest

from didan_lite.progress import LineProgress, progress_bar




def test_progress_is_whole_lines_off_a_terminal(capsys):
    """Also: off a TTY (CI logs, | tee) progress is printed as whole lines, never carriage-return frames."""
    assert isinstance(progress_bar(range(3), desc="features"), LineProgress)
    for _ in progress_bar(range(3), desc="features"):
        pass
    err = capsys.readouterr().err
    assert "\r" not in err and err.splitlines()[-1].startswith("features: 3/3")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stream)
        bar = progress_bar(range(3), desc="features")
    assert not isinstance(bar, LineProgress)
    bar.close()
    assert not isinstance(progress_bar(range(3), enabled=False), LineProgress)
