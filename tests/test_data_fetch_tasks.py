"""Task presets of the paper's protocol and tasks on any other pair of corpora."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from didan_lite.errors import InputError

from data_fetch import CORPORA, TASKS, get_corpus, get_task
from data_fetch.tasks import common_emotions


def test_the_six_presets_of_the_protocol():
    assert set(TASKS) == {"B-E", "E-B", "B-C", "C-B", "E-C", "C-E"}
    assert TASKS["B-C"].source == "emodb" and TASKS["B-C"].target == "casia"
    assert TASKS["C-E"].source == "casia" and TASKS["C-E"].target == "enterface"
    assert TASKS["B-E"].emotions == ("anger", "disgust", "fear", "happiness", "sadness")
    assert TASKS["C-B"].emotions == ("anger", "fear", "happiness", "neutral", "sadness")
    assert TASKS["E-C"].emotions == ("anger", "fear", "happiness", "sadness", "surprise")
    with pytest.raises(FrozenInstanceError):
        TASKS["B-C"].emotions = ()


@pytest.mark.parametrize("name", list(TASKS))
def test_preset_emotions_are_what_the_two_corpora_share(name):
    task = TASKS[name]
    assert task.emotions == common_emotions(get_corpus(task.source), get_corpus(task.target))
    assert TASKS[f"{name[2]}-{name[0]}"].emotions == task.emotions


@pytest.mark.parametrize("spelling", ["B-C", "B->C", "b->c", " B → C ", "emodb->casia", "EmoDB-CASIA", "berlin - C"])
def test_task_names_are_read_leniently(spelling):
    assert get_task(spelling) is TASKS["B-C"]


def test_any_other_pair_gets_the_shared_emotions():
    task = get_task("ravdess->tess")
    assert (task.name, task.source, task.target) == ("ravdess-tess", "ravdess", "tess")
    # RAVDESS's calm is not in TESS; TESS's pleasant surprise maps to surprise
    assert task.emotions == ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
    assert get_task("C-iemocap").emotions == ("anger", "fear", "happiness", "neutral", "sadness", "surprise")
    assert get_task("B-ravdess").emotions == ("anger", "disgust", "fear", "happiness", "neutral", "sadness")


def test_fewer_than_two_shared_emotions_is_an_error(monkeypatch):
    toy = replace(CORPORA["emodb"], key="toy", short=None, aliases=(), label_map={"x": "calm", "y": "boredom"})
    monkeypatch.setitem(CORPORA, "toy", toy)
    with pytest.raises(InputError, match="at least two"):
        get_task("toy-casia")


@pytest.mark.parametrize(
    "name, message",
    [("B", "SOURCE-TARGET"), ("B-C-E", "SOURCE-TARGET"), ("B-B", "both"), ("B-X", "Unknown corpus")],
)
def test_bad_task_names_are_clear_errors(name, message):
    with pytest.raises(InputError, match=message):
        get_task(name)


def test_the_command_line_reads_a_task_through_the_one_function(tmp_path, monkeypatch):
    """``--task`` reaches ``data_fetch.task_manifest_paths`` through the installed entry point (the library never
    imports data_fetch): a corpus without a copy is data_fetch's own refusal, naming the folder."""
    from importlib.metadata import entry_points

    import data_fetch
    from didan_lite import cli

    (provider,) = entry_points(group=cli.TASK_ENTRY_POINT[0], name=cli.TASK_ENTRY_POINT[1])
    assert provider.load() is data_fetch.task_manifest_paths
    monkeypatch.chdir(tmp_path)  # no ../shared/corpora from here
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("DIDAN_LITE_CORPORA", raising=False)
    (tmp_path / "corpora").mkdir()
    with pytest.raises(InputError, match=f"The folder {tmp_path / 'corpora' / 'emodb'} does not exist"):
        cli.task_manifests("B-C", tmp_path / "corpora")
    with pytest.raises(InputError, match="not SOURCE-TARGET"):
        cli.task_manifests("B-C-E", None)


def test_the_command_line_without_the_task_provider_says_how_to_install(monkeypatch):
    import importlib.metadata

    from didan_lite import cli

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **selection: ())
    with pytest.raises(InputError, match=r"--task B-C needs data_fetch's task provider .*pip install -e \.") as caught:
        cli.task_manifests("B-C", None)
    assert "\n" not in str(caught.value)
