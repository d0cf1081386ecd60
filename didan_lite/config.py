"""The settings of a comparison, in one place: :class:`ExperimentConfig` and the reader of stored settings.

Each setting has one home and one check: the front end's (spectrum, silence, level, band, normalisation) on
:class:`didan_lite.features.FeatureConfig`, the network's on :class:`didan_lite.model.ModelConfig`, the
optimiser's on :class:`didan_lite.training.TrainConfig`, the classical row's on
:class:`didan_lite.classical.ClassicalConfig`; :class:`ExperimentConfig` holds them and what defines a
comparison besides (held-out split, weight choice, refit). Why the defaults are what they are:
docs/decisions/front-end.md (input length, band, normalisation) and docs/decisions/weight-selection.md.

Examples::

    config = ExperimentConfig(features=FeatureConfig(hop_ms=16.0, n_frames=125, normalise_by="speaker"))
    dataclasses.replace(config, features=dataclasses.replace(config.features, band_floor_db=None))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from didan_lite.classical import ClassicalConfig
from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig
from didan_lite.model import ModelConfig
from didan_lite.model_selection import CRITERIA, DEFAULT_CANDIDATES, DEFAULT_CRITERION
from didan_lite.training import TrainConfig

__all__ = ["FRONT_END_MOVED", "ExperimentConfig", "stored_settings"]

FRONT_END_MOVED: tuple[str, ...] = ("band_floor_db", "normalise_by")
"""Front-end settings that older stored settings (``settings.json``, ``metrics.json``, checkpoint sidecars) keep
beside ``features``; :func:`stored_settings` moves them into it."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a comparison besides the data, methods and seeds."""

    features: FeatureConfig = FeatureConfig(hop_ms=16.0, n_frames=125)
    """The input of every deep method: 2 s at a 16 ms hop (125 frames); the budget is counted in steps
    (:class:`TrainConfig`)."""
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    holdout_speakers: float = 0.2
    """Fraction of source speakers held out for the within-corpus reference."""
    method_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Options per method passed to :func:`didan_lite.alignment.make_alignment`, e.g. ``{"ida": {"regulariser": "simplex"}}``."""
    cache_dir: str | None = None
    strict: bool = False
    """Stop on the first unreadable audio file instead of skipping it."""
    weight_candidates: tuple[float, ...] = DEFAULT_CANDIDATES
    """Alignment weights tried by ``compare(..., weight="auto")``."""
    weight_criterion: str = DEFAULT_CRITERION
    """How ``weight="auto"`` chooses among them, a key of :data:`didan_lite.model_selection.CRITERIA`:
    ``"source-1se"`` (the most aligned weight within one standard error of the best held-out source error) or
    ``"dev"`` (deep embedded validation). Neither reads a target label."""
    classical: ClassicalConfig = ClassicalConfig()
    """Settings of the ``opensmile-svm`` reference row."""
    refit: bool = True
    """After every choice is made on held-out source speakers, train each seed's final model on *all* source
    speakers (as the classical row and the literature do); its held-out source UAR is the selection's."""
    selection_folds: int = 2
    """Speaker folds of the held-out source estimate (every source utterance is predicted once by a model that
    never saw its speaker; the error is pooled). 1: the fixed held-out split of ``holdout_speakers``."""

    def __post_init__(self) -> None:
        if self.weight_criterion not in CRITERIA:
            raise InputError(f"Unknown weight criterion {self.weight_criterion!r}; choose one of {', '.join(CRITERIA)}.")
        if self.selection_folds < 1:
            raise InputError(f"selection_folds must be at least 1; got {self.selection_folds}.")


def stored_settings(settings: dict) -> dict:
    """Stored settings (a JSON dict holding ``features``) in today's layout: the front-end settings of
    :data:`FRONT_END_MOVED` that an older version kept beside ``features`` are moved into it.

    A copy is returned; settings already in today's layout come back equal. Anything not a dict with a
    ``features`` dict comes back as it is (the caller's checks name it).
    """
    if not isinstance(settings, dict) or not isinstance(settings.get("features"), dict):
        return settings
    settings = dict(settings)
    features = dict(settings["features"])
    for name in FRONT_END_MOVED:
        if name in settings:
            features.setdefault(name, settings.pop(name))
    settings["features"] = features
    return settings
