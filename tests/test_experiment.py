"""The main job (python -m didan_lite compare) end to end on tiny corpora, and its bad-input paths."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch

from didan_lite.cli import main
from didan_lite.errors import InputError
from didan_lite.experiment import ExperimentConfig, compare, load_task
from didan_lite.features import FeatureConfig
from didan_lite.normalisation import normalisation_groups
from didan_lite.manifest import read_manifest
from didan_lite.model import ModelConfig
from didan_lite.results import TaskData
from didan_lite.training import DomainData, TrainConfig

TINY = ExperimentConfig(
    model=ModelConfig(conv_channels=(4, 8), fc_dims=(32, 16), pooled_size=(2, 2)),
    train=TrainConfig(epochs=2, batch_size=8, warmup_epochs=1, progress=False, device="cpu", steps_per_epoch=15),
)


def test_compare_writes_metrics_report_and_figures(tone_corpora, tmp_path):
    source, target = tone_corpora
    config = dataclasses.replace(TINY, cache_dir=str(tmp_path / "cache"), weight_candidates=(0.1, 1.0))
    comparison = compare(source, target, methods=["source-only", "ida"], seeds=[0, 1], out_dir=tmp_path / "run",
                         config=config, progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {(r["method"], r["seed"]) for r in metrics["runs"]} == {(m, s) for m in ("source-only", "ida") for s in (0, 1)}
    assert all(0 <= r["target_uar"] <= 1 and 0 <= r["target_war"] <= 1 for r in metrics["runs"])
    assert metrics["class_names"] == ["anger", "neutral", "sadness"]
    (choice,) = metrics["weight_selection"]
    assert choice["method"] == "ida" and choice["candidates"] == [0.1, 1.0] and len(choice["scores"]) == 2
    assert choice["chosen"] in (0.1, 1.0) and "standard error" in choice["reason"] and "held-out source" in choice["criterion"]
    assert choice["rule"] == "source-1se"
    by_weight = dict(zip(choice["candidates"], choice["scores"]))
    assert by_weight[choice["chosen"]] <= choice["threshold"]
    assert all(score > choice["threshold"] for weight, score in by_weight.items() if weight > choice["chosen"])
    assert {r["alignment_weight"] for r in metrics["runs"] if r["method"] == "ida"} == {choice["chosen"]}
    assert all(r["source_heldout_uar"] is not None and r["seconds"] > 0 for r in metrics["runs"])
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| source-only |" in report and "| ida |" in report and "±" in report
    assert "## Verdicts" in report and "## Per method and seed" in report and "one standard error" in report
    for name in ("umap.png", "confusion.png", "curves.png"):
        assert (tmp_path / "run" / "figures" / name).stat().st_size > 1000
    table = comparison.table()
    assert list(table["method"]) == ["source-only", "ida"] and (table["seeds"] == 2).all()


def test_held_out_source_speakers_are_not_trained_on(tone_corpora, tmp_path):
    source, target = tone_corpora
    task = load_task(source, target, config=dataclasses.replace(TINY, cache_dir=str(tmp_path / "c")), progress=False)
    frame = read_manifest(source)
    assert len(task.source_train.x) + len(task.source_test.x) == len(frame)
    assert 0 < len(task.source_test.x) < len(task.source_train.x)


@pytest.mark.parametrize("normalise_by", ["corpus", "speaker"])
def test_normalisation_statistics_per_corpus_or_per_speaker(tone_corpora, tmp_path, normalise_by):
    source, target = tone_corpora
    # the grouping alone: without the front end (whose level removal and tiling move the means off zero)
    plain = dataclasses.replace(TINY.features, level="none", trim_db=None, length="pad", normalise_by=normalise_by)
    config = dataclasses.replace(TINY, cache_dir=str(tmp_path / "c"), features=plain)
    task = load_task(source, target, config=config, progress=False)
    speaker_of = dict(zip(read_manifest(target)["path"], read_manifest(target)["speaker"]))
    speakers = np.array([speaker_of[path] for path in task.target_paths])
    means = {s: task.target.x[torch.from_numpy(speakers == s)].mean(dim=(0, 2)) for s in np.unique(speakers)}
    per_speaker_zero = all(torch.allclose(m, torch.zeros_like(m), atol=1e-4) for m in means.values())
    assert per_speaker_zero == (normalise_by == "speaker")  # tones of one register: speakers differ in level
    assert torch.allclose(task.target.x.mean(dim=(0, 2)), torch.zeros(task.target.x.shape[1]), atol=1e-4)


def test_unknown_normalisation_or_unnamed_speakers_are_refused(tone_corpora):
    with pytest.raises(InputError, match="'utterance'"):
        FeatureConfig(normalise_by="utterance")
    frame = read_manifest(tone_corpora[0])
    frame.loc[frame.index[1], "speaker"] = " "
    with pytest.raises(InputError, match="1 utterance\\(s\\) name no speaker"):
        normalisation_groups(frame, FeatureConfig(normalise_by="speaker"))
    assert normalisation_groups(frame, FeatureConfig(normalise_by="corpus")) == [0] * len(frame)


def test_cli_runs_end_to_end_and_prints_the_table(tone_corpora, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "data"))
    source, target = tone_corpora
    code = main(["compare", "--source", str(source), "--target", str(target), "--methods", "source-only,mmd",
                 "--seeds", "0", "--epochs", "1", "--weight", "0.3", "--out", str(tmp_path / "out"), "--no-figures", "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| mmd |" in printed and "report.md" in printed
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert [r["method"] for r in metrics["runs"]] == ["source-only", "mmd"]
    assert metrics["weight"] == 0.3 and metrics["weight_selection"] == [] and metrics["runs"][1]["alignment_weight"] == 0.3


def test_cli_weight_criterion_reaches_the_choice(tone_corpora, tmp_path, monkeypatch):
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "data"))
    source, target = tone_corpora
    out = tmp_path / "out"
    code = main(["compare", "--source", str(source), "--target", str(target), "--methods", "mmd", "--seeds", "0",
                 "--epochs", "1", "--criterion", "dev", "--out", str(out), "--no-figures", "--quiet"])
    assert code == 0
    choice = json.loads((out / "metrics.json").read_text())["weight_selection"][0]
    assert choice["rule"] == "dev" and "DEV risk" in choice["reason"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--methods", "magic"], "Unknown method"),
        (["--weight", "much"], "'much' is not a number"),
        (["--emotions", "anger,surprise"], "no utterance of ['surprise']"),
        (["--task", "B-C", "--source", "x.csv"], "either --task or --source"),
    ],
    ids=["method", "weight", "emotion", "task-and-manifests"],
)
def test_cli_bad_input_is_one_clear_line(tone_corpora, tmp_path, capsys, extra, message):
    source, target = tone_corpora
    args = ["compare", "--out", str(tmp_path / "o"), "--quiet", "--epochs", "1"]
    if "--task" not in extra:
        args += ["--source", str(source), "--target", str(target)]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_fewer_than_two_shared_emotions_is_refused(make_tone_corpus, tmp_path, capsys):
    a = make_tone_corpus("a", emotions=("anger", "sadness"))
    b = make_tone_corpus("b", emotions=("anger", "fear"))
    assert main(["compare", "--source", str(a), "--target", str(b), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "at least two" in capsys.readouterr().err


def test_missing_audio_named_in_manifest_is_reported(tone_corpora, tmp_path, capsys):
    source, target = tone_corpora
    frame = pd.read_csv(source)
    frame.loc[0, "path"] = "gone.wav"
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    assert main(["compare", "--source", str(broken), "--target", str(target), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "gone.wav" in capsys.readouterr().err


def test_report_does_not_import_the_experiment():
    """The result types live below both: importing the report (or the types) loads no experiment code."""
    import subprocess
    import sys

    code = ("import sys, didan_lite.report, didan_lite.results; "
            "sys.exit(1 if 'didan_lite.experiment' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_refit_trains_every_seed_on_every_source_speaker(tone_corpora, tmp_path, monkeypatch):
    import didan_lite.experiment as experiment

    sizes = []
    real = experiment.train_didan

    def spy(source, target, *args, **kwargs):
        sizes.append(len(source.y))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(experiment, "train_didan", spy)
    source, target = tone_corpora
    config = dataclasses.replace(TINY, cache_dir=str(tmp_path / "cache"), weight_candidates=(0.1, 1.0), selection_folds=2)
    comparison = compare(source, target, methods=["source-only", "mmd"], seeds=[0, 1], out_dir=tmp_path / "run",
                         config=config, progress=False, figures=False)
    n_source = len(comparison.task.source_all.y)
    k = len(experiment.source_folds(comparison.task, config.selection_folds))  # three speakers: one fold each
    assert k == len(set(comparison.task.source_speakers.tolist())) == 3
    # source-only: k selection folds then two refits; mmd: weight 0's score (source-only's fold runs, loaded
    # from their checkpoints), k folds per candidate weight, then two refits
    folds = sizes[:k]
    assert sum(n_source - n for n in folds) == n_source  # the folds hold out every source utterance once
    assert sizes[k:k + 2] == [n_source, n_source] and sizes[k + 2:2 * k + 2] == folds and sizes[-2:] == [n_source, n_source]
    assert len(sizes) == k + 2 + k + 2 * k + 2
    for run in comparison.runs:
        assert run.trained_on == "all source speakers" and f"{k} speaker folds" in run.heldout_from
        assert 0 <= run.source_uar <= 1
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {r["trained_on"] for r in metrics["runs"]} == {"all source speakers"}


def test_selection_folds_never_split_a_speaker(tone_corpora, tmp_path):
    from didan_lite.experiment import source_folds

    source, target = tone_corpora
    task = load_task(source, target, config=dataclasses.replace(TINY, cache_dir=str(tmp_path / "c")), progress=False)
    folds = source_folds(task, 3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(task.source_all.y)))
    held = [set(task.source_speakers[f].tolist()) for f in folds]
    assert all(not (a & b) for i, a in enumerate(held) for b in held[i + 1 :])
    with pytest.raises(InputError, match="selection folds"):
        source_folds(task, 4)


def _speaker_task(n_speakers: int, per_speaker: int = 10) -> TaskData:
    """A made-up task: ``n_speakers`` source speakers, each with every one of two emotions."""
    speakers = np.repeat([f"s{k}" for k in range(n_speakers)], per_speaker)
    labels = torch.tensor(np.tile([0, 1], len(speakers) // 2))
    data = DomainData(torch.zeros(len(labels), 1, 4, 4), labels)
    empty = DomainData(torch.zeros(0, 1, 4, 4), torch.zeros(0, dtype=torch.long))
    return TaskData(["a", "b"], ("src", "tgt"), data, empty, data, source_speakers=speakers)


@pytest.mark.parametrize(("n_speakers", "asked", "expected"), [(10, 2, 2), (4, 2, 4), (5, 2, 3), (3, 2, 3), (2, 2, 2)])
def test_selection_folds_train_on_at_least_three_speakers_or_all_but_one(n_speakers, asked, expected):
    from didan_lite.experiment import source_folds

    task = _speaker_task(n_speakers)
    folds = source_folds(task, asked)
    assert len(folds) == expected
    for test in folds:
        trained_on = n_speakers - len(set(task.source_speakers[test].tolist()))
        assert trained_on >= min(3, n_speakers - 1)


@pytest.mark.parametrize("refit", [False, True])
def test_weight_zero_is_source_only_and_is_not_trained_again(tone_corpora, tmp_path, refit):
    """No alignment chosen (or given): the method's runs are source-only's, relabelled, with no run of their own."""
    source, target = tone_corpora
    config = dataclasses.replace(TINY, cache_dir=str(tmp_path / "cache"), refit=refit)
    out = tmp_path / "run"
    comparison = compare(source, target, methods=["source-only", "mmd"], seeds=[0, 1], out_dir=out, config=config,
                         weight=0.0, figures=False, progress=False)
    by_method = {m: [r for r in comparison.runs if r.method == m] for m in ("source-only", "mmd")}
    for plain, unaligned in zip(*by_method.values()):
        assert unaligned.seed == plain.seed and unaligned.alignment_weight == 0.0
        assert unaligned.target_uar == plain.target_uar and unaligned.source_uar == plain.source_uar
    assert not any(path.name.startswith("mmd") for path in (out / "checkpoints").iterdir())
    # alone, the method still gets source-only's runs (trained for it, not added to the table as source-only)
    alone = compare(source, target, methods=["mmd"], seeds=[0], out_dir=tmp_path / "alone", config=config, weight=0.0,
                    figures=False, progress=False)
    assert [r.method for r in alone.runs] == ["mmd"] and alone.runs[0].target_uar == by_method["source-only"][0].target_uar
