"""The output folder of a comparison: run values checked before work, more methods reusing a folder, a held
folder's lock, Ctrl-C and resume, a full disk, skipped files listed, the report's statements."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import interrupted_after_first_save, write_tone_corpus
from test_cli_refusals import Setting, _first_file, _target_shares_audio  # builders of the refusal table

import didan_lite.experiment as experiment
import didan_lite.task as task_module
import didan_lite.checkpoints as checkpoints
from didan_lite.cli import main
from didan_lite.errors import InputError


ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0
QUICK = ["--methods", "source-only", "--seeds", "0", "--epochs", "1", "--batch-size", "8", "--weight", "0.3", "--no-figures", "--quiet"]


@pytest.mark.parametrize("seeds, weight, words", [
    ([-1], 0.3, "Seeds"), ([0.5], 0.3, "Seeds"), ([1, 1], 0.3, "repeat"), ([0], float("nan"), "Alignment weight nan"),
    ([0], -1.0, "Alignment weight -1"), ([0], float("inf"), "Alignment weight inf"),
], ids=["seed-negative", "seed-fraction", "seeds-repeated", "weight-nan", "weight-negative", "weight-inf"])
def test_library_refuses_bad_run_values_before_work(corpora, tmp_path, monkeypatch, seeds, weight, words):
    """Cases 3 and 11 through the library: compare() checks seeds and weight before anything is extracted."""
    source, target, _ = corpora
    monkeypatch.setattr(task_module, "extract_corpus", lambda *a, **k: pytest.fail("extracted"))
    config = experiment.ExperimentConfig(cache_dir=str(tmp_path / "cache"))
    with pytest.raises(InputError, match=words):
        experiment.compare(source, target, methods=["mmd"], seeds=seeds, out_dir=tmp_path / "o", config=config,
                           weight=weight, progress=False)
    assert not (tmp_path / "o").exists()


def test_same_task_with_more_methods_reuses_the_folder(corpora, tmp_path, monkeypatch, capsys):
    """Case 5, allowed side, and issue 21 item 8: other methods or seeds on the same task extend the folder,
    the report keeps every run of the folder (loaded, not retrained), and a line says so."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    base = ["compare", "--source", str(source), "--target", str(target), "--out", str(tmp_path / "o"), *QUICK]
    assert main(base) == 0
    checkpoint = tmp_path / "o" / "checkpoints" / "source-only-seed0-all.pt"  # the refit on every source speaker
    finished = checkpoint.stat().st_mtime_ns
    assert main([*base, "--methods", "mmd"]) == 0
    assert "also holds runs of methods ['source-only']" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert [run["method"] for run in metrics["runs"]] == ["source-only", "mmd"]
    assert "source-only" in (tmp_path / "o" / "report.md").read_text()
    assert checkpoint.stat().st_mtime_ns == finished, "the finished run was retrained"


def test_single_speaker_source_is_stated_in_the_report(corpora, tmp_path, monkeypatch, capsys):
    """Case 10: the stratified fallback runs without a traceback, and the report and metrics say so."""
    _, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    source = write_tone_corpus(tmp_path, "solo", per_class=4, speakers=1, seed=4)
    out = tmp_path / "o"
    assert main(["compare", "--source", str(source), "--target", str(target), "--out", str(out), *QUICK]) == 0
    assert "single speaker" in capsys.readouterr().out
    assert "single speaker" in (out / "report.md").read_text()
    assert json.loads((out / "metrics.json").read_text())["heldout_source_split"] == "utterance"


def test_ctrl_c_stops_with_one_line_and_resumes(corpora, tmp_path, monkeypatch, capsys):
    """Case 11: Ctrl-C during training exits 130 with one line; the same command resumes from the checkpoint."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    argv = ["compare", "--source", str(source), "--target", str(target), "--out", str(tmp_path / "o"),
            *QUICK, "--epochs", "2"]
    with interrupted_after_first_save(monkeypatch):
        assert main(argv) == 130
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "resume" in lines[0] and "checkpoint" in lines[0] and "Traceback" not in err
    checkpoint = next((tmp_path / "o" / "checkpoints").glob("source-only-seed0*.pt"))  # the first run saved, then interrupted
    assert checkpoints.load_checkpoint(checkpoint)["epoch"] == 1
    assert main(argv) == 0
    history = json.loads((tmp_path / "o" / "metrics.json").read_text())["runs"][0]["epochs"]
    assert [row["epoch"] for row in history] == [1, 2]


def _compare_argv(source: Path, target: Path, out: Path, *extra: str) -> list[str]:
    return ["compare", "--source", str(source), "--target", str(target), "--out", str(out), *QUICK, *extra]


def _single_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_partial_overlap_runs_when_allowed_and_the_report_says_so(corpora, tmp_path, monkeypatch, capsys):
    """Item 1, allowed side: --allow-overlap runs, and the report and the metrics name the overlap."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    s = Setting(tmp_path, source, target, tmp_path / "o", data)
    _target_shares_audio(s)
    assert main(_compare_argv(s.source, s.target, s.out, "--allow-overlap")) == 0
    assert "1 of the 13 target file(s) are also source files" in capsys.readouterr().out
    assert "1 target file(s) are also source files" in (s.out / "report.md").read_text().splitlines()[0]
    assert json.loads((s.out / "metrics.json").read_text())["source_target_overlap"] == 1


def test_a_second_run_on_a_held_folder_is_refused_and_a_stale_lock_taken_over(corpora, tmp_path, monkeypatch, capsys):
    """Item 7 with two real processes: one holds --out; a second compare is refused naming it, writes and trains
    nothing; once the holder is killed (its lock left behind, stale), the same command runs."""
    import subprocess
    import sys

    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    out = tmp_path / "o"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom didan_lite.folders import hold_folder\n"
         f"with hold_folder({str(out)!r}):\n    print('held', flush=True)\n    time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        trained = []
        with monkeypatch.context() as patch:
            patch.setattr(experiment, "train_didan", lambda *a, **k: trained.append(1) or pytest.fail("trained"))
            assert main(_compare_argv(source, target, out)) == 2
        line = _single_error(capsys)
        assert "in use by another run" in line and f"process {holder.pid}" in line and "another --out" in line
        assert [p.name for p in out.iterdir()] == [".didan_lite.lock"] and not trained
    finally:
        holder.kill()
        holder.wait()
    assert (out / ".didan_lite.lock").read_text().split()[0] == str(holder.pid)  # killed: the lock is stale
    assert main(_compare_argv(source, target, out)) == 0
    assert f"took over the lock of process {holder.pid}" in capsys.readouterr().out
    assert (out / "report.md").is_file() and not (out / ".didan_lite.lock").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 48 kB file system (tmpfs), where the machine lets this process mount one."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if not ROOT_USER or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8); the disk-full case cannot be made here")
    import subprocess

    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(mount)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()})")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("full", ["out", "cache"])
def test_a_full_disk_is_one_line_naming_the_folder(corpora, tmp_path, monkeypatch, capsys, small_disk, full):
    """Item 13: a full --out (a checkpoint does not fit) or feature cache: one line, exit 2, no partial file left."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(small_disk if full == "cache" else data))
    out = small_disk / "o" if full == "out" else tmp_path / "o"
    assert main(_compare_argv(source, target, out, "--strict")) == 2
    line = _single_error(capsys)
    assert "is full" in line and str(small_disk) in line and "run the same command again" in line
    assert not [p for p in small_disk.rglob("*.part")], "a partial file was left"


def test_skipped_files_are_one_clean_line_and_listed_in_the_output_folder(corpora, tmp_path, monkeypatch, capsys):
    """Item 23: without --strict an unusable file is skipped with one line (count and where the list is);
    no warning with a line of package source; the list names the file and why."""
    source, target, data = corpora
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data))
    s = Setting(tmp_path, source, target, tmp_path / "o", data)
    s.own_corpora()
    bad = _first_file(s)
    sf.write(bad, np.zeros(16_000, np.float32), 16_000)  # silent
    assert main(_compare_argv(s.source, s.target, s.out)) == 0
    captured = capsys.readouterr()
    listing = s.out / "skipped_files.tsv"
    said = [line for line in (captured.out + captured.err).splitlines() if "Skipped" in line]
    assert said == [f"Skipped 1 unusable audio file(s) (unreadable, silent, too short ...); the list with reasons is in "
                    f"{listing}. Pass --strict (strict=True) to stop on the first one instead."]
    assert "warnings.warn" not in captured.err and ".py:" not in captured.err
    rows = listing.read_text().splitlines()
    assert rows[0] == "path\treason" and rows[1].startswith(f"{bad}\t") and "silent" in rows[1]
