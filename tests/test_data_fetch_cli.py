"""The command line: output, exit codes, and messages instead of tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
