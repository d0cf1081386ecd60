"""Installing the package on Colab changes none of Colab's packages: a real pip resolution, by Colab's Python.

The notebooks' set-up cell runs ``pip install "didan-lite @ git+<repository>"`` in a Colab
runtime. pip keeps an installed package whose version satisfies every requirement, so the install
changes a Colab package only if a requirement somewhere in the dependency closure excludes
Colab's version. Here pip's own resolver installs the package's core requirements (what the
set-up cell installs) and its ``video`` extra, dry-run, for Colab's interpreter and platform, with Colab's versions as
constraints (``tests/colab_constraints.txt``, dated, with its source): a requirement that excludes
one of them makes the resolution fail, naming it. The report must then hold every Colab package
at Colab's version and nothing that the constraints file has not classified.

torch stands in as what it is on Colab, an installed package: a metadata-only wheel of Colab's
version, made here and offered with ``--find-links``, so that the resolver checks every
requirement on torch against Colab's version without fetching torch's 900 MB wheel and its CUDA
libraries (this index serves no separate metadata files, so pip reads whole wheels).

The resolution runs in a Python of Colab's version (:func:`colab_interpreter`; here pyenv's 3.13), since pip
evaluates environment markers for its own interpreter: on 3.13, librosa and audioread add backports of
modules that 3.13 removed. Needs the package index (PyPI) and that interpreter; skips, saying so, without
either.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from conftest import REPO

CONSTRAINTS = REPO / "tests" / "colab_constraints.txt"
COLAB_PYTHON = re.search(r"^# Python: (\d+\.\d+)$", CONSTRAINTS.read_text(), re.MULTILINE)[1]
"""Colab's Python, read from the constraints file's header (os-info-gpu.txt of the same snapshot)."""
COLAB_PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(35, 16, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
]  # fmt: skip  (glibc 2.35, Ubuntu 22.04, and every older manylinux tag it runs)
NETWORK_ERRORS = (
    "NewConnectionError", "Max retries exceeded", "Temporary failure in name resolution", "Network is unreachable",
    "ConnectTimeoutError", "ReadTimeoutError", "ProxyError", "Could not fetch URL",
)  # fmt: skip


def colab_packages() -> tuple[dict[str, Version], set[str]]:
    """Colab's versions (canonical name -> version) and the closure's unpinned packages (those Colab lacks and the 3.13
    backports of unknown version), from the constraints file."""
    pins, absent = {}, set()
    for line in CONSTRAINTS.read_text().splitlines():
        if line.startswith(("# not on Colab:", "# 3.13 backports:")):  # classified, not pinned
            absent |= {canonicalize_name(name) for name in line.split(":", 1)[1].split()}
        elif line.strip() and not line.startswith("#"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip()).groups()
            pins[canonicalize_name(name)] = Version(version)
    return pins, absent


def core_requirements() -> list[str]:
    """The package's requirements and its ``video`` extra (PyAV: notebook 06 may add it on Colab for eNTERFACE'05)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["video"]]


def installed_stand_in(folder: Path, name: str, version: Version) -> Path:
    """A wheel with ``name``'s metadata only (no files, no requirements), tagged for Colab so pip prefers it."""
    tag = f"cp{COLAB_PYTHON.replace('.', '')}-cp{COLAB_PYTHON.replace('.', '')}-{COLAB_PLATFORMS[0]}"
    dist_info = f"{name}-{version}.dist-info"
    wheel = folder / f"{name}-{version}-{tag}.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        archive.writestr(f"{dist_info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: didan-lite tests\nRoot-Is-Purelib: false\nTag: {tag}\n")
        archive.writestr(f"{dist_info}/RECORD", f"{dist_info}/METADATA,,\n{dist_info}/WHEEL,,\n{dist_info}/RECORD,,\n")
    return wheel


def colab_interpreter() -> str | None:
    """A Python of Colab's version: this one, one under pyenv or one on PATH (``python3.13``); None when none is found.

    pip evaluates environment markers (``python_version < "3.13"``) for the interpreter it runs in, whatever
    ``--python-version`` says, so only a Python of Colab's version resolves Colab's dependency closure.
    """
    if f"{sys.version_info.major}.{sys.version_info.minor}" == COLAB_PYTHON:
        return sys.executable
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(root.glob(f"{COLAB_PYTHON}.*/bin/python{COLAB_PYTHON}"))
    if candidates:  # before PATH, whose pyenv shim answers only for the selected version
        return str(candidates[-1])
    return shutil.which(f"python{COLAB_PYTHON}")


def index_url() -> str:
    """The index pip uses here (its configuration or PIP_INDEX_URL), else PyPI's."""
    listing = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    match = re.search(r"^(?:global|:env:)\.index-url='([^']+)'", listing, re.MULTILINE)
    return (match.group(1) if match else "https://pypi.org/simple").rstrip("/")


def test_the_constraints_file_is_well_formed_and_covers_the_colab_stack():
    pins, absent = colab_packages()
    for name in ("torch", "numpy", "scipy", "librosa", "soundfile", "pandas", "scikit-learn", "matplotlib", "seaborn",
                 "ipywidgets", "tqdm", "umap-learn", "pooch", "numba"):  # fmt: skip
        assert name in pins, f"{name} missing from {CONSTRAINTS.name}"
    assert not absent & set(pins), "a package cannot be both pinned and absent"
    assert re.search(r"^# Snapshot: 20\d\d-\d\d-\d\d", CONSTRAINTS.read_text(), re.MULTILINE), "the file says when its versions were read"


def test_colab_python_is_allowed():
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert SpecifierSet(requires).contains(COLAB_PYTHON)


@pytest.mark.slow
@pytest.mark.network
def test_installing_the_package_on_colab_changes_none_of_its_packages(tmp_path):
    python = colab_interpreter()
    if python is None:
        pytest.skip(f"no Python {COLAB_PYTHON} (Colab's) found on PATH or under pyenv: pip resolves environment markers "
                    "for the interpreter it runs in, so only that version checks Colab's dependency closure")
    if subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip(f"{python} has no pip")
    url = index_url()
    try:
        urllib.request.urlopen(f"{url}/pip/", timeout=15).close()
    except OSError as exc:
        pytest.skip(f"the package index {url} cannot be reached ({exc}); this check needs it")
    report = tmp_path / "report.json"
    pins, absent = colab_packages()
    stand_in = installed_stand_in(tmp_path / "installed", "torch", pins["torch"])
    platforms = [argument for tag in COLAB_PLATFORMS for argument in ("--platform", tag)]
    command = [
        python, "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report),
        "--target", str(tmp_path / "never-written"), "--only-binary=:all:",
        "--python-version", COLAB_PYTHON, "--implementation", "cp", "--abi", "cp" + COLAB_PYTHON.replace(".", ""),
        *platforms, "--find-links", str(stand_in.parent), "--timeout", "30", "--retries", "2",
        "-c", str(CONSTRAINTS), *core_requirements(),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    output = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if "is ignored: it is neither" not in line)
    if result.returncode != 0 and any(error in output for error in NETWORK_ERRORS):
        pytest.skip(f"the package index could not be reached during the resolution: {output.strip()[-300:]}")
    assert result.returncode == 0, f"installing the package would change a Colab package (or cannot resolve):\n{output}"
    items = json.loads(report.read_text())["install"]
    installed = {canonicalize_name(item["metadata"]["name"]): Version(item["metadata"]["version"]) for item in items}
    torch_source = next(item["download_info"]["url"] for item in items if item["metadata"]["name"] == "torch")
    assert torch_source.endswith(stand_in.name), f"torch came from {torch_source}, not the installed stand-in"
    assert {canonicalize_name(Requirement(r).name) for r in core_requirements()} <= set(installed)
    changed = {name: f"{version} instead of Colab's {pins[name]}" for name, version in installed.items()
               if name in pins and version != pins[name]}  # fmt: skip
    assert not changed, f"the install would change Colab packages: {changed}"
    unclassified = sorted(set(installed) - set(pins) - absent)
    assert not unclassified, (
        f"new in the dependency closure: {unclassified}. Look up Colab's version in its published pip-freeze list "
        f"(see the head of {CONSTRAINTS.name}) and pin it there, or add it to the '# not on Colab:' line."
    )


def test_the_refresh_rewrites_every_pin_and_the_python_from_a_snapshot(tmp_path):
    from refresh_colab_constraints import main

    pins, _ = colab_packages()
    freeze = tmp_path / "pip-freeze.gpu.txt"
    freeze.write_text("\n".join(f"{name}==99.{i}" + ("+cu130" if name == "torch" else "") for i, name in enumerate(pins)) + "\nextra-pkg==1.0\n")
    os_info = tmp_path / "os-info-gpu.txt"
    os_info.write_text("Ubuntu 24.04.1 LTS\nPython 3.14.2\nR version 4.6.0\n")
    copy = tmp_path / "constraints.txt"
    copy.write_text(CONSTRAINTS.read_text())
    assert main(["abc123", "--date", "2027-01-02", "--freeze", str(freeze), "--os-info", str(os_info), "--constraints", str(copy)]) == 0
    text = copy.read_text()
    assert "# Snapshot: 2027-01-02, commit abc123" in text and "# Python: 3.14" in text
    assert "torch==99.0\n" in text and "extra-pkg" not in text
    assert len(re.findall(r"^[A-Za-z].*==99\.\d+$", text, re.MULTILINE)) == len(pins)
    assert text.count("\n#") == CONSTRAINTS.read_text().count("\n#"), "comments kept"


def test_the_refresh_stops_on_a_package_colab_dropped(tmp_path, capsys):
    from refresh_colab_constraints import main

    freeze, os_info = tmp_path / "freeze.txt", tmp_path / "os.txt"
    freeze.write_text("numpy==2.3.0\n")
    os_info.write_text("Python 3.14.2\n")
    copy = tmp_path / "constraints.txt"
    copy.write_text(CONSTRAINTS.read_text())
    assert main(["abc", "--date", "2027-01-02", "--freeze", str(freeze), "--os-info", str(os_info), "--constraints", str(copy)]) == 2
    assert capsys.readouterr().err.startswith("error: torch is pinned but not in Colab's list")
    assert copy.read_text() == CONSTRAINTS.read_text(), "nothing written"
