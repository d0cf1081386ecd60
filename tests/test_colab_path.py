"""The Colab path a student takes: the set-up cell's install and Drive switch, notebook 6's corpora, packaging.

No Colab here: ``google.colab`` is a stand-in module, pip's answer a stand-in result, and a temporary
folder stands in for Google Drive.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import types

import nbformat
import pytest

from conftest import REPO, load_script
from data_fetch import cache
from data_fetch.corpora import get_corpus
from data_fetch.notebook_data import keep_on_drive
from didan_lite.errors import InputError

NOTEBOOKS = sorted((REPO / "notebooks").glob("0*.ipynb"))


def _setup(path) -> str:
    return nbformat.read(path, as_version=4).cells[1].source


def _install_block(path) -> str:
    """The set-up cell up to its IPython magics: the switches and the Colab install (plain Python)."""
    return _setup(path).split("\n%matplotlib")[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_set_up_cell_points_to_the_notebooks_extra(path):
    assert "[notebooks]" not in _setup(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_failed_install_on_colab_stops_the_cell_with_one_line(path, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    calls = []

    def failing_pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "Collecting didan-lite\nERROR: Could not resolve host: github.com\n")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(SystemExit) as stop:
        exec(_install_block(path), {})
    message = str(stop.value)
    assert "\n" not in message and message.startswith("error: pip could not install didan-lite")
    assert "Could not resolve host: github.com" in message and "run this cell again" in message
    assert calls and calls[0][1:4] == ["-m", "pip", "install"]


GIT_FAILURE = """\
  error: subprocess-exited-with-error

  × git clone --filter=blob:none --quiet https://github.com/a-teacher/didan-lite /tmp/pip-req-build-x did not run successfully.
  │ exit code: 128
  ╰─> [2 lines of output]
      remote: Repository not found.
      fatal: repository 'https://github.com/a-teacher/didan-lite/' not found
      [end of output]

  note: This error originates from a subprocess, and is likely not a problem with pip.

[notice] A new release of pip is available: 24.1.2 -> 26.0
[notice] To update, run: pip install --upgrade pip
"""


@pytest.mark.parametrize(("stderr", "shown", "hidden"), [
    (GIT_FAILURE, "fatal: repository 'https://github.com/a-teacher/didan-lite/' not found", "[notice]"),
    ("WARNING: Retrying\nERROR: Could not find a version that satisfies the requirement torch>=9\n"
     "[notice] To update, run: pip install --upgrade pip\n", "ERROR: Could not find a version", "To update"),
    ("Traceback (most recent call last):\n  File x\nOSError: [Errno 28] No space left on device\n"
     "note: This error originates from a subprocess\n", "File x | OSError: [Errno 28] No space left on device", "note:"),
], ids=["git-fatal", "pip-error", "last-lines"])
def test_a_failed_install_shows_the_line_that_says_what_failed(stderr, shown, hidden, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: subprocess.CompletedProcess(command, 1, "", stderr))
    with pytest.raises(SystemExit) as stop:
        exec(_install_block(NOTEBOOKS[0]), {})
    message = str(stop.value)
    assert "\n" not in message and shown in message and hidden not in message and "WHEEL" in message


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_wheel_replaces_the_repository_when_one_is_given(path, monkeypatch):
    colab, events = types.ModuleType("google.colab"), []
    colab.drive = types.SimpleNamespace(mount=lambda where: events.append(f"mount {where}"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: events.append(command[-1]) or subprocess.CompletedProcess(command, 0))
    on_drive, uploaded = "/content/drive/MyDrive/didan_lite-0.1.0-py3-none-any.whl", "/content/didan_lite-0.1.0-py3-none-any.whl"
    for wheel in (on_drive, uploaded, ""):
        exec(_install_block(path).replace('WHEEL = ""', f"WHEEL = {wheel!r}"), {})
    assert events[:3] == ["mount /content/drive", on_drive, uploaded], "Drive is mounted before pip reads a wheel there"
    assert events[3].startswith("didan-lite") and "git+" in events[3] and len(events) == 4


def test_the_notebooks_meant_for_a_gpu_ask_colab_for_one():
    sync_setup = load_script("notebooks/sync_setup.py")
    asked = {path.name for path in NOTEBOOKS if nbformat.read(path, as_version=4).metadata.get("accelerator") == "GPU"}
    assert asked == set(sync_setup.GPU_NOTEBOOKS) and "06_gpu_reproduction.ipynb" in asked


def test_one_step_points_the_readme_badges_at_a_fork(tmp_path):
    sync_setup = load_script("notebooks/sync_setup.py")
    readme = tmp_path / "README.md"
    readme.write_text((REPO / "README.md").read_text())
    badges = readme.read_text().count("colab.research.google.com/github/")
    assert badges >= 6 and not sync_setup.sync_readme(readme, sync_setup.repository_url()), "README follows pyproject"
    assert sync_setup.sync_readme(readme, "https://github.com/a-fork/didan-lite")
    text = readme.read_text()
    assert text.count("colab.research.google.com/github/a-fork/didan-lite/blob/main/notebooks/") == badges
    assert sync_setup.repository_url() not in text and "https://github.com/a-fork/didan-lite" in text, "the citation's address too"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_successful_install_goes_on_and_nothing_is_installed_off_colab(path, monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: calls.append(command) or subprocess.CompletedProcess(command, 0, "", ""))
    namespace = {}
    exec(_install_block(path), namespace)  # no google.colab here
    assert calls == [] and namespace["USE_DRIVE"] is False, "off Colab: no install; Drive off by default"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(_install_block(path), namespace)
    assert len(calls) == 1


def test_notebook_6_installs_the_video_extra_only_when_enterface_is_chosen(monkeypatch):
    path = REPO / "notebooks" / "06_gpu_reproduction.ipynb"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    packages = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: packages.append(command[-1]) or subprocess.CompletedProcess(command, 0))
    for choice in ("False", "True"):
        exec(_install_block(path).replace("ENTERFACE = False", f"ENTERFACE = {choice}"), {})
    assert packages[0].startswith("didan-lite @ git+") and packages[1].startswith("didan-lite[video] @ git+")
    assert "[video]" not in "".join(_setup(p) for p in NOTEBOOKS if p != path), "only notebook 6 offers it"


def test_notebook_6_gives_the_true_sizes_and_gates_enterface():
    text = "\n".join(cell.source for cell in nbformat.read(REPO / "notebooks" / "06_gpu_reproduction.ipynb", as_version=4).cells)
    assert "0.5 GB" not in text and "EmoDB (about 40 MB)" in text
    assert '("emodb", "enterface") if ENTERFACE else ("emodb",)' in text


def test_drive_switch_off_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    assert keep_on_drive(False, tmp_path / "drive", workdir=tmp_path) == type(tmp_path)("runs")
    assert cache.ENV_VAR not in os.environ and not (tmp_path / "runs").exists() and not (tmp_path / "drive").exists()


def test_drive_switch_keeps_data_and_runs_in_the_drive_folder(tmp_path, monkeypatch):
    from didan_lite.features import default_cache_dir

    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    drive, content = tmp_path / "drive" / "MyDrive" / "didan-lite", tmp_path / "content"
    content.mkdir()
    (content / "runs").mkdir()  # an empty runs/ of a fresh session is replaced by the link
    runs = keep_on_drive(True, drive, workdir=content)
    assert os.environ[cache.ENV_VAR] == str(drive / "data")
    assert cache.data_dir() == drive / "data" and default_cache_dir() == drive / "data" / "features"
    (content / runs / "05-task" / "metrics.json").parent.mkdir(parents=True)
    (content / runs / "05-task" / "metrics.json").write_text("{}")
    assert (drive / "runs" / "05-task" / "metrics.json").read_text() == "{}", "a notebook's runs/... lands on Drive"
    shutil.rmtree(content)  # the Colab VM goes; a new one mounts the same Drive
    content.mkdir()
    keep_on_drive(True, drive, workdir=content)
    keep_on_drive(True, drive, workdir=content)  # the cell run twice
    assert (content / "runs" / "05-task" / "metrics.json").is_file()


def test_drive_switch_refuses_to_hide_local_runs(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "old.json").write_text("{}")
    with pytest.raises(InputError, match=r"runs already holds files; move them into .*drive/runs"):
        keep_on_drive(True, tmp_path / "drive", workdir=tmp_path)
    assert (tmp_path / "runs" / "old.json").is_file()


def test_drive_switch_off_colab_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails, as off Colab
    with pytest.raises(InputError, match="needs Google Colab"):
        keep_on_drive(True, workdir=tmp_path)


def test_crema_d_instructions_point_to_its_releases_not_git_lfs():
    steps = " ".join(get_corpus("cremad").how_to_get)
    assert "github.com/CheyneyComputerScience/CREMA-D/releases" in steps
    assert "git lfs install" not in steps and "git clone" not in steps


def test_the_licence_is_an_spdx_expression_with_its_file():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert all((REPO / name).is_file() for name in pyproject["project"]["license-files"])
    setuptools = next(r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools"))
    assert re.fullmatch(r"setuptools>=(\d+)", setuptools) and int(setuptools.split(">=")[1]) >= 77


@pytest.mark.slow
def test_the_sdist_carries_the_tests_fixtures_and_the_constraints(tmp_path):
    """Built as ``python -m build --sdist`` would, with setuptools' backend (here, without isolation)."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "MANIFEST.in", "LICENSE", "README.md", "environment.yml"):
        shutil.copy(REPO / name, source / name)
    for folder in ("didan_lite", "data_fetch", "tests"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    build = "from setuptools import build_meta; print(build_meta.build_sdist(r'%s'))" % (tmp_path / "dist")
    result = subprocess.run([sys.executable, "-c", build], cwd=source, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    with tarfile.open(tmp_path / "dist" / result.stdout.strip().splitlines()[-1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
        metadata = sdist.extractfile(next(m for m in sdist.getmembers() if m.name.endswith("/PKG-INFO") and m.name.count("/") == 1)).read().decode()
    expected = {"tests/conftest.py", "tests/data_fetch_fixtures.py", "tests/colab_constraints.txt", "LICENSE", "environment.yml"}
    assert expected <= names, f"missing from the sdist: {sorted(expected - names)}"
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata
