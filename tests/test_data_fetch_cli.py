"""The command line: output, exit codes, and messages instead of tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from data_fetch_fixtures import BUILDERS

from data_fetch import CORPORA, TASKS
from data_fetch.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_list_names_every_corpus_and_preset(capsys, tmp_path):
    assert main(["list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for key in CORPORA:
        assert key in out
    for name in TASKS:
        assert name in out
    assert str(tmp_path) in out
    assert "Free real task (both corpora downloadable): emodb -> ravdess" in out


def test_prepare_writes_a_manifest_and_verify_reports_an_incomplete_copy(capsys, tmp_path):
    tree = BUILDERS["casia"](tmp_path / "casia")
    out = tmp_path / "m.csv"
    argv = ["prepare", "C", "--root", str(tree.root), "--data-dir", str(tmp_path / "cache"), "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"{len(tree.rows)} utterances" in printed and out.is_file()
    assert main(["verify", "casia", "--root", str(tree.root)]) == 1
    printed = capsys.readouterr().out
    present = len(tree.rows) + 1  # the usable files and the unreadable 205.wav
    assert "INCOMPLETE" in printed and "205.wav" in printed and f"missing: {1200 - present}\n" in printed


def test_errors_are_messages_with_exit_code_2(capsys, tmp_path):
    tree = BUILDERS["emodb"](tmp_path / "emodb")
    cases = [
        ["prepare", "emodb", "--root", str(tmp_path / "nowhere")],
        ["prepare", "emodb", "--root", str(tree.root), "--strict", "--data-dir", str(tmp_path / "cache")],
        ["download", "casia", "--data-dir", str(tmp_path / "cache")],
        ["verify", "nosuchcorpus", "--root", str(tmp_path)],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err, err


def test_python_dash_m_runs_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "data_fetch", "prepare", "emodb", "--root", str(tmp_path / "nowhere")],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- issue 21


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_a_dangling_symlink_is_named_as_a_missing_file(capsys, tmp_path):
    """Item 14: a git-annex / DataLad copy whose content is absent: verify and prepare name the file, no traceback."""
    tree = BUILDERS["casia"](tmp_path / "casia")
    victim = next(tree.root.rglob("*.wav"))
    victim.unlink()
    victim.symlink_to(tmp_path / "annex" / "objects" / "absent.wav")
    assert main(["verify", "casia", "--root", str(tree.root)]) == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if str(victim) in line)
    assert "symbolic link to a missing file" in line
    out = tmp_path / "m.csv"
    assert main(["prepare", "casia", "--root", str(tree.root), "--out", str(out), "--data-dir", str(tmp_path / "c")]) == 0
    captured = capsys.readouterr()
    assert str(victim) in captured.err and "symbolic link to a missing file" in captured.err
    assert str(victim) not in out.read_text()
    assert main(["prepare", "casia", "--root", str(tree.root), "--out", str(out), "--strict"]) == 2
    assert str(victim) in capsys.readouterr().err


@pytest.mark.parametrize("where", ["out-is-a-folder", "out-inside-a-file", "data-dir-is-a-file", "env-data-is-a-file"])
def test_prepare_checks_where_it_writes_before_any_work(capsys, tmp_path, monkeypatch, where):
    """Item 18: as compare does, one line naming the path and the option to change; nothing written."""
    tree = BUILDERS["emodb"](tmp_path / "emodb")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    argv = ["prepare", "emodb", "--root", str(tree.root)]
    words = {
        "out-is-a-folder": (argv + ["--out", str(tmp_path)], ("is a folder", "--out")),
        "out-inside-a-file": (argv + ["--out", str(blocker / "m.csv")], ("manifest's folder", "is a file", "--out")),
        "data-dir-is-a-file": (argv + ["--data-dir", str(blocker)], ("cache folder", "is a file", "--data-dir")),
        "env-data-is-a-file": (argv, ("cache folder", "is a file", "DIDAN_LITE_DATA")),
    }
    argv, expected = words[where]
    monkeypatch.setenv("DIDAN_LITE_DATA", str(blocker if where == "env-data-is-a-file" else tmp_path / "data"))
    before = sorted(tmp_path.rglob("*"))
    assert main(argv) == 2
    line = _one_error_line(capsys)
    for word in expected:
        assert word in line, (word, line)
    assert sorted(tmp_path.rglob("*")) == before


def test_verify_rejects_absurd_amplitude_and_dc_by_name(capsys, tmp_path):
    """Items 6 and 20: a float file at 1e20 and a constant offset are named, as compare would refuse them."""
    import numpy as np
    import soundfile as sf

    tree = BUILDERS["casia"](tmp_path / "casia")
    loud, dc = sorted(tree.root.rglob("*.wav"))[:2]
    sf.write(loud, 1e20 * np.sin(np.arange(3200, dtype=np.float32)), 16_000, subtype="FLOAT")
    sf.write(dc, np.full(3200, 0.5, np.float32), 16_000)
    assert main(["verify", "casia", "--root", str(tree.root)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "absurd amplitude" in next(line for line in out if str(loud) in line)
    assert "silent" in next(line for line in out if str(dc) in line)
