"""Precision by capability: bf16 only where the GPU has it natively, fp16 with a scaler on older GPUs, fp32 elsewhere.

No GPU is needed: the capability queries of ``torch.cuda`` are replaced by stand-ins.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from conftest import blob_domain
from didan_lite.model import ModelConfig
from didan_lite.runtime import PRECISION_NAMES, autocast_dtype, grad_scaler
from didan_lite.training import TrainConfig, train_didan

CUDA = torch.device("cuda")


def _gpu(monkeypatch, capability: tuple[int, int]) -> None:
    """Pretend a CUDA GPU of ``capability``."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)


@pytest.mark.parametrize(("capability", "expected"), [((7, 5), torch.float16), ((7, 0), torch.float16),
                                                       ((8, 0), torch.bfloat16), ((9, 0), torch.bfloat16)])
def test_bf16_only_on_gpus_that_have_it_natively(monkeypatch, capability, expected):
    _gpu(monkeypatch, capability)
    assert autocast_dtype(CUDA) is expected


def test_a_t4_gets_fp16_with_an_active_gradient_scaler(monkeypatch):
    _gpu(monkeypatch, (7, 5))
    dtype = autocast_dtype(CUDA)
    assert PRECISION_NAMES[dtype] == "fp16"
    assert grad_scaler(dtype).is_enabled()


def test_bf16_and_fp32_need_no_scaler(monkeypatch):
    _gpu(monkeypatch, (8, 0))
    assert not grad_scaler(autocast_dtype(CUDA)).is_enabled()
    assert not grad_scaler(None).is_enabled()


@pytest.mark.parametrize("device", ["cpu", "mps"])
def test_cpu_and_mps_keep_fp32_even_with_a_gpu_present(monkeypatch, device):
    _gpu(monkeypatch, (9, 0))
    assert autocast_dtype(torch.device(device)) is None


def test_mixed_precision_off_means_fp32_on_any_gpu(monkeypatch):
    _gpu(monkeypatch, (9, 0))
    assert autocast_dtype(CUDA, mixed_precision=False) is None


def test_the_training_result_records_its_precision():
    source, target = blob_domain(32, 0.0, 0), blob_domain(16, 0.0, 1)
    config = TrainConfig(epochs=1, batch_size=8, warmup_epochs=0, progress=False, device="cpu")
    small = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.0)
    for mixed in (True, False):
        result = train_didan(source, target, 2, config=dataclasses.replace(config, mixed_precision=mixed), model_config=small)
        assert result.precision == "fp32"


def test_training_autocasts_to_the_chosen_dtype_and_says_so(monkeypatch):
    """The trainer's wiring, on the CPU: bf16 autocast (which the CPU runs) chosen in place of the GPU's choice."""
    import didan_lite.training as training

    monkeypatch.setattr(training, "autocast_dtype", lambda device, mixed_precision=True: torch.bfloat16)
    seen = []
    monkeypatch.setattr(training.DIDAN, "forward", _recording(training.DIDAN.forward, seen))
    source, target = blob_domain(32, 0.0, 0), blob_domain(16, 0.0, 1)
    config = TrainConfig(epochs=1, batch_size=8, warmup_epochs=0, progress=False, device="cpu")
    small = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.0)
    result = train_didan(source, target, 2, config=config, model_config=small)
    assert result.precision == "bf16"
    assert torch.bfloat16 in seen


def _recording(forward, seen: list):
    def wrapped(self, x, **kwargs):
        out = forward(self, x, **kwargs)
        seen.append(out.scores.dtype)
        return out
    return wrapped


def test_fp16_training_steps_through_an_active_gradient_scaler_and_resumes_its_scale(monkeypatch, tmp_path):
    """The T4 path (fp16 autocast + GradScaler), run on the CPU: the scaler is active, its scale is checkpointed."""
    import didan_lite.checkpoints as checkpoints
    import didan_lite.training as training

    monkeypatch.setattr(training, "autocast_dtype", lambda device, mixed_precision=True: torch.float16)
    source, target = blob_domain(32, 0.0, 0), blob_domain(16, 0.0, 1)
    config = TrainConfig(epochs=2, batch_size=8, warmup_epochs=0, progress=False, device="cpu")
    small = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.0)
    checkpoint = tmp_path / "run.pt"
    result = train_didan(source, target, 2, config=config, model_config=small, checkpoint=checkpoint)
    assert result.precision == "fp16"
    state = checkpoints.load_checkpoint(checkpoint)
    assert state["scaler"]["scale"] > 0 and '"precision": "fp16"' in state["fingerprint"]
