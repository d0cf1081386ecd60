"""The result types of a comparison: its settings, its data, one trained run, and all runs.

They sit below both :mod:`didan_lite.experiment` (which fills them) and :mod:`didan_lite.report` (which
writes them), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Mapping

import numpy as np
import pandas as pd
import torch

from didan_lite.classical import ClassicalConfig
from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig
from didan_lite.normalisation import NORMALISATIONS
from didan_lite.metrics import mean_and_sd
from didan_lite.model import ModelConfig
from didan_lite.model_selection import CRITERIA, DEFAULT_CANDIDATES, DEFAULT_CRITERION, WeightChoice
from didan_lite.training import DomainData, TrainConfig

__all__ = ["Comparison", "ExperimentConfig", "RunResult", "TaskData"]


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a comparison besides the data, methods and seeds."""

    features: FeatureConfig = FeatureConfig(hop_ms=16.0, n_frames=125)
    """The input of every deep method: 2 s at a 16 ms hop (125 frames), the fast preset's, which tied the 10 ms
    hop's 200 frames on held-out source speakers (70.2 against 69.9 %, benchmarks/results/fast_mode_development.md)
    at five eighths of the cost of a step; the budget is counted in steps (:class:`TrainConfig`)."""
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
    band_floor_db: float | None = 40.0
    """Zero the frequency bins outside the band both corpora record (:func:`didan_lite.normalisation.shared_band`:
    more than this many dB below a corpus's own loudest bin); ``None`` keeps every bin. The reason is the front
    end's: a band one corpus never recorded cannot carry a cue that transfers, and per-bin standardisation would
    turn its residual noise into unit-variance input. A development choice, made on the synthetic pair (whose
    target labels may guide choices) after the ablation below. Audio only, no label; a no-op when
    both corpora record the same band (EmoDB and CASIA: no bin zeroed). On the synthetic pair (studio -> 300-3400 Hz
    telephone, 15 of 64 bins zeroed) fast-mode source-only went from 17.7 / 22.7 to 40.3 / 49.0 % target UAR
    (seeds 301, 302; held-out source 82.7 / 87.9 -> 66.1 / 81.7); benchmarks/results/round10/README.md."""
    normalise_by: Literal["corpus", "speaker"] = "corpus"
    """Statistics each spectrogram is standardised with (per frequency bin): its corpus's (the default), or its
    speaker's (speaker IDs of the target are unlabelled metadata; no emotion label is read). Per speaker raised
    held-out source UAR on EmoDB and the synthetic pair but lowered it on CASIA (development seeds 0, 1;
    benchmarks/results/issue8-round3.md), so it is an option, not the default."""
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
        if self.band_floor_db is not None and not (0 < self.band_floor_db < float("inf")):
            raise InputError(f"band_floor_db must be a positive number of dB or None; got {self.band_floor_db}.")
        if self.selection_folds < 1:
            raise InputError(f"selection_folds must be at least 1; got {self.selection_folds}.")
        if self.normalise_by not in NORMALISATIONS:
            raise InputError(f"Unknown normalisation {self.normalise_by!r}; use one of {', '.join(NORMALISATIONS)}.")


@dataclass
class TaskData:
    """Tensors of one cross-corpus task, ready for training.

    Attributes:
        class_names: the shared emotions, in canonical order (index = class).
        corpus_names: (source corpus, target corpus).
        source_train / source_test: labelled source, split by speaker.
        target: every target utterance; ``y`` is kept for evaluation only.
        skipped: unreadable files left out, as (path, reason).
        heldout_by: ``"speaker"`` (held-out source speakers) or ``"utterance"``
            (a single-speaker source: a stratified fifth of its utterances).
        source_paths: audio of (source_train, source_test), in the tensors' order.
        target_paths: audio of the target, in the tensors' order.
        source_speakers: speaker per source utterance (order of ``source_all``).
    """

    class_names: list[str]
    corpus_names: tuple[str, str]
    source_train: DomainData
    source_test: DomainData
    target: DomainData
    skipped: list[tuple[str, str]] = field(default_factory=list)
    heldout_by: str = "speaker"
    source_paths: tuple[list[str], list[str]] | None = None
    target_paths: list[str] | None = None
    source_speakers: np.ndarray | None = None
    """Speaker of every source utterance, training speakers first then held-out ones (the order of
    :attr:`source_all`); selection folds split them."""

    @property
    def source_all(self) -> DomainData:
        """Every source utterance: the training speakers', then the held-out speakers' (what a refit trains on)."""
        return DomainData(torch.cat([self.source_train.x, self.source_test.x]),
                          torch.cat([self.source_train.y, self.source_test.y]))


@dataclass
class RunResult:
    """One trained model (method, seed) and what was measured on it."""

    method: str
    seed: int
    target_uar: float
    target_war: float
    source_uar: float
    proxy_a_distance: float
    feature_rank: float
    target_confusion: np.ndarray
    history: list[dict]
    source_features: np.ndarray
    target_features: np.ndarray
    seconds: float
    alignment_weight: float | None = None
    """Final trade-off weight (None: no alignment term)."""
    weight_reason: str = ""
    dev_risk: float | None = None
    """DEV estimate of the target's class-balanced error, from held-out source labels only (None: not a deep run)."""
    trained_on: str = "training speakers"
    """``"training speakers"`` (held-out speakers left out), ``"all source speakers"`` (a refit), or a fold."""
    heldout_from: str = "this run"
    """Where ``source_uar`` comes from: this run's held-out speakers, or the selection runs (a refit)."""
    heldout_pred: np.ndarray | None = None
    """Predicted class of every held-out source utterance (None: a refit has none)."""
    class_alignment: float | None = None
    """Class-level alignment of the features (reads TARGET labels; evaluation only; None: not computed)."""
    precision: str | None = None
    """The network's training precision ("bf16", "fp16" or "fp32"; None: not a deep run)."""
    extra: dict = field(default_factory=dict)
    """Further figures of a method, e.g. adabn's target UAR with the source statistics."""

    def summary(self) -> dict:
        """The JSON-serialisable figures of this run."""
        return {
            "method": self.method,
            "seed": self.seed,
            "target_uar": self.target_uar,
            "target_war": self.target_war,
            "source_heldout_uar": self.source_uar,
            "proxy_a_distance": self.proxy_a_distance,
            "feature_effective_rank": self.feature_rank,
            "seconds": self.seconds,
            "alignment_weight": self.alignment_weight,
            "weight_reason": self.weight_reason,
            "dev_risk": self.dev_risk,
            "trained_on": self.trained_on,
            "source_heldout_from": self.heldout_from,
            "class_alignment": self.class_alignment,
            "precision": self.precision,
            **self.extra,
            "epochs": self.history,
        }


@dataclass
class Comparison:
    """All runs of a comparison, and where its files were written."""

    task: TaskData
    runs: list[RunResult]
    out_dir: Path
    weight: float | Literal["auto"] = "auto"
    choices: list[WeightChoice] = field(default_factory=list)
    candidate_runs: dict[str, dict[float, RunResult]] = field(default_factory=dict)
    """Runs of every candidate weight on the selection seed, per method (``weight="auto"`` only)."""

    def table(self) -> pd.DataFrame:
        """One row per method: UAR / WAR / held-out source UAR (%), proxy A-distance, rank and seconds, mean and sd
        over seeds, and the alignment weight."""
        rows = []
        for method in dict.fromkeys(run.method for run in self.runs):
            runs = [run for run in self.runs if run.method == method]
            row = {"method": method, "seeds": len(runs)}
            for key in ("target_uar", "target_war", "source_uar", "proxy_a_distance", "feature_rank"):
                scale = 1.0 if key in ("proxy_a_distance", "feature_rank") else 100.0
                mean, sd = mean_and_sd([getattr(run, key) * scale for run in runs])
                row[f"{key}_mean"], row[f"{key}_sd"] = mean, sd
            row["seconds_mean"] = mean_and_sd([run.seconds for run in runs])[0]
            row["weight"] = runs[0].alignment_weight
            rows.append(row)
        return pd.DataFrame(rows)
