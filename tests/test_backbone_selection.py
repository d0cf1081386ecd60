"""The backbone choice on speaker folds: every source utterance scored once, by a model that never saw its speaker."""

from __future__ import annotations

import json
import types

import numpy as np
import torch

import benchmarks.backbone_selection as backbone
from didan_lite.training import DomainData


def _task(n_speakers: int = 4, per_speaker: int = 10, n_classes: int = 2):
    """A made-up source: utterance i has feature value i, speakers in blocks, classes alternating."""
    n = n_speakers * per_speaker
    x, y = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1), torch.arange(n) % n_classes
    speakers = np.repeat([f"s{k}" for k in range(n_speakers)], per_speaker)
    test = speakers == f"s{n_speakers - 1}"  # source_all holds the training speakers, then the held-out ones
    return types.SimpleNamespace(
        source_all=DomainData(x, y), source_train=DomainData(x[~test], y[~test]), source_test=DomainData(x[test], y[test]),
        source_speakers=speakers, heldout_by="speaker", target=DomainData(x[:2]), class_names=["a", "b"],
        corpus_names=["src", "tgt"])


def _fake_training(monkeypatch):
    """A trainer that remembers what it trained on; its model predicts wrongly there and rightly elsewhere."""
    def train(source, target, n_classes, config, model_config, seed):
        return types.SimpleNamespace(model=set(source.x.flatten().long().tolist()))

    def predict(model, x):
        index = x.flatten().long()
        labels = index % 2
        seen = torch.tensor([i in model for i in index.tolist()])
        return torch.where(seen, 1 - labels, labels).numpy(), None

    monkeypatch.setattr(backbone, "train_didan", train)
    monkeypatch.setattr(backbone, "predict", predict)


def test_folds_pool_predictions_from_models_that_never_saw_the_speaker(monkeypatch):
    _fake_training(monkeypatch)
    task = _task()
    row = backbone.score_candidate(task, backbone.ModelConfig(), backbone.TrainConfig(), seed=1, n_folds=2)
    # two folds of a four-speaker corpus would train on two speakers: source_folds raises it to one per speaker
    assert row["folds_requested"] == 2 and row["folds"] == 4
    assert row["heldout_source_uar"] == 1.0 and row["source_fit_uar"] == 0.0  # no utterance scored by its own model
    fixed = backbone.score_candidate(task, backbone.ModelConfig(), backbone.TrainConfig(), seed=1, n_folds=1)
    assert fixed["folds"] == 1 and fixed["heldout_source_uar"] == 1.0  # the fixed split: its last speaker held out


def test_main_writes_source_figures_only_and_resumes_per_candidate_seed_and_folds(monkeypatch, tmp_path):
    _fake_training(monkeypatch)
    monkeypatch.setattr(backbone, "task_manifest_paths", lambda task, root: ("s.csv", "t.csv", ["a", "b"]))
    monkeypatch.setattr(backbone, "load_task", lambda *args, **kwargs: _task())
    out = tmp_path / "C-B.json"
    backbone.main(["--task", "C-B", "--seeds", "900", "--candidates", "group-900", "--folds", "2", "--out", str(out)])
    backbone.main(["--task", "C-B", "--seeds", "900,901", "--candidates", "group-900", "--folds", "2", "--out", str(out)])
    rows = json.loads(out.read_text())["rows"]
    assert [(r["seed"], r["folds"]) for r in rows] == [(900, 4), (901, 4)]  # seed 900 not retrained
    assert not any("target" in key for row in rows for key in row)
