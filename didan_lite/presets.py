"""Fast and full mode: the two named run configurations every notebook and the CLI share.

Notebook: every notebook's set-up cell picks one (``preset()`` follows
:func:`didan_lite.runtime.fast_mode`); ``python -m didan_lite compare --fast``
runs the same fast configuration from a terminal.

========================  =========================  =========================
setting                   ``FAST`` (CPU, CI)         ``FULL`` (GPU, Colab)
========================  =========================  =========================
utterances per emotion    60 per corpus (balanced)   every utterance
input (centre crop)       2 s (125 frames, 16 ms     the experiment's default
                          hop)                       (the same 2 s, 125 frames)
batch size per domain     8                          library default (32)
steps                     one pass per epoch (~600)  45 per epoch (900)
weight chosen on          fixed held-out speakers    2 speaker folds, pooled
final model trained on    the training speakers      all source speakers
target UAR monitor        every 4th epoch            every epoch
weights tried by "auto"   0.1, 1                     0.1, 0.3, 1 (the default)
dropout, weight decay     0, 0                       library defaults (0.3, 1e-4)
IDA's spread weight       3 (``method_options``)     library default (0.5)
epochs, optimiser         library defaults (20 epochs, Adam 1e-3: TrainConfig)
model                     library defaults (ModelConfig) but the dropout
seeds                     0, 1                       0-4
methods                   source-only, mmd, ida      + ida-class, ida-layer,
                                                     coral, dann
========================  =========================  =========================

Fast mode differs from full mode in the data (a class-balanced subset), the batch size, the steps per
epoch (one pass over the source), the weight selection (the fixed held-out speakers, ``selection_folds=1``,
no refit on all source speakers), the number of candidate weights, the explicit regularisation and IDA's
spread weight; the front end, the architecture and the schedule are the library's, so what a student sees
in minutes is the model a GPU trains. Why each fast setting, and what it reaches on unseen seeds:
``docs/decisions/fast-mode.md``.

Examples::

    >>> from didan_lite.presets import preset
    >>> run = preset("fast")
    >>> source, target = data.load(max_per_class=run.max_per_class)      # doctest: +SKIP
    >>> task = load_task(source, target, config=run.config)               # doctest: +SKIP
    >>> compare(source, target, methods=run.methods, seeds=run.seeds, config=run.config)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from didan_lite.config import ExperimentConfig
from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig
from didan_lite.model import ModelConfig
from didan_lite.runtime import fast_mode
from didan_lite.training import TrainConfig


@dataclass(frozen=True)
class Preset:
    """A named run configuration.

    Attributes:
        name: ``"fast"``, ``"full"`` or ``"demo"``.
        max_per_class: utterances kept per emotion and corpus (a class-balanced
            random subset, :func:`didan_lite.manifest.balanced_subset`); ``None`` keeps all.
        config: features, model and training settings for
            :func:`didan_lite.task.load_task` / :func:`~didan_lite.experiment.compare`.
        seeds: seeds a comparison repeats over.
        methods: methods a comparison trains (notebook 5, ``compare``).
    """

    name: str
    max_per_class: int | None
    config: ExperimentConfig
    seeds: tuple[int, ...]
    methods: tuple[str, ...]
    weight: float | str = "auto"
    """The alignment weight ``compare`` trains with: ``"auto"`` (chosen without target labels) or a fixed number."""
    reference: str | None = None
    """The shipped reference (:func:`didan_lite.reference.load_reference`) the command line prints beside the run."""

    def with_progress(self, progress: bool) -> "Preset":
        """The same preset with per-epoch progress bars switched on or off."""
        train = dataclasses.replace(self.config.train, progress=progress)
        return dataclasses.replace(self, config=dataclasses.replace(self.config, train=train))


FAST = Preset(
    name="fast",
    max_per_class=60,
    config=ExperimentConfig(
        features=FeatureConfig(hop_ms=16.0, n_frames=125),
        model=ModelConfig(dropout=0.0),
        train=TrainConfig(batch_size=8, weight_decay=0.0, monitor_every=4, progress=False, steps_per_epoch=None),
        weight_candidates=(0.1, 1.0),
        method_options={method: {"diversity": 3.0} for method in ("ida", "ida-class", "ida-layer")},
        refit=False,
        selection_folds=1,
    ),
    seeds=(0, 1),
    methods=("source-only", "mmd", "ida"),
)
"""Minutes on a laptop CPU: a class-balanced subset, 2 s inputs at a 16 ms hop, small batches, no dropout or weight decay,
a stronger IDA spread term, two candidate weights, the target monitored every 4th epoch, two seeds."""

FULL = Preset(
    name="full",
    max_per_class=None,
    config=ExperimentConfig(train=TrainConfig(progress=False)),
    seeds=(0, 1, 2, 3, 4),
    methods=("source-only", "mmd", "ida", "ida-class", "ida-layer", "coral", "dann"),
)
"""Every utterance and the library's defaults over five seeds: a GPU run (Colab)."""

DEMO = dataclasses.replace(FAST, name="demo", seeds=(0,), weight=0.1, reference="synthetic")
"""``make demo`` (``python -m didan_lite compare --demo``): fast mode on the embedded synthetic pair, one seed, MMD
and IDA at the synthetic reference's fixed weight (so both align, also where ``--weight auto`` would choose no
alignment), the reference printed beside the run."""

PRESETS = {p.name: p for p in (FAST, FULL, DEMO)}


def preset(name: str | None = None) -> Preset:
    """The preset ``name`` (``"fast"``, ``"full"`` or ``"demo"``); ``None`` follows :func:`didan_lite.runtime.fast_mode`.

    Raises:
        InputError: an unknown name.
    """
    if name is None:
        name = "fast" if fast_mode() else "full"
    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise InputError(f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}.") from None
