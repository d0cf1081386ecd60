"""Faults met while training: a checkpoint that is not plain data, incomplete, or of another architecture or
version is refused by name; a diverging run stops with one line and is not marked finished."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from conftest import RunsCode, blob_domain

import didan_lite.checkpoints as checkpoints
import didan_lite.training as training
from didan_lite.alignment import make_alignment
from didan_lite.errors import InputError, TrainingDiverged
from didan_lite.model import ModelConfig
from didan_lite.training import TrainConfig, train_didan




@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("payload", ["code", "numpy", "garbage"])
def test_trainer_refuses_a_checkpoint_that_is_not_plain_data(tmp_path, payload):
    """Case 1 through the library: resuming reads data only; the message names the file; nothing runs."""
    marker, path = tmp_path / "code-ran.txt", tmp_path / "run.pt"
    if payload == "garbage":
        path.write_bytes(b"\x80\x04not a checkpoint")
    else:  # a pickle that runs code, or one of an older version holding NumPy objects
        torch.save({"epoch": 1, "x": RunsCode(marker) if payload == "code" else np.random.get_state()}, path)
    config = TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu")
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    with pytest.raises(InputError, match="not a plain-data checkpoint") as caught:
        train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, config=config, model_config=model, checkpoint=path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert not marker.exists()


def _finished_checkpoint(tmp_path: Path) -> tuple[Path, Callable[[ModelConfig], None]]:
    config = TrainConfig(epochs=1, batch_size=8, progress=False, device="cpu")
    path = tmp_path / "run.pt"

    def train(model: ModelConfig) -> None:
        train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, config=config, model_config=model, checkpoint=path)

    return path, train


@pytest.mark.parametrize("damage", ["layer-shapes", "no-optimiser"])
def test_a_checkpoint_that_does_not_load_completely_is_refused_by_name(tmp_path, damage):
    """Item 16: same fingerprint, other layer shapes or a missing part: one line naming the file, nothing trained."""
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    path, train = _finished_checkpoint(tmp_path)
    train(model)
    state = checkpoints.load_checkpoint(path)
    if damage == "layer-shapes":
        name = next(iter(state["model"]))
        state["model"][name] = torch.zeros(3, *state["model"][name].shape[1:])
    else:
        del state["optimiser"]
    torch.save(state, path)
    with pytest.raises(InputError, match="does not load completely" if damage == "layer-shapes" else "lacks optimiser"):
        if damage == "layer-shapes":
            train(model)
        else:
            from didan_lite.validation import check_checkpoints

            check_checkpoints([path])


def test_the_fingerprint_holds_the_architecture_and_the_version(tmp_path, monkeypatch):
    """Item 16: a checkpoint of another architecture or package version is another run's, not resumed."""
    from didan_lite import __version__

    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    path, train = _finished_checkpoint(tmp_path)
    train(model)
    fingerprint = json.loads(checkpoints.load_checkpoint(path)["fingerprint"])
    assert fingerprint["version"] == __version__ and ["output.weight", [2, 8]] in fingerprint["architecture"]
    monkeypatch.setattr(training, "__version__", "0.0.0-other")
    with pytest.raises(InputError, match="belongs to a run with other settings"):
        train(model)


def test_a_diverging_run_stops_with_one_line_and_is_not_finished(tmp_path):
    """Item 12 through the library: a loss that becomes non-finite stops training; no finished checkpoint is left."""
    config = TrainConfig(epochs=2, batch_size=8, progress=False, device="cpu", warmup_epochs=0, alignment_weight=1000.0,
                         learning_rate=1e30)
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2))
    alignment = make_alignment("mmd", feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
    path = tmp_path / "mmd-seed0.pt"
    with pytest.raises(TrainingDiverged, match="diverged at epoch 1") as caught:
        train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, alignment=alignment, config=config,
                    model_config=model, checkpoint=path)
    assert "mmd-seed0.pt" in str(caught.value) and "\n" not in str(caught.value)
    assert not path.exists()
