"""Reproducibility and hardware: one call seeds everything, one picks the device.

Notebook: every notebook's set-up cell calls both.
"""

from __future__ import annotations

import contextlib
import os
import random
from typing import Iterator

import numpy as np
import torch

from didan_lite.errors import InputError


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU) with ``seed``.

    Data order, initial weights and dropout then repeat run to run. On a CPU (same thread count) a run repeats
    bit for bit; on a CUDA GPU it does not: deterministic algorithms are not switched on, and some kernels
    (``AdaptiveAvgPool2d``'s backward) add in a varying order.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def pick_device(preference: str = "auto") -> torch.device:
    """The device to train on: ``"auto"`` takes CUDA, then Apple MPS, then the CPU.

    Raises:
        InputError: an explicit device that this machine does not have.
    """
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(preference)
    except RuntimeError as exc:
        raise InputError(f"Device {preference!r} is not a torch device name; use auto, cpu, cuda or mps.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"Device {preference!r} was asked for but CUDA is not available here; use --device auto or cpu.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InputError(f"Device {preference!r} was asked for but Apple MPS is not available here; use --device auto or cpu.")
    return device


def fast_mode() -> bool:
    """The notebooks' one switch: fast (small subset, coarser frames: :data:`didan_lite.presets.FAST`) or full mode.

    ``DIDAN_LITE_FAST=1`` forces fast mode and ``DIDAN_LITE_FAST=0`` full mode;
    unset, it is fast on a machine without CUDA and full on a GPU (Colab).
    """
    value = os.environ.get("DIDAN_LITE_FAST", "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    if value:
        raise InputError(f"DIDAN_LITE_FAST={value!r} is not understood; set it to 1 (fast) or 0 (full), or unset it.")
    return not torch.cuda.is_available()


@contextlib.contextmanager
def cpu_threads(count: int | None) -> Iterator[None]:
    """Run a block with ``count`` torch intra-op threads (``None``: unchanged), then restore the setting.

    One thread is fastest for this package's small network on a shared 2-core
    machine: a training step measured 0.11 s with one thread against 0.89 s
    with two, whose threads spin-wait on each other under load.
    """
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


PRECISION_NAMES = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}
"""How a run's precision is recorded (``TrainResult.precision``): the autocast dtype's short name."""


def autocast_dtype(device: torch.device, mixed_precision: bool = True) -> torch.dtype | None:
    """The autocast dtype for training on ``device``; ``None``: plain float32.

    bfloat16 only on a CUDA GPU that computes it natively (compute capability
    8.0 or newer: A100, L4, H100); float16 on older CUDA GPUs (Colab's free T4
    is 7.5), whose tensor cores run float16 at several times their float32
    rate; its narrow range is covered by a gradient scaler
    (:func:`grad_scaler`). CPU and Apple MPS keep float32.
    """
    if not mixed_precision or device.type != "cuda":
        return None
    return torch.bfloat16 if _native_bf16(device) else torch.float16


def _native_bf16(device: torch.device) -> bool:
    """bfloat16 in hardware, not emulated: compute capability >= 8.0 (asked of torch where it can tell)."""
    return torch.cuda.get_device_capability(device) >= (8, 0)  # this device's, not the current device's


def grad_scaler(dtype: torch.dtype | None, device: torch.device = torch.device("cuda")) -> torch.amp.GradScaler:
    """A gradient scaler on ``device``, active only for float16 autocast (a pass-through otherwise)."""
    return torch.amp.GradScaler(device.type, enabled=dtype is torch.float16)
