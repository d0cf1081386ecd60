"""The library runs on Colab's library versions: its core tests and one notebook, in a venv of Colab's pins.

``tests/test_colab_install.py`` proves that installing the package on Colab changes none of Colab's
packages; this proves that the code then works there. A separate virtual environment (system site
packages off, kept in :data:`VENVS`, outside the checkout, and rebuilt when its recipe changes) gets

1. the local torch build (this machine's CPU torch, the version of the torch running these tests:
   Colab's is a CUDA build of another version, which a CPU machine cannot run);
2. Colab's exact versions of :data:`COLAB_STACK`, read from ``tests/colab_constraints.txt``;
3. the package's other requirements and the test tools, constrained to Colab's versions where
   Colab has them.

and then runs :data:`CORE_TESTS` and :data:`NOTEBOOK` (fast mode, nbval) with this checkout on its
path. They also run in ``make test-all``'s main venv; here they run again on purpose, because the library
versions are what differs (it is the only test run twice, and only in ``make test-all``). Its Python is this machine's, not necessarily Colab's: a pin without a wheel for it skips the
test, naming the pin. Needs the package index; skips, saying so, when it cannot be reached.

Cost, measured on this project's 2-core machine (shared with other work, so wall times are longer
than CPU times): building the venv about 2.5 min wall, 100 s of CPU, once; the tests and the notebook
2.5 min of CPU (4.9 min wall under that load).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
import venv
from pathlib import Path

import pytest
import torch

from conftest import REPO
from test_colab_install import NETWORK_ERRORS, colab_packages, index_url

COLAB_STACK = ("numpy", "pandas", "scikit-learn", "scipy", "matplotlib", "librosa", "umap-learn", "soundfile",
               "numba", "llvmlite")  # fmt: skip  (numba and llvmlite: umap-learn's and librosa's compiler, pinned with numpy)
OTHERS = ("seaborn", "tqdm", "pooch", "opensmile", "pytest", "nbval", "nbclient", "nbformat", "ipykernel", "packaging", "pyyaml")
"""The package's other requirements and the test tools (the ``notebooks`` extra is not Colab's front end: left out)."""
CORE_TESTS = ("test_features.py", "test_training.py", "test_alignment.py", "test_metrics.py", "test_manifest.py",
              "test_synthetic.py", "test_verdicts.py", "test_experiment.py", "test_precision.py",
              "test_model_selection.py")  # fmt: skip
NOTEBOOK = "notebooks/01_spectrogram_features.ipynb"
"""The cheapest notebook (about 50 s of CPU in fast mode); UMAP, which it lacks, runs in test_experiment.py."""
VENVS = Path(os.environ.get("DIDAN_LITE_COLAB_VENVS", Path.home() / ".cache" / "didan_lite" / "colab-runtime"))
"""Where the venvs are kept between runs (about 1.8 GB each); ``$DIDAN_LITE_COLAB_VENVS`` moves them."""
TORCH = f"torch=={torch.__version__.split('+')[0]}"


def recipe() -> tuple[list[str], list[str]]:
    """(Colab's pins of the stack, constraints for the rest): Colab's versions minus torch's (the local build stands in)."""
    pins, _ = colab_packages()
    stack = [f"{name}=={pins[name]}" for name in COLAB_STACK]
    constraints = [f"{name}=={version}" for name, version in pins.items() if name != "torch"]
    return stack, constraints


def build(folder: Path) -> Path:
    """The venv's python, building the venv (atomically: a half-built one is never reused) when it is missing."""
    python = folder / "bin" / "python"
    if (folder / ".complete").is_file():
        return python
    partial = folder.with_name(folder.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(partial, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(partial)
    stack, constraints = recipe()
    (partial / "colab-constraints.txt").write_text("\n".join(constraints) + "\n")
    pip = [str(partial / "bin" / "python"), "-m", "pip", "install", "--quiet", "--timeout", "60", "--retries", "2"]
    for step in ([TORCH], ["--only-binary=:all:", *stack], ["-c", str(partial / "colab-constraints.txt"), *OTHERS]):
        result = subprocess.run([*pip, *step], capture_output=True, text=True, timeout=1200)
        output = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if "is ignored" not in line)
        if result.returncode != 0 and any(error in output for error in NETWORK_ERRORS):
            pytest.skip(f"the package index could not be reached while building the Colab venv: {output[-300:]}")
        missing = re.search(r"No matching distribution found for (\S+)", output)
        if result.returncode != 0 and missing and missing[1] in stack:
            pytest.skip(f"Colab's {missing[1]} has no wheel for Python {sys.version_info.major}.{sys.version_info.minor} here")
        assert result.returncode == 0, f"building the Colab venv failed at {step}:\n{output[-3000:]}"
    (partial / ".complete").write_text("\n".join([TORCH, *stack]) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return python


@pytest.mark.slow
@pytest.mark.network
@pytest.mark.colab_runtime
def test_core_tests_and_a_notebook_pass_on_colabs_library_versions():
    url = index_url()
    try:
        urllib.request.urlopen(f"{url}/pip/", timeout=15).close()
    except OSError as exc:
        pytest.skip(f"the package index {url} cannot be reached ({exc}); this check needs it")
    stack, constraints = recipe()
    key = hashlib.sha1("\n".join([sys.version, TORCH, *stack, *constraints, *OTHERS]).encode()).hexdigest()[:10]
    python = build(VENVS / f"py{sys.version_info.major}{sys.version_info.minor}-{key}")
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True)
    installed = {item["name"].lower(): item["version"] for item in json.loads(listed.stdout)}
    assert [f"{name}=={installed[name]}" for name in COLAB_STACK] == stack, "the venv holds Colab's versions"
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment |= {"PYTHONPATH": str(REPO), "DIDAN_LITE_FAST": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    command = [str(python), "-m", "pytest", *(f"tests/{name}" for name in CORE_TESTS), NOTEBOOK, "--nbval-lax",
               "--nbval-current-env", "--nbval-sanitize-with", "notebooks/sanitize.cfg", "--nbval-cell-timeout", "600",
               "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning"]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=1800)
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    assert result.returncode == 0, f"on Colab's versions ({', '.join(stack)}): {summary}\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    assert re.search(r"\d+ passed", summary) and "failed" not in summary, summary
