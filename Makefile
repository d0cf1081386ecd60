# didan-lite: two commands do all the set-up on a fresh machine.
#   make demo   virtual environment + package + the demo on the embedded corpora (one seed, the reference
#               beside it; 2 min on a quiet 2-core CPU after the install: benchmarks/results/demo_time.txt)
#   make compare  the full protocol on the embedded corpora (3 seeds, weights chosen: 27 min on that CPU)
#   make site   the course site from the notebooks' saved outputs (site/_build/html)
#   make test   virtual environment + test extras + ruff + every unit and fast integration test
#               (minutes; tests marked slow, network or colab_runtime are left to test-all)
#   make test-all  everything (.ci/run): ruff, all of tests/, nbval over every notebook (two at a time)
#               and tests/test_colab_runtime.py, which builds a second venv of Colab's library versions
#               (kept in ~/.cache/didan_lite/colab-runtime) and runs the core tests and a notebook there;
#               per-test times in runs/test-all/*.xml (JUnit). The tiers: docs/testing.md
#   make gpu-check  on a GPU machine: every notebook in full mode and the default comparison, one table
#               of wall times, GPU memory and utilisation, precision and device (runs/gpu-check/)
#
# TORCH_SPEC is installed before the package, from TORCH_INDEX too: PyTorch's CPU builds (about 200 MB),
# where PyPI's Linux torch pulls several GB of CUDA packages. With a GPU, keep your own torch:
# `make demo TORCH_SPEC=`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
DEMO_OUT ?= runs/demo
BIN := $(VENV)/bin
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
NBVAL_TIMEOUT ?= 600
NBVAL_WORKERS ?= 2
TEST_ALL_OUT ?= runs/test-all
PYTEST := DIDAN_LITE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest -p no:cacheprovider
FAST_TIER := not slow and not network and not colab_runtime and not site
NBVAL := --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg --nbval-cell-timeout $(NBVAL_TIMEOUT)

.PHONY: demo compare site lint test test-all notebooks benchmark gpu-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(if $(strip $(TORCH_SPEC)),$(BIN)/python -m pip install --quiet --extra-index-url $(TORCH_INDEX) "$(TORCH_SPEC)")
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m didan_lite compare --demo --out $(DEMO_OUT)

compare: $(VENV)/.installed
	$(BIN)/python -m didan_lite compare --out runs/compare

# The course site from the notebooks' saved outputs (nothing is executed): site/_build/html/index.html
site: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[site]"
	$(BIN)/python -m sphinx -b html -q site site/_build/html

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check .

test: lint
	$(PYTEST) tests -m "$(FAST_TIER)" --durations=10

# Each step runs once: tests/ (slow ones included), then the notebooks in fast mode under nbval, one kernel
# per worker and notebook (--dist loadfile keeps a notebook's cells in order on one worker; the synthetic
# pair is generated first so that two kernels never write it at once; see notebooks/README.md), then the
# Colab-versions venv, which re-runs core tests on other library versions on purpose (docs/testing.md).
test-all: lint
	mkdir -p $(TEST_ALL_OUT)
	$(PYTEST) tests -m "not colab_runtime" --durations=20 --junitxml=$(TEST_ALL_OUT)/tests.xml
	$(if $(NOTEBOOKS),$(BIN)/python -c "from didan_lite.synthetic import make_default_corpora; make_default_corpora()")
	$(if $(NOTEBOOKS),OMP_NUM_THREADS=1 $(PYTEST) $(NOTEBOOKS) $(NBVAL) -n $(NBVAL_WORKERS) --dist loadfile \
		--durations=10 --junitxml=$(TEST_ALL_OUT)/notebooks.xml)
	$(PYTEST) tests -m colab_runtime --junitxml=$(TEST_ALL_OUT)/colab_runtime.xml

# Write the badges and set-up cells from pyproject.toml's [project.urls], then re-execute every notebook
# in place (fast mode unless DIDAN_LITE_FAST=0) so committed outputs stay current.
notebooks: $(VENV)/.installed-test
	$(BIN)/python notebooks/sync_setup.py
	DIDAN_LITE_FAST=$${DIDAN_LITE_FAST:-1} $(BIN)/python notebooks/execute.py $(NOTEBOOKS)

benchmark: $(VENV)/.installed
	$(BIN)/python -m benchmarks.speed

# With a GPU, keep its CUDA torch: `make gpu-check TORCH_SPEC=`. GPU_CHECK_ARGS=--tiny checks the script on a CPU.
gpu-check: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.gpu_check --out runs/gpu-check $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
