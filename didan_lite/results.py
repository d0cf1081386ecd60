"""The result types of a comparison: its data, one trained run, and all runs (its settings:
:mod:`didan_lite.config`).

They sit below both :mod:`didan_lite.experiment` (which fills them) and :mod:`didan_lite.report` (which
writes them), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch

from didan_lite.metrics import mean_and_sd
from didan_lite.model_selection import WeightChoice
from didan_lite.training import DomainData

__all__ = ["Comparison", "RunResult", "TaskData"]


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
