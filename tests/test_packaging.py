"""An instructor can publish a wheel: ``python -m build`` makes the sdist and the wheel, ``twine check`` passes them.

Built from a copy of the repository's tracked files, in build's isolated environment (which fetches the build
backend from the package index): marked slow and network, skipped with the reason when the index cannot be
reached or build and twine are not installed (the ``test`` extra has them).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

NETWORK_ERRORS = ("Could not find a version that satisfies the requirement setuptools", "NewConnectionError",
                  "Temporary failure in name resolution", "Network is unreachable")


@pytest.mark.slow
@pytest.mark.network
def test_build_makes_a_wheel_and_an_sdist_that_twine_accepts(tmp_path):
    for module in ("build", "twine"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[test]')")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    source = tmp_path / "src"
    for name in filter(None, tracked.stdout.split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    build = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path / "dist"), str(source)],
                           capture_output=True, text=True, timeout=900)
    if build.returncode != 0 and any(error in build.stdout + build.stderr for error in NETWORK_ERRORS):
        pytest.skip(f"the build backend could not be fetched: {(build.stdout + build.stderr).strip()[-300:]}")
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    wheels, sdists = sorted((tmp_path / "dist").glob("*.whl")), sorted((tmp_path / "dist").glob("*.tar.gz"))
    assert len(wheels) == len(sdists) == 1
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
    assert {"didan_lite/__init__.py", "data_fetch/__init__.py", "didan_lite/reference_results/synthetic.json"} <= names
    assert not any(name.startswith(("tests/", "notebooks/")) for name in names), "the wheel holds the packages only"
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("PASSED") == 2
