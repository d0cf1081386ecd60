"""Checks made before any work starts, each refusing bad input with one line (an InputError).

- option values, as argparse types (:func:`seed_list`, :func:`alignment_weight` ...);
- folders that will be written (:func:`check_writable_folder`);
- the class list, before extraction (:func:`check_class_list`) and after
  unreadable files were skipped (:func:`check_classes_present`);
- checkpoints, which must load as plain data (:func:`check_checkpoints`);
- the output folder, which must not hold a comparison of other settings
  (:func:`claim_output_folder`).

Used by :func:`didan_lite.experiment.compare` and :mod:`didan_lite.cli`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

import torch

from didan_lite import audio
from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.folders import check_writable_folder
from didan_lite.manifest import check_manifest_file
from didan_lite.runtime import pick_device
from didan_lite.checkpoints import CHECKPOINT_KEYS, load_checkpoint
from didan_lite.config import stored_settings
from didan_lite.training import MAX_WEIGHT, check_alignment_weight

__all__ = ["MAX_SEED", "MAX_WEIGHT", "SETTINGS_FILE", "alignment_weight", "check_checkpoints", "check_class_list",
           "check_classes_present", "check_device", "check_name_lists", "check_run_values", "check_writable_folder", "claim_output_folder",
           "comparison_settings", "emotion_list", "never_aligned", "unaligned_label", "warn_unaligned", "integer_at_least", "method_list", "name_list", "positive_seconds", "seed", "seed_list",
           "write_skipped"]

MAX_SEED = 2**32 - 1
"""Largest seed every generator accepts (NumPy and scikit-learn take 32-bit seeds)."""
SKIPPED_FILE = "skipped_files.tsv"
"""The file in an output folder that lists the audio files left out as unusable (path, reason)."""
SETTINGS_FILE = "settings.json"
"""The file in an output folder that records the settings of the comparison written there."""


# ---------------------------------------------------------------- option values (argparse types)


def integer_at_least(minimum: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``; ``what`` names the value in the message."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give {what} as an integer >= {minimum}.") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is out of range; {what} must be an integer >= {minimum}.")
        return value

    return parse


def seed(text: str) -> int:
    """An argparse type: one seed, an integer in [0, 2**32 - 1]."""
    value = integer_at_least(0, "a seed")(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} is out of range; a seed must lie in [0, {MAX_SEED}].")
    return value


def seed_list(text: str) -> list[int]:
    """An argparse type: comma-separated distinct seeds, at least one (e.g. ``0,1,2``)."""
    seeds = [seed(part) for part in text.split(",") if part.strip()]
    return _distinct(seeds, text, "seed")


def name_list(text: str, *, what: str = "name", minimum: int = 1) -> list[str]:
    """Comma-separated distinct names, at least ``minimum`` of them."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    names = _distinct(names, text, what)
    if len(names) < minimum:
        raise argparse.ArgumentTypeError(
            f"{text!r} names {len(names)} {what}(s); give at least {minimum}, comma-separated."
        )
    return names


def method_list(text: str) -> list[str]:
    """An argparse type: comma-separated distinct method names, at least one."""
    return name_list(text, what="method")


def emotion_list(text: str) -> list[str]:
    """An argparse type: comma-separated distinct emotions, at least two (a one-class task has nothing to recognise)."""
    return name_list(text, what="emotion", minimum=2)


def alignment_weight(text: str) -> float | str:
    """An argparse type: ``auto`` (chosen without target labels), or a number in [0, :data:`MAX_WEIGHT`]."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; give a finite weight >= 0 (e.g. 0.3) or auto.") from None
    try:
        return check_alignment_weight(value)
    except InputError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite weight in [0, {MAX_WEIGHT:g}]; give e.g. 0.3, 0 (no alignment) "
                                         "or auto.") from None


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0 (e.g. ``--max-audio-seconds 1200``)."""
    value = audio.positive_seconds(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds; give e.g. 1200.")
    return value


def _distinct(values: list, text: str, what: str) -> list:
    if not values:
        raise argparse.ArgumentTypeError(f"{text!r} holds no {what}; give at least one, comma-separated.")
    repeated = sorted({str(v) for v in values if values.count(v) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"{text!r} repeats the {what}(s) {', '.join(repeated)}; give each once.")
    return values


def check_name_lists(**lists: object) -> None:
    """Refuse a library argument that must be a list of names but is one string (``methods="source-only"`` would
    be read letter by letter) or not a sequence at all; ``None`` is allowed (the default).

    Raises:
        InputError: naming the argument and the list to pass instead.
    """
    for name, value in lists.items():
        if value is None:
            continue
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            raise InputError(f"{name}={value!r} is one string; pass a list, e.g. {name}={parts!r}.")
        if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
            raise InputError(f"{name}={value!r} is not a list of names; pass e.g. {name}=['anger', 'sadness'].")


def check_run_values(seeds: Sequence, *weights: object) -> None:
    """The library-side twin of the option types: distinct seeds in [0, 2**32 - 1], weights ``"auto"`` or as
    :func:`didan_lite.training.check_alignment_weight` accepts.

    Raises:
        InputError: naming the value at fault.
    """
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 0 <= s <= MAX_SEED]
    if bad:
        raise InputError(f"Seeds must be whole numbers in [0, {MAX_SEED}]; got {bad}.")
    if len(set(seeds)) != len(seeds):
        raise InputError(f"Seeds {list(seeds)} repeat a value; give each seed once (a repeat would count one run twice).")
    for weight in weights:
        if weight != "auto":
            check_alignment_weight(weight)


NON_ALIGNING = ("source-only", "adabn")
"""Deep methods without an alignment term (their runs have no trade-off weight)."""


def never_aligned(methods: Sequence[str], train) -> list[str]:
    """The aligning methods of ``methods`` that never align with ``train`` (a TrainConfig): with ``epochs`` at or
    below ``warmup_epochs`` the trade-off weight is 0 in every epoch, so their runs are source-only's."""
    from didan_lite.alignment import ALIGNMENT_METHODS

    if train.warmup_epochs <= 0 or train.epochs > train.warmup_epochs:
        return []
    return [m for m in methods if m in ALIGNMENT_METHODS and m not in NON_ALIGNING]


def unaligned_label(train) -> str:
    """The label a run of an aligning method carries (``weight_reason``) when it never aligned; empty otherwise."""
    if not never_aligned(["ida"], train):
        return ""
    return (f"; never aligned: {train.epochs} epoch(s) lie within the {train.warmup_epochs}-epoch warm-up, so the "
            "weight was 0 in every epoch (source-only under another name)")


def warn_unaligned(methods: Sequence[str], train) -> None:
    """Warn, before any training, that aligning methods will never align (:func:`never_aligned`), and how to fix it."""
    idle = never_aligned(methods, train)
    if idle:
        warnings.warn(f"{', '.join(idle)} will never align: {train.epochs} epoch(s) lie within the "
                      f"{train.warmup_epochs}-epoch alignment warm-up, so the weight is 0 in every epoch and their rows "
                      "are source-only's under another name (labelled 'never aligned' in metrics.json; a weight chosen by "
                      f"'auto' is chosen among equal models). Give --epochs {train.warmup_epochs + 1} or more to compare "
                      "alignment.", stacklevel=3)


# ---------------------------------------------------------------- folders and devices


def check_device(name: str) -> None:
    """Refuse, before any work, a device this machine lacks or the trainer cannot use (``meta``, ``cuda:7`` of one GPU).

    Raises:
        InputError: naming the device and what to use instead.
    """
    device = pick_device(name)
    if device.type not in ("cpu", "cuda", "mps"):
        raise InputError(f"Device {name!r} cannot train (it holds no data); use --device auto, cpu, cuda or mps.")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise InputError(f"Device {name!r} does not exist: this machine has {torch.cuda.device_count()} CUDA device(s); "
                         "use --device cuda or auto.")


# ---------------------------------------------------------------- classes


def check_class_list(emotions: Sequence[str]) -> None:
    """Refuse a task of fewer than two distinct emotions (UAR would be 100 % whatever the model does)."""
    if len(set(emotions)) < 2:
        raise InputError(
            f"A task needs at least two emotions; got {list(emotions)}. Give two or more with --emotions (e.g. anger,sadness)."
        )


def check_classes_present(labels: Mapping[str, np.ndarray], class_names: Sequence[str],
                          skipped: Sequence[tuple[str, str]] = ()) -> None:
    """Refuse a task where an emotion has no utterance left in some part of the data.

    Args:
        labels: class indices (N,) per part, e.g. ``{"source corpus 'a' (training speakers)": y}``.
        class_names: emotion of each class index.
        skipped: (path, reason) of the files left out as unreadable, named in the message.

    Raises:
        InputError: naming the emotion, the part and what to do.
    """
    for part, y in labels.items():
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(class_names))
        empty = [name for name, count in zip(class_names, counts) if count == 0]
        if not empty:
            continue
        left = [name for name in class_names if name not in empty]
        because = (
            f" after {len(skipped)} unreadable file(s) were skipped (first: {skipped[0][0]})" if skipped else ""
        )
        repair = "repair those files, or " if skipped else ""
        fix = repair + (
            f"leave the emotion out with --emotions {','.join(left)}" if len(left) >= 2 else "choose other emotions or corpora"
        )
        raise InputError(f"Emotion(s) {empty} have no utterance left in the {part}{because}; {fix}.")


# ---------------------------------------------------------------- checkpoints and the output folder


def check_checkpoints(paths: Iterable[str | os.PathLike]) -> None:
    """Load every existing checkpoint of ``paths`` as plain data, before any work (never runs code).

    Raises:
        InputError: naming the first file that does not load with ``weights_only=True``, or that lacks
            part of a checkpoint (an incomplete or foreign file).
    """
    for path in paths:
        if Path(path).is_file():
            state = load_checkpoint(path)
            lacking = sorted(set(CHECKPOINT_KEYS) - set(state)) if isinstance(state, dict) else list(CHECKPOINT_KEYS)
            if lacking:
                raise InputError(f"Checkpoint {path} is incomplete (it lacks {', '.join(lacking)}); delete it to train "
                                 "this run afresh.")


def comparison_settings(source, target, *, emotions, methods, seeds, config, weight="auto") -> dict:
    """What defines a comparison's results: the data, emotions, settings, alignment weight, methods and seeds (JSON-able)."""
    settings = dataclasses.asdict(config)
    settings.pop("cache_dir", None)
    settings.pop("strict", None)
    settings.get("train", {}).pop("progress", None)
    return json.loads(json.dumps({
        "source": _data_digest(source),
        "target": _data_digest(target),
        "emotions": None if emotions is None else list(emotions),
        "config": settings,
        "weight": weight,
        "methods": list(methods),
        "seeds": list(seeds),
    }, default=str))


def _data_digest(manifest: str | os.PathLike | pd.DataFrame) -> str:
    """SHA-1 of a manifest's content (file bytes, or a data frame's CSV)."""
    if isinstance(manifest, pd.DataFrame):
        return hashlib.sha1(manifest.to_csv(index=False).encode()).hexdigest()
    check_manifest_file(manifest)  # a pipe would block the read below
    try:
        return hashlib.sha1(Path(manifest).read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"Manifest {manifest} cannot be read ({exc.strerror or exc}); check the path.") from exc


def claim_output_folder(out_dir: str | os.PathLike, settings: dict, *, write: bool) -> dict:
    """Refuse an output folder that holds a comparison of other settings; with ``write``, record ours.

    Settings that change results (data, emotions, configuration) must match:
    otherwise the folder's report would be silently replaced by one of another
    comparison. Other methods or seeds on the same task extend the folder: the
    methods and seeds recorded there are kept, so the report covers every run
    of the folder (finished runs are loaded from their checkpoints, not
    retrained), and a line says so.

    Returns:
        ``settings`` with the folder's earlier methods and seeds joined to ours (earlier ones first).

    Raises:
        InputError: another comparison's report is there, one of unknown
            settings (written by an older version), or a damaged settings or
            metrics file.
    """
    out_dir = Path(out_dir)
    recorded = out_dir / SETTINGS_FILE
    if recorded.is_file():
        before = _json_object(recorded, out_dir, "settings")
        before["config"] = stored_settings(before.get("config"))
        differ = sorted(key for key in ("source", "target", "emotions", "config", "weight") if before.get(key) != settings[key])
        if differ:
            detail = [key for key in differ if key != "config"] + [
                f"config.{k}" for k in _differing(before.get("config"), settings["config"])
            ]
            raise InputError(
                f"{out_dir} holds the report of a comparison with other settings ({', '.join(detail)} differ); "
                f"give this one another --out, or delete {out_dir} to replace it."
            )
        methods = list(dict.fromkeys([*_names(before.get("methods")), *settings["methods"]]))
        seeds = list(dict.fromkeys([*_names(before.get("seeds")), *settings["seeds"]]))
        if write and (methods, seeds) != (settings["methods"], settings["seeds"]):
            print(f"{out_dir} also holds runs of methods {before.get('methods')} seeds {before.get('seeds')}: the report "
                  f"covers methods {methods} seeds {seeds} (same task; finished runs are loaded, not retrained).", flush=True)
        settings = {**settings, "methods": methods, "seeds": seeds}
    elif (out_dir / "metrics.json").exists() or (out_dir / "report.md").exists():
        metrics = out_dir / "metrics.json"
        config = _legacy_config(_json_object(metrics, out_dir, "metrics")) if metrics.exists() else None
        if config != settings["config"]:
            differ = _differing(config, settings["config"]) if config is not None else ["unknown"]
            raise InputError(
                f"{out_dir} holds the report of a comparison with other settings (config.{', config.'.join(differ)}); "
                f"give this one another --out, or delete {out_dir} to replace it."
            )
    if write:
        with atomic_write(recorded, "w", encoding="utf-8") as handle:
            json.dump(settings, handle, indent=1)
    return settings


def _names(values) -> list:
    """A recorded list of methods or seeds (anything else: none)."""
    return list(values) if isinstance(values, list) else []


def _json_object(path: Path, out_dir: Path, what: str) -> dict:
    """The JSON object of a file of the output folder; a damaged file or one not holding an object is named."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = " ".join(str(getattr(exc, "strerror", None) or exc).split())
        raise InputError(f"{path} is corrupt or unreadable ({reason}); delete {out_dir} or give another --out.") from exc
    if not isinstance(value, dict):
        raise InputError(f"{path} is corrupt: it holds {type(value).__name__} {json.dumps(value)[:40]}, not the {what} "
                         f"of a comparison; delete {out_dir} or give another --out.")
    return value


def _legacy_config(metrics: dict) -> dict | None:
    """The configuration recorded in the ``metrics.json`` of an older version, as :func:`comparison_settings` has it."""
    config = stored_settings(metrics.get("config"))
    if not isinstance(config, dict):
        return None
    config.pop("cache_dir", None)
    config.pop("strict", None)
    if isinstance(config.get("train"), dict):
        config["train"].pop("progress", None)
    return config


def _differing(before, now, prefix: str = "") -> list[str]:
    """Dotted names of the leaf settings that differ between two nested dicts."""
    if not isinstance(before, dict) or not isinstance(now, dict):
        return []
    names = []
    for key in sorted(set(before) | set(now)):
        a, b = before.get(key), now.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            names += _differing(a, b, f"{prefix}{key}.")
        elif a != b:
            names.append(f"{prefix}{key}")
    return names


def write_skipped(out_dir: str | os.PathLike, skipped: Sequence[tuple[str, str]]) -> Path | None:
    """List the audio files left out as unusable in ``out_dir/skipped_files.tsv`` (path, reason) and say so in one line.

    An earlier list is removed when nothing was skipped. Returns the list's path, or ``None``.
    """
    path = Path(out_dir) / SKIPPED_FILE
    if not skipped:
        path.unlink(missing_ok=True)
        return None
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write("path\treason\n")
        handle.writelines(f"{file}\t{' '.join(reason.split())}\n" for file, reason in skipped)
    print(f"Skipped {len(skipped)} unusable audio file(s) (unreadable, silent, too short ...); the list with reasons "
          f"is in {path}. Pass --strict (strict=True) to stop on the first one instead.", flush=True)
    return path
