"""Checkpoints across precisions: a finished run reads anywhere, an unfinished one of another precision restarts.

The precision of a device is replaced by a stand-in (``training.autocast_dtype``): fp16 with its gradient
scaler and bf16 autocast both run on the CPU.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import didan_lite.checkpoints as checkpoints
import didan_lite.training as training
from conftest import blob_domain, interrupted_after_first_save
from didan_lite.errors import InputError
from didan_lite.features import SpecMasks
from didan_lite.model import ModelConfig
from didan_lite.training import TrainConfig, train_didan

CONFIG = TrainConfig(epochs=2, batch_size=8, warmup_epochs=0, progress=False, device="cpu")
SMALL = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.0)
DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": None}


def _train(monkeypatch, precision: str, checkpoint):
    monkeypatch.setattr(training, "autocast_dtype", lambda device, mixed_precision=True: DTYPES[precision])
    return train_didan(blob_domain(32, 0.0, 0), blob_domain(16, 0.0, 1), 2, config=CONFIG, model_config=SMALL,
                       checkpoint=checkpoint)


def _saved_precision(path) -> str:
    return json.loads(checkpoints.load_checkpoint(path)["fingerprint"])["precision"]


@pytest.mark.parametrize("device_precision", ["bf16", "fp32"])
def test_a_finished_fp16_run_is_read_under_another_precision(monkeypatch, tmp_path, capsys, device_precision):
    path = tmp_path / "run.pt"
    first = _train(monkeypatch, "fp16", path)
    monkeypatch.setattr(checkpoints, "save", lambda *a, **k: pytest.fail("a finished run was trained again"))
    again = _train(monkeypatch, device_precision, path)
    assert again.precision == "fp16" == _saved_precision(path), "the precision it trained in is recorded"
    assert again.history == first.history
    assert all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()))
    assert "restarts" not in capsys.readouterr().out


def test_an_unfinished_run_of_another_precision_restarts_with_one_line(monkeypatch, tmp_path, capsys):
    path = tmp_path / "run.pt"
    with interrupted_after_first_save(monkeypatch):
        with pytest.raises(KeyboardInterrupt):
            _train(monkeypatch, "fp16", path)
    assert checkpoints.load_checkpoint(path)["epoch"] == 1 and _saved_precision(path) == "fp16"
    capsys.readouterr()
    result = _train(monkeypatch, "bf16", path)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "unfinished fp16 run" in lines[0] and "bf16" in lines[0] and "restarts" in lines[0]
    assert [row["epoch"] for row in result.history] == [1, 2] and result.precision == "bf16" == _saved_precision(path)


def test_an_unfinished_run_of_the_same_precision_resumes_silently(monkeypatch, tmp_path, capsys):
    path = tmp_path / "run.pt"
    straight = _train(monkeypatch, "bf16", None)
    with interrupted_after_first_save(monkeypatch):
        with pytest.raises(KeyboardInterrupt):
            _train(monkeypatch, "bf16", path)
    resumed = _train(monkeypatch, "bf16", path)
    assert "restarts" not in capsys.readouterr().out
    assert [row["task_loss"] for row in resumed.history] == [row["task_loss"] for row in straight.history]


def test_other_settings_are_refused_whatever_the_precision(monkeypatch, tmp_path):
    path = tmp_path / "run.pt"
    _train(monkeypatch, "fp16", path)
    monkeypatch.setattr(training, "autocast_dtype", lambda device, mixed_precision=True: torch.bfloat16)
    with pytest.raises(InputError, match="belongs to a run with other settings"):
        train_didan(blob_domain(32, 0.0, 5), blob_domain(16, 0.0, 1), 2, config=CONFIG, model_config=SMALL, checkpoint=path)


def test_a_file_that_is_not_plain_data_is_one_line_naming_it(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"callable": print}, path)  # pickles a function: weights_only refuses it
    with pytest.raises(InputError, match="foreign.pt is not a plain-data checkpoint") as caught:
        checkpoints.load_checkpoint(path)
    assert "\n" not in str(caught.value) and str(caught.value).endswith("delete it to train this run afresh.")


def test_a_run_without_masks_keeps_the_fingerprint_of_the_versions_before_them(monkeypatch, tmp_path):
    """Checkpoints written before ``TrainConfig.spec_masks`` existed still resume: an unmasked run's fingerprint
    does not name the setting, a masked run's does."""
    _train(monkeypatch, "fp32", tmp_path / "plain.pt")
    assert "spec_masks" not in json.loads(checkpoints.load_checkpoint(tmp_path / "plain.pt")["fingerprint"])["train"]
    masked = dataclasses.replace(CONFIG, spec_masks=SpecMasks())
    train_didan(blob_domain(32, 0.0, 0), blob_domain(16, 0.0, 1), 2, config=masked, model_config=SMALL,
                checkpoint=tmp_path / "masked.pt")
    stored = json.loads(checkpoints.load_checkpoint(tmp_path / "masked.pt")["fingerprint"])["train"]
    assert stored["spec_masks"] == dataclasses.asdict(SpecMasks())
