"""Atomic writes: all or nothing, with ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from didan_lite.atomic import atomic_write


def test_failed_write_keeps_the_old_file_and_leaves_no_fragment(tmp_path):
    target = tmp_path / "report.md"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target, "w") as handle:
            handle.write("new, half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_written_file_has_umask_permissions(tmp_path):
    with atomic_write(tmp_path / "sub" / "x.bin") as handle:
        handle.write(b"data")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "sub" / "x.bin").stat().st_mode) == 0o666 & ~mask
