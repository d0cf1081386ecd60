"""Checkpoints: plain data only, written atomically, resumed only by the run that wrote them.

A training checkpoint (:func:`save`) holds tensors, numbers and strings, so it is read with
``torch.load(weights_only=True)`` (:func:`load_plain`): a planted or foreign ``.pt`` file cannot run code.
Its fingerprint (the run's settings, a digest of its data, the architecture, the package version and the
precision it trained in) decides whether :func:`resume` may continue it:

* other settings, data, architecture or version: refused, one line naming the file;
* a finished run is read on any device and precision; the precision it trained in is recorded, not
  a reason to refuse;
* an unfinished run of another precision (an fp16 run resumed on a bf16 GPU) restarts from its first
  epoch, with one line saying so: its optimiser and loss scale belong to the other precision.

Used by :func:`didan_lite.training.train_didan` (``checkpoint=``) and :mod:`didan_lite.teaching.pretrained`.

Examples::

    state = load_checkpoint("runs/demo/checkpoints/ida-seed0.pt")   # dict of plain data, on the CPU
    state["epoch"], json.loads(state["history"])[-1]["task_loss"]
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import numpy as np
import torch

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError

CHECKPOINT_KEYS: tuple[str, ...] = ("fingerprint", "epoch", "model", "optimiser", "alignment", "generators", "torch_rng",
                                     "numpy_rng", "python_rng", "history", "cycles", "scaler")
"""What a complete checkpoint holds (:func:`save`)."""


def load_plain(path: str | Path, refusal: str, remedy: str) -> object:
    """Read a ``.pt`` file onto the CPU as data: tensors, numbers, strings and containers of them, never code.

    Raises:
        InputError: ``"{refusal} ({reason}); {remedy}."`` when the file does not load that way (damaged, of
            another kind, or hostile); ``refusal`` names the file, ``remedy`` says what to do.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise InputError(f"{refusal} ({reason}); {remedy}.") from exc


def load_checkpoint(path: str | Path) -> dict:
    """A training checkpoint as plain data (:func:`load_plain`).

    Raises:
        InputError: naming the file, when it does not load as plain data (damaged, from another program or
            an older version of this package, or hostile).
    """
    return load_plain(path, f"Checkpoint {path} is not a plain-data checkpoint of this package and was not loaded",
                      "delete it to train this run afresh")


def data_digest(source_x: torch.Tensor, source_y: torch.Tensor, target_x: torch.Tensor, n_classes: int) -> str:
    """SHA-1 of the training tensors: a checkpoint is resumed only on the very same data."""
    digest = hashlib.sha1(str(n_classes).encode())
    for tensor in (source_x, source_y, target_x):
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _canonical(fingerprint: dict) -> str:
    """The run's settings as one JSON string."""
    return json.dumps(fingerprint, sort_keys=True, default=str)


def _without_precision(fingerprint: dict) -> str:
    return _canonical({key: value for key, value in fingerprint.items() if key != "precision"})


def save(path: Path, fingerprint: dict, epoch: int, model, optimiser, alignment, generators, history, cycles,
         scaler) -> None:
    """Write a checkpoint of plain data only (:data:`CHECKPOINT_KEYS`), atomically.

    ``fingerprint`` holds the run's settings and its ``precision`` ("bf16", "fp16", "fp32"); ``generators``
    maps names to ``torch.Generator``; ``cycles`` maps names to objects with ``order`` (tensor) and ``cursor``.
    """
    numpy_rng = np.random.get_state()
    state = {
        "fingerprint": _canonical(fingerprint),
        "epoch": epoch,
        "model": model.state_dict(),
        "optimiser": optimiser.state_dict(),
        "alignment": None if alignment is None else alignment.state_dict(),
        "generators": {name: g.get_state() for name, g in generators.items()},
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": {"name": numpy_rng[0], "keys": torch.from_numpy(numpy_rng[1].astype(np.int64)),
                      "pos": int(numpy_rng[2]), "has_gauss": int(numpy_rng[3]), "cached_gaussian": float(numpy_rng[4])},
        "python_rng": json.dumps(random.getstate()),
        "history": json.dumps(history, default=float),
        "cycles": {name: {"order": c.order, "cursor": c.cursor} for name, c in cycles.items()},
        "scaler": scaler.state_dict(),  # fp16's loss scale (empty when no scaler is active)
    }
    with atomic_write(path, "wb") as handle:
        torch.save(state, handle)


def resume(path: Path, fingerprint: dict, epochs: int, model, optimiser, alignment, generators, cycles,
           scaler) -> tuple[int, list[dict], str]:
    """Restore the run saved at ``path`` into the given objects: (epochs done, history, precision it trained in).

    ``epochs`` is the run's length: a checkpoint at that epoch is finished. An unfinished run of another
    precision than ``fingerprint["precision"]`` is not restored: ``(0, [], that precision)`` after one line.

    Raises:
        InputError: the file is not plain data, belongs to other settings, or does not load completely.
    """
    state = load_checkpoint(path)  # on the CPU; load_state_dict moves each tensor to its parameter's device
    try:
        saved = json.loads(state["fingerprint"])
        same_run = isinstance(saved, dict) and _without_precision(saved) == _without_precision(fingerprint)
    except (TypeError, KeyError, ValueError):
        same_run = False
    if not same_run:
        raise InputError(
            f"Checkpoint {path} belongs to a run with other settings; delete it, or write this run to another folder."
        )
    precision, wanted = saved.get("precision"), fingerprint["precision"]
    if precision != wanted and state.get("epoch") != epochs:
        print(f"Checkpoint {path} is an unfinished {precision} run; this device trains in {wanted}, so the run "
              "restarts from its first epoch.", flush=True)
        return 0, [], wanted
    try:
        epoch, history = _restore(state, model, optimiser, alignment, generators, cycles, scaler)
    except (KeyError, RuntimeError, TypeError, ValueError, AttributeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise InputError(f"Checkpoint {path} does not load completely ({type(exc).__name__}: {reason}); "
                         "delete it to train this run afresh.") from exc
    return epoch, history, precision


def _restore(state: dict, model, optimiser, alignment, generators, cycles, scaler) -> tuple[int, list[dict]]:
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    if alignment is not None and state["alignment"] is not None:
        alignment.load_state_dict(state["alignment"])
    for name, generator in generators.items():
        generator.set_state(state["generators"][name])
    for name, cycle in cycles.items():
        cycle.order, cycle.cursor = state["cycles"][name]["order"], state["cycles"][name]["cursor"]
    if state["scaler"]:  # a disabled scaler (bf16, fp32) ignores an fp16 run's scale
        scaler.load_state_dict(state["scaler"])
    torch.set_rng_state(state["torch_rng"])
    numpy_rng = state["numpy_rng"]
    np.random.set_state((numpy_rng["name"], numpy_rng["keys"].numpy().astype(np.uint32), numpy_rng["pos"],
                         numpy_rng["has_gauss"], numpy_rng["cached_gaussian"]))
    random.setstate(_as_tuples(json.loads(state["python_rng"])))
    return state["epoch"], json.loads(state["history"])


def _as_tuples(value):
    """JSON turns Python's RNG state (nested tuples) into lists; turn them back."""
    return tuple(_as_tuples(v) for v in value) if isinstance(value, list) else value
