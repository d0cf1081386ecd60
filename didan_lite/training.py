"""One trainer for every method: source-only, IDA and its variants, MMD, CORAL, DANN.

Notebook: notebooks/02_cross_corpus_problem.ipynb (source-only) and
04_ida.ipynb (with alignment) use it.

Every method shares the backbone, the data, the optimiser and the schedule;
only the alignment term differs. The objective of one step is

.. math::
    \\mathcal{L} = \\underbrace{\\tfrac{1}{BC}\\lVert f(X_s) - Y_s \\rVert_F^2}_{\\text{regression (MSE)}}
    + \\lambda(e)\\, \\mathcal{L}_{\\text{align}}(F_s, F_t)

with one-hot source labels :math:`Y_s`, features :math:`F` of a fully
connected layer, and the trade-off weight :math:`\\lambda(e)` zero for the first
``warmup_epochs`` epochs, then ramped linearly to ``alignment_weight`` (see
:meth:`TrainConfig.weight_at`). The regression is class-weighted by default
(each class weighs the same in total, as in UAR, the metric), and the budget is
counted in optimisation steps (``steps_per_epoch`` times ``epochs``), so a small
source corpus gets as many updates as a large one.

**Paired runs.** For one seed every method starts from the same initial weights
and sees the same source batches, crops and target batches in the same order:
the network is built right after seeding (before any alignment term draws a
number), and the source order, the target order and the augmentations each draw
from their own generator, so whether the target batch is fed or not (warm-up,
source-only) changes nothing in the source stream. A difference between two
methods on one seed is then due to the methods, not to the draw (docs/decisions/paired-runs.md).

Target labels are never used for training or for choosing a model: the model
returned is the one of the last epoch. When they are given, the target UAR
per epoch is *recorded* (``target_uar_monitor``) so that curves can show what
alignment did, nothing more.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from didan_lite import __version__, checkpoints
from didan_lite.alignment import AlignmentLoss
from didan_lite.errors import InputError, TrainingDiverged
from didan_lite.features import SpecMasks, random_crop, spec_mask
from didan_lite.metrics import unweighted_average_recall
from didan_lite.model import DIDAN, ModelConfig, set_exact_statistics
from didan_lite.progress import progress_bar
from didan_lite.runtime import PRECISION_NAMES, autocast_dtype, cpu_threads, grad_scaler, pick_device, seed_everything


MAX_WEIGHT = 1000.0
"""Largest alignment weight accepted: beyond it the alignment term swamps the task loss by orders of magnitude
and training diverges (the candidates of ``weight="auto"`` are :data:`didan_lite.model_selection.DEFAULT_CANDIDATES`)."""


def check_alignment_weight(weight: object) -> float:
    """The one check of an alignment weight, wherever it is given: a number in [0, :data:`MAX_WEIGHT`].

    Raises:
        InputError: naming the value (NaN, infinite, negative, too large or not a number).
    """
    number = isinstance(weight, (int, float, np.integer, np.floating)) and not isinstance(weight, bool)
    if not (number and 0 <= weight <= MAX_WEIGHT):
        raise InputError(f"Alignment weight {weight!r} is not a finite number in [0, {MAX_WEIGHT:g}]; use e.g. 0.3, "
                         "0 (no alignment) or 'auto' (compare only).")
    return float(weight)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by every method."""

    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    class_weighted: bool = True
    """Weigh each source example by N / (C n_y), so every class counts the same in total (UAR is the metric)."""
    steps_per_epoch: int | None = 45
    """Optimisation steps per epoch (batches drawn from a reshuffled cycle over the source); the budget is
    ``epochs * steps_per_epoch`` steps whatever the corpus size. ``None``: one pass over the source per epoch."""
    alignment_weight: float = 0.3
    """Trade-off weight of :func:`train_didan` and :func:`didan_lite.experiment.run_method`. ``compare`` and the
    CLI take the weight from their ``weight`` argument (``"auto"``, the default, or a number) instead, and refuse a
    value set here that differs from it (the ``alignment_weight`` of each run's record says which it trained with)."""
    warmup_epochs: int = 5
    n_frames: int | None = None
    """Crop length for random-crop training; ``None`` trains on the stored length."""
    spec_masks: SpecMasks | None = None
    """Frequency and time masks of every *source* batch (:func:`didan_lite.features.spec_mask`), drawn from the
    run's augmentation generator; target batches are never masked. ``None``: no masks."""
    device: str = "auto"
    mixed_precision: bool = True
    """Autocast of the network on CUDA (alignment terms stay float32): bfloat16 where the GPU has it natively,
    float16 with a gradient scaler on older GPUs (:func:`didan_lite.runtime.autocast_dtype`); ignored on a CPU or MPS."""
    cpu_threads: int | None = 1
    """torch intra-op threads while training on a CPU (restored afterwards; see :func:`didan_lite.runtime.cpu_threads`).
    ``None`` keeps torch's setting."""
    checkpoint_every: int = 1
    monitor_every: int = 1
    """Record the target UAR monitor every this many epochs and at the last (0: only at the last); it costs a
    forward pass over the whole target per recorded epoch."""
    progress: bool = True

    def __post_init__(self) -> None:
        if (self.epochs < 1 or self.batch_size < 2 or not 0 < self.learning_rate < math.inf
                or (self.steps_per_epoch is not None and self.steps_per_epoch < 1)):
            raise InputError(f"Training settings out of range: {self}.")
        if self.spec_masks is not None and not isinstance(self.spec_masks, SpecMasks):
            raise InputError(f"spec_masks must be a SpecMasks or None; got {self.spec_masks!r}.")
        check_alignment_weight(self.alignment_weight)

    def weight_at(self, epoch: int) -> float:
        """Trade-off weight during ``epoch`` (0-based).

        Zero for the first ``warmup_epochs`` epochs (the network first learns
        the source task: aligning random features only pulls noise together,
        and an early alignment term keeps the regression stuck at its
        predict-the-mean plateau), then a linear ramp to ``alignment_weight``
        over the next ``warmup_epochs`` epochs, then constant.
        """
        if self.warmup_epochs <= 0:
            return self.alignment_weight
        ramp = (epoch - self.warmup_epochs + 1) / self.warmup_epochs
        return self.alignment_weight * min(1.0, max(0.0, ramp))

@dataclass
class DomainData:
    """Spectrograms of one domain held as tensors (moved to the device once).

    Attributes:
        x: (N, n_bins, n_frames) normalised spectrograms.
        y: (N,) class indices, or ``None`` for unlabelled data.
    """

    x: torch.Tensor
    y: torch.Tensor | None = None

    def to(self, device: torch.device) -> "DomainData":
        return DomainData(self.x.to(device), None if self.y is None else self.y.to(device))


@dataclass
class TrainResult:
    """A trained network and its per-epoch history (list of dicts, one per epoch)."""

    model: DIDAN
    history: list[dict] = field(default_factory=list)
    precision: str = "fp32"
    """The network's training precision: "bf16" or "fp16" autocast on CUDA, else "fp32" (:func:`didan_lite.runtime.autocast_dtype`)."""


def task_loss(scores: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Regression of scores (B, C) onto the one-hot vectors of class indices ``labels`` (B,) (MSE); a weighted
    mean with ``weights`` (B,)."""
    per_example = (scores - F.one_hot(labels, scores.shape[1]).to(scores.dtype)).pow(2).mean(1)
    if weights is None:
        return per_example.mean()
    return (weights * per_example).sum() / weights.sum().clamp_min(1e-12)


def class_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """N / (C' n_c) per class c (0 for a class without examples; C' the classes present). Shape: (N,) -> (n_classes,)."""
    counts = torch.bincount(labels.cpu(), minlength=n_classes).float()
    present = counts > 0
    weights = torch.zeros(n_classes)
    weights[present] = len(labels) / (int(present.sum()) * counts[present])
    return weights


DROPOUT_SEED_OFFSET = 2**40
"""Seeds of the dropout streams lie this far above the data streams', so no two streams of two runs meet."""


def _generators(seed: int) -> dict[str, torch.Generator]:
    """One generator per random stream of a run: source order, target order, source augmentation, and the
    dropout masks of the source rows and of the target rows."""
    streams = {name: torch.Generator().manual_seed(seed * 3 + offset)
               for offset, name in enumerate(("source", "target", "augment"))}
    for offset, name in enumerate(("dropout_source", "dropout_target")):
        streams[name] = torch.Generator().manual_seed(DROPOUT_SEED_OFFSET + seed * 2 + offset)
    return streams



@torch.no_grad()
def predict(model: DIDAN, x: torch.Tensor, *, layer: int = -2, batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Predicted classes (N,) and features (N, D) of fully connected layer ``layer``.

    Small batches are faster on a CPU here (400 utterances: 0.48 s in batches of 32,
    0.89 s in batches of 256, one thread), the activations staying in cache.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    predictions, features = [], []
    for start in range(0, len(x), batch_size):
        out = model(x[start : start + batch_size].to(device))
        predictions.append(out.scores.argmax(1).cpu())
        features.append(out.fc_outputs[layer].float().cpu())
    model.train(was_training)
    return torch.cat(predictions).numpy(), torch.cat(features).numpy()


def train_didan(
    source: DomainData,
    target: DomainData,
    n_classes: int,
    *,
    alignment: AlignmentLoss | None = None,
    config: TrainConfig = TrainConfig(),
    model_config: ModelConfig = ModelConfig(),
    seed: int = 0,
    checkpoint: str | Path | None = None,
    target_labels_for_monitoring: torch.Tensor | None = None,
) -> TrainResult:
    """Train DIDAN on labelled source and unlabelled target spectrograms.

    An epoch is one pass over the source in shuffled batches; each step pairs
    a source batch with a target batch drawn from a shuffled cycle of the
    target. With ``checkpoint`` the state is saved atomically every
    ``checkpoint_every`` epochs, and a run that finds a checkpoint of the same
    settings resumes after its last epoch (a Colab disconnect costs at most one
    epoch).

    Args:
        source: labelled source data (``y`` required).
        target: target data; its ``y`` is ignored (pass labels for monitoring
            through ``target_labels_for_monitoring``).
        alignment: an alignment term, or ``None`` for source-only training.

    Raises:
        InputError: missing source labels, a checkpoint of other settings.
    """
    if source.y is None:
        raise InputError("The source domain needs labels (DomainData.y); only the target may be unlabelled.")
    if len(source.x) < 2 or len(target.x) < 2:
        raise InputError(f"Need at least two utterances per domain (source {len(source.x)}, target {len(target.x)}).")
    seed_everything(seed)
    device = pick_device(config.device)
    with cpu_threads(config.cpu_threads if device.type == "cpu" else None):
        return _train(source, target, n_classes, alignment, config, model_config, seed, checkpoint,
                      target_labels_for_monitoring, device)


def _initialise(alignment: AlignmentLoss) -> None:
    """Draw the initial weights of a learnable alignment term (DANN's discriminator) from the run's seed.

    The term is built before :func:`train_didan` seeds the generators, so its
    weights would otherwise depend on whatever drew random numbers before. Called after the network is
    built, so the network's initial weights are the same for every method of a seed.
    """
    for module in alignment.modules():
        if callable(getattr(module, "reset_parameters", None)):
            module.reset_parameters()


def _train(source, target, n_classes, alignment, config, model_config, seed, checkpoint, target_labels_for_monitoring, device) -> TrainResult:
    model = DIDAN(source.x.shape[1], n_classes, model_config).to(device)
    if alignment is not None:
        _initialise(alignment)
    parameters = list(model.parameters()) + (list(alignment.parameters()) if alignment is not None else [])
    if alignment is not None:
        alignment.to(device)
    optimiser = torch.optim.Adam(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    generators = _generators(seed)
    weights_of_class = class_weights(source.y, n_classes).to(device) if config.class_weighted else None
    source, target_x = source.to(device), target.x.to(device)
    history: list[dict] = []
    start_epoch = 0
    amp_dtype = autocast_dtype(device, config.mixed_precision)
    scaler = grad_scaler(amp_dtype, device)
    fingerprint = {
        "precision": PRECISION_NAMES[amp_dtype],  # a bf16 run is not resumed as fp16 on another GPU
        "train": {name: value for name, value in dataclasses.asdict(config).items()  # without masks: as before they existed
                  if not (name == "spec_masks" and value is None)} | {"progress": None},
        "model": dataclasses.asdict(model_config),
        "seed": seed,
        "alignment": None if alignment is None else repr(alignment),
        "data": checkpoints.data_digest(source.x, source.y, target_x, n_classes),
        "architecture": [[name, list(value.shape)] for name, value in model.state_dict().items()],
        "version": __version__,
    }
    cycles = {"source": _Cycle(len(source.x), generators["source"]), "target": _Cycle(len(target_x), generators["target"])}
    precision = PRECISION_NAMES[amp_dtype]
    if checkpoint is not None and Path(checkpoint).is_file():
        start_epoch, history, precision = checkpoints.resume(Path(checkpoint), fingerprint, config.epochs, model, optimiser,
                                                             alignment, generators, cycles, scaler)

    batch = min(config.batch_size, len(source.x))
    steps_per_epoch = config.steps_per_epoch or max(1, len(source.x) // batch)
    epochs = progress_bar(range(start_epoch, config.epochs), desc="epochs", enabled=config.progress, leave=False)
    for epoch in epochs:
        model.train()
        weight = config.weight_at(epoch) if alignment is not None else 0.0
        aligning = weight > 0
        began = time.perf_counter()
        sums = torch.zeros(2, device=device)
        part_sums: dict[str, torch.Tensor] = {}
        for step in range(steps_per_epoch):
            if aligning:
                alignment.set_progress((epoch * steps_per_epoch + step) / (config.epochs * steps_per_epoch))
            index_s = cycles["source"].next(batch).to(device)
            index_t = cycles["target"].next(batch).to(device)
            x_s, y_s = source.x[index_s], source.y[index_s]
            x_s = _augment(x_s, config, generators["augment"])
            if config.spec_masks is not None:
                x_s = spec_mask(x_s, config.spec_masks, generators["augment"])
            x_t = _augment(target_x[index_t], config, generators["target"])  # drawn every step, fed or not
            inputs = torch.cat([x_s, x_t]) if aligning else x_s
            with torch.autocast(device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
                out = model(inputs, n_source=len(x_s), noise=(generators["dropout_source"], generators["dropout_target"]))
            n_s = len(x_s)
            loss_task = task_loss(out.scores[:n_s].float(), y_s, None if weights_of_class is None else weights_of_class[y_s])
            loss = loss_task
            if aligning:
                fc_s = [f[:n_s].float() for f in out.fc_outputs]
                fc_t = [f[n_s:].float() for f in out.fc_outputs]
                loss_align = alignment.from_layers(fc_s, fc_t, y_s=y_s, scores_t=fc_t[-1].detach())
                loss = loss_task + weight * loss_align
                sums[1] += loss_align.detach()
                for name, value in (alignment.last_parts or {"total": loss_align}).items():
                    part_sums[name] = part_sums.get(name, 0.0) + value.detach().float()
            sums[0] += loss_task.detach()
            optimiser.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
        means = (sums / steps_per_epoch).tolist()  # the one host synchronisation of the epoch
        finite_weights = bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all())  # one sync
        if not (finite_weights and all(math.isfinite(value) for value in means)):  # never save a diverged state
            run = f" in run {Path(checkpoint).name}" if checkpoint else ""
            raise TrainingDiverged(f"Training diverged at epoch {epoch + 1}{run} (task loss {means[0]:.3g}, alignment loss "
                             f"{means[1]:.3g}, weight {weight:g}); lower the alignment weight or the learning rate "
                             "(the diverged state was not saved; the run is not finished).")
        record = {
            "epoch": epoch + 1,
            "task_loss": means[0],
            "alignment_loss": means[1] if aligning else None,
            "alignment_weight": weight,
            "alignment_parts": {name: float(total) / steps_per_epoch for name, total in part_sums.items()} if aligning else None,
            "seconds": time.perf_counter() - began,
        }
        if target_labels_for_monitoring is not None and (
            epoch + 1 == config.epochs or (config.monitor_every > 0 and (epoch + 1) % config.monitor_every == 0)
        ):
            predictions, _ = predict(model, target_x)
            record["target_uar_monitor"] = unweighted_average_recall(target_labels_for_monitoring.cpu().numpy(), predictions)
        history.append(record)
        epochs.set_postfix(loss=f"{means[0]:.3f}")
        if checkpoint is not None and ((epoch + 1) % config.checkpoint_every == 0 or epoch + 1 == config.epochs):
            checkpoints.save(Path(checkpoint), fingerprint, epoch + 1, model, optimiser, alignment, generators, history,
                             cycles, scaler)
    set_exact_statistics(model, source.x)  # BatchNorm: exact moments of the training source, order-free
    model.eval()
    return TrainResult(model, history, precision)


class _Cycle:
    """Batches of indices from a reshuffled cycle over N examples (a new permutation when too few remain)."""

    def __init__(self, n: int, generator: torch.Generator) -> None:
        self.n, self.generator = n, generator
        self.order, self.cursor = torch.randperm(n, generator=generator), 0

    def next(self, batch: int) -> torch.Tensor:
        if self.cursor + batch > self.n:
            self.order, self.cursor = torch.randperm(self.n, generator=self.generator), 0
        self.cursor += batch
        return self.order[self.cursor - batch : self.cursor]


def _augment(x: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """Random crop of one domain's batch, drawn from that domain's generator."""
    if config.n_frames is not None:
        x = random_crop(x, config.n_frames, generator)
    return x
