"""What nbval cannot check about the teaching notebooks, and the data helper they all call.

nbval (``make test``) re-runs every notebook and compares the cells marked
``# NBVAL_CHECK_OUTPUT``; the inline-versus-library checks are asserts inside
the notebooks. These tests read the committed files: badge and set-up cell,
structure, executed outputs free of machine paths, warnings and SVG; and they
test ``data_fetch.notebook_data`` directly, without the generator or a corpus.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import nbformat
import pytest

import didan_lite.synthetic
from data_fetch import notebook_data
from data_fetch.notebook_data import TaskManifests, find_corpus, task_manifests
from didan_lite.errors import InputError
from didan_lite.manifest import read_manifest
from conftest import load_script

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("0*.ipynb"))
KEY = REPO / "notebooks" / "instructor_key.ipynb"
CHECK_CALL = re.compile(r"\bcheck_exercise_(\d)_(\d)\(")
# The one repository address, read from pyproject.toml (never written here): notebooks/sync_setup.py writes
# the badges and set-up cells from it.
REPOSITORY = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
SLUG = REPOSITORY.removeprefix("https://github.com/")
COLAB = f"https://colab.research.google.com/github/{SLUG}/blob/main/notebooks/{{name}}"
PACKAGE = f'_package = WHEEL or "didan-lite @ git+{REPOSITORY}"'
PACKAGE_06 = ("_package = f\"{WHEEL}{'[video]' if ENTERFACE else ''}\" if WHEEL else "
              "f\"didan-lite{'[video]' if ENTERFACE else ''} @ git+" + REPOSITORY + '"')
MACHINE_PATH = re.compile(r"(/work/|/root/|/home/|/tmp/)")
INLINE_CHECKS = {"01_spectrogram_features.ipynb": "library = spectrogram(", "03_mmd.ipynb": "library = float(MMDLoss()(",
                 "04_ida.ipynb": "reconstruction_coefficients(f_s, f_t, \"ridge\""}


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _output_texts(notebook) -> list[str]:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts += [value for key, value in output.get("data", {}).items() if isinstance(value, str) and not key.startswith("image/")]
            texts += output.get("traceback", [])
    return texts


def test_the_seven_notebooks_and_the_key_exist():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    assert sorted((REPO / "notebooks").glob("*.ipynb")) == [*NOTEBOOKS, KEY]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_starts_with_colab_badge_and_what_you_will_learn(path):
    first = _read(path).cells[0]
    assert first.cell_type == "markdown"
    assert f"({COLAB.format(name=path.name)})" in first.source, "badge must link this notebook by absolute URL"
    assert "colab-badge.svg" in first.source
    assert "## What you will learn" in first.source


def _sync_setup():
    return load_script("notebooks/sync_setup.py")


def test_only_the_numbered_teaching_notebooks_get_a_badge_and_set_up_cell():
    assert _sync_setup().teaching_notebooks() == NOTEBOOKS
    assert _sync_setup().teaching_notebooks([KEY, NOTEBOOKS[0]]) == [NOTEBOOKS[0]], "the instructor key is left alone"


def test_the_repository_address_is_one_github_url_in_pyproject():
    assert re.fullmatch(r"https://github\.com/[A-Za-z0-9-]+/[A-Za-z0-9._-]+", REPOSITORY)
    assert _sync_setup().repository_url() == REPOSITORY


def test_no_other_file_names_the_repository_owner():
    """A fork changes one line: only pyproject.toml, the generated notebook cells and the README (its badges and
    links, rewritten by the same script) hold the address."""
    holders = []
    for path in REPO.rglob("*"):
        parts = set(path.relative_to(REPO).parts)
        if not path.is_file() or parts & {".git", ".venv", "runs", "__pycache__", ".pytest_cache", "_build"}:
            continue
        if path.suffix in {".py", ".md", ".toml", ".yml", ".yaml", ".cfg", ".txt", ".sh"} or path.name == "Makefile":
            if SLUG in path.read_text(encoding="utf-8", errors="replace"):
                holders.append(path.relative_to(REPO).as_posix())
    assert sorted(holders) == ["README.md", "pyproject.toml"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_badge_and_setup_cell_agree_with_pyproject(path):
    assert not _sync_setup().sync_notebook(path, REPOSITORY, write=False), (
        f"{path.name} disagrees with pyproject.toml's [project.urls]: run `python notebooks/sync_setup.py`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_installs_only_the_package_on_colab(path):
    notebook = _read(path)
    setup = notebook.cells[1]
    assert setup.cell_type == "code"
    lines = setup.source.splitlines()
    guard = next(i for i, line in enumerate(lines) if line.strip() == 'if "google.colab" in sys.modules:')
    installs = [line for line in lines if '"pip", "install"' in line and not line.lstrip().startswith("#")]
    package = PACKAGE_06 if path.name.startswith("06") else PACKAGE
    at = next(i for i, line in enumerate(lines) if line.strip() == package)
    assert at > guard and all(line.startswith("    ") for line in lines[guard + 1 : at + 2]), "under the Colab guard"
    assert lines[at + 1].strip() == (
        '_pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", _package], capture_output=True, text=True)'
    ), "the install must sit under the Colab guard"
    for forbidden in ("torch", "numpy", "librosa", "--upgrade", " -U", "--force-reinstall", "--no-deps"):
        assert forbidden not in installs[0] + lines[at]
    for call in ("pick_device()", "seed_everything(0)", "FAST = fast_mode()", "%matplotlib inline", "figure_formats = ['png']"):
        assert call in setup.source
    prints = [line for line in lines if line.startswith("print(")]
    assert len(prints) == 1 and "didan_lite.__version__" in prints[0] and "DEVICE.type" in prints[0], "one line: version, device, mode"
    everywhere = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert everywhere.count("seed_everything(") == 1, "seed once, in the set-up cell"


def test_a_changed_address_flows_into_badge_and_install_and_nothing_else(tmp_path):
    sync_setup = _sync_setup()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text((REPO / "pyproject.toml").read_text().replace(REPOSITORY, "https://github.com/a-fork/didan-lite"))
    url = sync_setup.repository_url(pyproject)
    notebook = tmp_path / NOTEBOOKS[0].name
    shutil.copy(NOTEBOOKS[0], notebook)
    assert sync_setup.sync_notebook(notebook, url)
    before, after = _read(NOTEBOOKS[0]), _read(notebook)
    assert "github/a-fork/didan-lite/blob/main/notebooks/" in after.cells[0].source.splitlines()[0]
    assert 'git+https://github.com/a-fork/didan-lite"' in after.cells[1].source and SLUG not in after.cells[1].source
    assert after.cells[0].source.splitlines()[1:] == before.cells[0].source.splitlines()[1:]
    assert after.cells[2:] == before.cells[2:] and after.cells[1].outputs == before.cells[1].outputs
    assert not sync_setup.sync_notebook(notebook, url), "a second run changes nothing"


def test_an_address_that_is_not_a_github_repository_is_refused_with_one_line(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "https://example.org/x"\n')
    with pytest.raises(ValueError, match=r"pyproject.toml: \[project.urls\] Repository = 'https://example.org/x'"):
        _sync_setup().repository_url(pyproject)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_explains_before_it_computes_and_ends_with_exercises(path):
    cells = _read(path).cells
    starts = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("## Exercises")]
    assert len(starts) == 1, "one '## Exercises' section"
    assert cells[-1].cell_type == "markdown", "the exercises end with the open questions"
    assert cells[2].cell_type == "markdown", "prose before the first computation"
    run = 0
    for cell in cells[2:]:
        run = run + 1 if cell.cell_type == "code" else 0
        assert run <= 2, f"more than two code cells in a row without explanation in {path.name}"
    for cell in cells[starts[0]:]:
        if cell.cell_type == "code":
            assert CHECK_CALL.search(cell.source), "an exercise code cell runs a check"
            shown = "".join(_output_texts(nbformat.from_dict({"cells": [cell]})))
            assert "no answer yet" in shown and "Error" not in shown, "as committed, each check asks for an answer"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_of_a_notebook_is_offered_in_it_and_answered_in_the_key(path):
    from didan_lite.teaching import exercises

    number = str(int(path.name[:2]))
    checks = {name.removeprefix("check_exercise_") for name in dir(exercises) if name.startswith(f"check_exercise_{number}_")}
    offered = {f"{a}_{b}" for cell in _read(path).cells if cell.cell_type == "code" for a, b in CHECK_CALL.findall(cell.source)}
    answered = {f"{a}_{b}" for cell in _read(KEY).cells if cell.cell_type == "code"
                for a, b in CHECK_CALL.findall(cell.source) if "confirm(" in cell.source}
    assert checks, f"notebook {number} has no exercise with a check"
    assert checks <= offered, f"checks not offered in {path.name}: {sorted(checks - offered)}"
    assert checks <= answered, f"checks with no answer in the key: {sorted(checks - answered)}"


@pytest.mark.parametrize("path", [*NOTEBOOKS, KEY], ids=lambda p: p.stem)
def test_executed_with_clean_small_png_outputs(path):
    notebook = _read(path)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells), "run `make notebooks` before committing"
    outputs = [output for cell in code_cells for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], "warnings or progress bars in the outputs"
    mimetypes = {key for o in outputs for key in o.get("data", {})}
    assert ("image/png" in mimetypes or path == KEY) and "image/svg+xml" not in mimetypes
    # 2 MB: figures at 100 dpi (readable at their default size, issue 19); notebook 1 (spectrograms, players) is about 1.6 MB
    assert path.stat().st_size < 2_000_000, f"{path.name} is {path.stat().st_size / 1e6:.2f} MB: lower the figure sizes"


@pytest.mark.parametrize("path", [*NOTEBOOKS, KEY], ids=lambda p: p.stem)
def test_no_machine_paths_in_sources_or_outputs(path):
    notebook = _read(path)
    texts = [cell.source for cell in notebook.cells] + _output_texts(notebook)
    leaks = sorted({match.group(0) for text in texts for match in MACHINE_PATH.finditer(text)})
    assert not leaks, f"machine paths in {path.name}: {leaks}"


@pytest.mark.parametrize("name, call", sorted(INLINE_CHECKS.items()))
def test_inline_implementations_are_checked_against_the_library(name, call):
    sources = [cell.source for cell in _read(REPO / "notebooks" / name).cells if cell.cell_type == "code"]
    checks = [source for source in sources if call in source and re.search(r"assert np\.(allclose|isclose)\(", source)]
    assert len(checks) == 1 and checks[0].startswith("# NBVAL_CHECK_OUTPUT"), "one checked cell compares inline and library"


@pytest.fixture
def no_corpora(tmp_path, monkeypatch):
    """A working folder with no shared corpora above it, an empty data_fetch cache, no DIDAN_LITE_CORPORA."""
    cwd = tmp_path / "course" / "notebooks"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv(notebook_data.CORPORA_ENV_VAR, raising=False)
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "cache"))
    return tmp_path


def test_falls_back_to_the_synthetic_corpora_when_none_is_found(no_corpora, make_tone_corpus, monkeypatch):
    stand_ins = (make_tone_corpus("synth-a", emotions=("anger", "neutral", "sadness")),
                 make_tone_corpus("synth-b", emotions=("anger", "sadness", "fear")))
    monkeypatch.setattr(didan_lite.synthetic, "make_default_corpora", lambda: stand_ins)
    data = task_manifests("B-C")
    assert data.is_synthetic and (data.source, data.target) == stand_ins
    assert data.emotions == ("anger", "sadness")
    assert data.description.startswith("SYNTHETIC") and "emodb or casia" in data.description
    assert not MACHINE_PATH.search(data.description) and str(no_corpora) not in data.description


def test_search_order_argument_then_environment_then_shared_then_cache(no_corpora, monkeypatch):
    for folder in ("given/emodb", "env/emodb", "env/casia", "course/shared/corpora/casia", "cache/corpora/enterface"):
        (no_corpora / folder).mkdir(parents=True)
    monkeypatch.setenv(notebook_data.CORPORA_ENV_VAR, str(no_corpora / "env"))
    assert find_corpus("emodb", no_corpora / "given") == ("data_root", no_corpora / "given" / "emodb")
    assert find_corpus("emodb") == ("$DIDAN_LITE_CORPORA", no_corpora / "env" / "emodb")
    monkeypatch.delenv(notebook_data.CORPORA_ENV_VAR)
    assert find_corpus("casia") == ("../shared/corpora", Path("..") / "shared" / "corpora" / "casia")
    assert find_corpus("enterface")[0] == "the data_fetch cache"
    assert find_corpus("emodb") is None


def test_a_found_but_unreadable_copy_raises_instead_of_falling_back(no_corpora):
    for key in ("emodb", "casia"):
        (no_corpora / "mine" / key).mkdir(parents=True)
    with pytest.raises(InputError, match="No .* utterances found"):
        task_manifests("B-C", data_root=no_corpora / "mine")


def test_load_keeps_the_task_emotions_and_draws_a_fixed_balanced_subset(make_tone_corpus):
    source = make_tone_corpus("tones-a", emotions=("anger", "neutral", "sadness"), per_class=6)
    target = make_tone_corpus("tones-b", emotions=("anger", "sadness", "fear"), per_class=6)
    data = TaskManifests("A-B", source, target, ("anger", "sadness"), False, "")
    full_source, full_target = data.load()
    assert set(full_source["emotion"]) == set(full_target["emotion"]) == {"anger", "sadness"}
    subset, _ = data.load(max_per_class=2, seed=0)
    assert subset["emotion"].value_counts().to_dict() == {"anger": 2, "sadness": 2}
    assert set(subset["path"]) <= set(full_source["path"])
    assert subset.equals(data.load(max_per_class=2, seed=0)[0])
    assert not subset["path"].reset_index(drop=True).equals(data.load(max_per_class=2, seed=1)[0]["path"])


def test_real_corpora_are_used_when_present(shared_corpora, no_corpora, monkeypatch):
    monkeypatch.setenv(notebook_data.CORPORA_ENV_VAR, str(shared_corpora))
    data = task_manifests("B-C")
    assert not data.is_synthetic
    assert data.emotions == ("anger", "fear", "happiness", "neutral", "sadness")
    assert {read_manifest(data.source)["corpus"].iloc[0], read_manifest(data.target)["corpus"].iloc[0]} == {"emodb", "casia"}
    assert data.description.startswith("REAL corpora, task B-C") and "$DIDAN_LITE_CORPORA" in data.description
    assert str(shared_corpora) not in data.description


AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".au", ".sph"}
AUDIO_MAGIC = (b"RIFF", b"ID3", b"fLaC", b"OggS", b"FORM")
PLAYER = re.compile(r"<audio\b[^>]*>")
TAGGED = re.compile(r'data-corpus="([^"]+)"')


@pytest.mark.parametrize("path", [*NOTEBOOKS, KEY], ids=lambda p: p.stem)
def test_no_licence_gated_audio_is_embedded_in_a_committed_notebook(path):
    """Every embedded clip is a player of didan_lite.teaching.listening that names its corpus, and no corpus is licence-gated."""
    from didan_lite.teaching.listening import may_embed

    notebook = _read(path)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [key for o in outputs for key in o.get("data", {}) if key.startswith("audio/")], "raw audio output"
    texts = _output_texts(notebook)
    players = [match.group(0) for text in texts for match in PLAYER.finditer(text)]
    embedded = sum(text.count("data:audio/") for text in texts)
    corpora = [TAGGED.search(player).group(1) if TAGGED.search(player) else None for player in players]
    assert None not in corpora, "an audio player that does not name its corpus (use didan_lite.audio_table)"
    assert embedded == len(players), "embedded audio outside a tagged player"
    assert not [corpus for corpus in corpora if not may_embed(corpus)], f"licence-gated audio in {path.name}"


def test_no_audio_file_is_committed_as_a_figure_or_fixture():
    """Corpus audio (or audio derived from it) never enters the repository: no file with an audio suffix or header."""
    found = []
    for path in REPO.rglob("*"):
        parts = set(path.relative_to(REPO).parts)
        if not path.is_file() or parts & {".git", ".venv", "runs", "__pycache__", ".pytest_cache", "node_modules"}:
            continue
        with path.open("rb") as handle:
            head = handle.read(12)
        riff_audio = head.startswith(b"RIFF") and head[8:12] == b"WAVE"
        if path.suffix.lower() in AUDIO_SUFFIXES or riff_audio or head.startswith(AUDIO_MAGIC[1:]):
            found.append(path.relative_to(REPO).as_posix())
    assert not found, f"audio files in the repository: {found}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("06")], ids=lambda p: p.stem)
def test_committed_outputs_come_from_data_anyone_can_get(path):
    """The saved outputs ran on synthetic data (the embedded pair, or 07's shift pair), never on a shared real copy."""
    texts = "\n".join(_output_texts(_read(path)))
    assert "SYNTHETIC" in texts and "REAL corpora" not in texts


def test_the_synthetic_pair_can_be_named_whatever_corpora_are_present(shared_corpora, no_corpora, monkeypatch):
    monkeypatch.setenv(notebook_data.CORPORA_ENV_VAR, str(shared_corpora))
    data = task_manifests(notebook_data.SYNTHETIC_TASK)
    assert data.is_synthetic and data.description.startswith("SYNTHETIC") and "chosen by name" in data.description
