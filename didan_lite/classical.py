"""The classical reference row: openSMILE functionals, per-corpus z-scores, a linear SVM.

Notebook: notebooks/05_ida_vs_mmd.ipynb shows it beside the deep methods.

``opensmile-svm`` is the row every deep method must beat, and the field's
usual cross-corpus baseline (Schuller et al., 2010; Eyben et al., 2016):

========================  ===============================================
features                  eGeMAPSv02 functionals (88 per utterance) of the
                          ``opensmile`` package, computed on the same 16 kHz
                          signal as the spectrograms
                          (:func:`didan_lite.features.load_audio`)
normalisation             z-score per corpus with that corpus's own
                          statistics (the target's from its unlabelled
                          audio), as for the spectrograms
classifier                ``SVC(kernel="linear", C=1)`` with balanced class
                          weights: the metric is UAR, which counts every
                          emotion equally, and the source classes are
                          imbalanced (EmoDB: 127 anger, 62 sadness)
adaptation                none; nothing is chosen on the target
========================  ===============================================

Functionals are cached per file, keyed by the SHA-1 of the file's bytes, the
feature set, the sample rate and the openSMILE version, and written
atomically; an entry that does not load is recomputed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.svm import SVC

from didan_lite.atomic import cached_array
from didan_lite.errors import InputError
from didan_lite.features import default_cache_dir, file_digest, load_audio

CLASSICAL_METHODS: tuple[str, ...] = ("opensmile-svm",)


@dataclass(frozen=True)
class ClassicalConfig:
    """Settings of the reference row (defaults in the module docstring)."""

    feature_set: str = "eGeMAPSv02"
    """A member name of ``opensmile.FeatureSet`` (eGeMAPSv02, ComParE_2016, IS09, ...)."""
    sample_rate: int = 16_000
    svm_c: float = 1.0
    class_weight: str | None = "balanced"


def _smile(feature_set: str):
    import opensmile

    if feature_set not in opensmile.FeatureSet.__members__:
        raise InputError(f"openSMILE feature set {feature_set!r} is unknown; choose among {list(opensmile.FeatureSet.__members__)}.")
    return opensmile.Smile(feature_set=opensmile.FeatureSet[feature_set], feature_level=opensmile.FeatureLevel.Functionals)


def opensmile_functionals(
    paths: list[str] | pd.Series,
    config: ClassicalConfig = ClassicalConfig(),
    *,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """openSMILE functionals of every file, through an on-disk cache.

    The files are those :func:`didan_lite.task.load_task` kept, so every
    one of them already decoded; a failure here names the file.

    Returns:
        (N, D) float64, one row per path in order (D = 88 for eGeMAPSv02).

    Raises:
        InputError: an unknown feature set, an unreadable file.
    """
    import opensmile

    smile = _smile(config.feature_set)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache = root / f"opensmile-{config.feature_set}-{config.sample_rate}-{opensmile.__version__}"
    return np.stack([_cached_functionals(Path(path), smile, config.sample_rate, cache) for path in paths])


def _cached_functionals(path: Path, smile, sample_rate: int, cache: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"Audio file {path} does not exist; check the manifest or re-run the corpus preparation.")
    def compute() -> np.ndarray:
        values = smile.process_signal(load_audio(path, sample_rate), sample_rate).to_numpy(dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(values)):
            raise InputError(f"openSMILE gave non-finite features for {path}; the file is too short or corrupt. Remove it.")
        return values

    def valid(values: np.ndarray) -> bool:
        return values.ndim == 1 and values.size == len(smile.feature_names) and bool(np.all(np.isfinite(values)))

    return cached_array(cache / f"{file_digest(path)}.npy", compute, valid)


def standardise(features: np.ndarray) -> np.ndarray:
    """Z-score with the statistics of these features alone (one corpus). Shape: (N, D) -> (N, D)."""
    mean, std = features.mean(axis=0), features.std(axis=0)
    return (features - mean) / np.where(std > 1e-8, std, 1.0)


@dataclass
class ClassicalFit:
    """Predictions and standardised features of the reference row.

    Attributes:
        target_pred (N_t,), heldout_pred (N_h,): predicted class indices.
        source_features (N_s, D), target_features (N_t, D): standardised functionals.
    """

    target_pred: np.ndarray
    heldout_pred: np.ndarray | None
    source_features: np.ndarray
    target_features: np.ndarray


def fit_reference(
    source_features: np.ndarray,
    source_labels: np.ndarray,
    heldout_features: np.ndarray | None,
    target_features: np.ndarray,
    config: ClassicalConfig = ClassicalConfig(),
) -> ClassicalFit:
    """Train the linear SVM on standardised source functionals; predict held-out source and target.

    The source is standardised with the statistics of the whole source corpus
    (training and held-out speakers, labels unused), the target with its own.

    ``heldout_features=None`` (a fit on every source speaker): no held-out prediction (``heldout_pred`` is None).

    Shape:
        source_features (N_s, D) with labels (N_s,), heldout_features (N_h, D), target_features (N_t, D).
    """
    held = np.empty((0, source_features.shape[1])) if heldout_features is None else heldout_features
    source_all = standardise(np.concatenate([source_features, held]))
    train, heldout = source_all[: len(source_features)], source_all[len(source_features) :]
    target = standardise(target_features)
    classifier = SVC(kernel="linear", C=config.svm_c, class_weight=config.class_weight)
    classifier.fit(train, source_labels)
    return ClassicalFit(
        target_pred=classifier.predict(target),
        heldout_pred=None if heldout_features is None else classifier.predict(heldout),
        source_features=train,
        target_features=target,
    )
