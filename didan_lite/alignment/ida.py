r"""Implicit distribution alignment (IDA) by target-sample reconstruction: OUR reading.

Notebook: notebooks/04_ida.ipynb teaches IDA, its regularisers and its
coefficient matrix, against MMD.

**What is known and what is ours.** DIDAN (Zhao et al., ICASSP 2023) and LIDAN
(IEEE TCSS 2024) align the corpora "implicitly" through *sample
reconstruction*: target features are rebuilt from source features, with no
assumption on the form of the distributions. Their full texts, hence the
exact IDA formula, were not available to this project. What follows is this
package's own reading, written so that each choice can be varied.

**The default reading** (``IDALoss()``, method ``"ida"``): *how much worse
the other corpus rebuilds a sample than the sample's own corpus does*, in both
directions. Each target :math:`t_j` is rebuilt from the source batch by convex,
soft-nearest-neighbour weights, and also from the *other* targets of its batch
(leave one out) by the same rule; the loss is the logarithm of the ratio of
the two mean residuals, averaged with the same with the roles of the corpora swapped:

.. math::
    \rho_A(x) = \Big\lVert x - \sum_{a \in A} w_a(x)\, a \Big\rVert^2, \quad
    w_a(x) = \mathrm{softmax}_{a \in A}\!\Big(-\frac{\lVert x - a \rVert^2}{\tau}\Big),
    \qquad
    \ell(S \to T) = \log \frac{\frac{1}{B_t}\sum_j \rho_S(t_j) + \epsilon}{\frac{1}{B_t}\sum_j \rho_{T \setminus t_j}(t_j) + \epsilon},
    \qquad
    \ell_{\text{IDA}} = \tfrac12\big(\ell(S \to T) + \ell(T \to S)\big)
        - \gamma \cdot \tfrac12\big(\sigma(S) + \sigma(T)\big)

with :math:`\tau` = ``strength`` (0.1) times the median squared distance
between two samples *of the same corpus* (both batches, detached), and
:math:`\sigma(X) = \log(\lVert X_c \rVert_* / \lVert X_c \rVert_F)` the spectral spread of a
centred batch (:func:`spectral_spread`), weighted by :math:`\gamma` = ``diversity`` (0.5).

Why each part (the self-reference, the logarithm, locality, both directions, the spread term, the
within-corpus temperature) and the measurements behind it: ``docs/decisions/ida-reading.md``.

``regulariser`` (``ridge``, ``sparse``), ``reference`` (``"spread"``),
``symmetric``, ``floor`` and ``diversity`` can be varied; ``groups`` (class-aware, LIDAN) apply to the
cross and the self reconstruction alike.

**The floored one-way reading** (``symmetric=False, floor=0.0``; method ``"ida-oneway-floored"``): only
:math:`\max(\ell(S \to T), 0)`, minus the spread term. One way, nothing asks the source to be rebuilt from
the target, so a source class the target lacks is not pulled towards the target (the reason to rebuild one way);
but the plain one-way log-ratio has no floor: targets spread apart from each other, each kept on some source
sample, lower it without end. The floor stops the reward where the target is rebuilt by the source as well as
by its own corpus: from there on the term gives no gradient. Our reading, as is the rest.

**The first reading** (``reference="spread"``, ``regulariser="ridge"``,
``symmetric=False``, ``diversity=0``; method ``"ida-ridge"``, with ``symmetric=True`` for both
directions), kept to show how a collapse satisfies it.
Take a batch of source features :math:`S \in \mathbb{R}^{B_s \times D}`
(rows :math:`s_i`) and target features :math:`T \in \mathbb{R}^{B_t \times D}`
(rows :math:`t_j`). Centre both on the source mean :math:`\mu_s`. Every target
is rebuilt from the sources through a coefficient matrix
:math:`W \in \mathbb{R}^{B_t \times B_s}`, solved in closed form inside the
forward pass (gradients flow through the solve into both :math:`S` and :math:`T`):

.. math::
    \tilde s_i = s_i - \mu_s, \quad \tilde t_j = t_j - \mu_s, \quad
    \tilde t_j \approx \sum_i w_{ji}\, \tilde s_i,
    \qquad
    \ell_{\text{IDA}} = \frac{\frac{1}{B_t} \lVert \tilde T - W \tilde S \rVert_F^2}
                             {\tfrac12 (v_s + v_t) + \epsilon}

with :math:`v_s = \frac{1}{B_s}\sum_i \lVert s_i - \mu_s \rVert^2` and
:math:`v_t = \frac{1}{B_t}\sum_j \lVert t_j - \mu_t \rVert^2` the spreads of the
two batches about their own means. If the target batch lies where the source
batch lies, it can be rebuilt and the residual is small; what the source
cannot explain (a shift of the target away from the source, target
variations absent from the source) remains.

- *Centring on the source mean* makes the reconstruction affine (the source
  mean is a free intercept): moving both domains together changes nothing,
  moving the target away from the source does. Without it, the large common
  offset of ReLU features would be rebuilt for free.
- *Dividing by the within-domain spread* makes the loss scale invariant:
  multiplying all features by :math:`c` leaves it unchanged, so the network
  cannot lower it by shrinking its features. The spread excludes the gap
  between the domain means, so a target shift raises the numerator only
  (dividing by the target energy about the source mean would let the shift
  cancel out). Both domains' spreads enter, so a target batch that collapses
  to a point does not make the loss blow up. With :math:`W = 0` the loss is
  :math:`(v_t + \lVert \mu_t - \mu_s \rVert^2) / \tfrac12(v_s + v_t)`, a
  Fisher-like ratio of the mean gap to the spread: ``ridge`` and ``sparse``
  never exceed it, and ``simplex`` reaches it as its temperature grows.
  Two guards: the spread is floored at ``SPREAD_FLOOR`` (1e-3) times the
  targets' mean squared distance to the source mean, so domains that have
  each collapsed to a different point give at most about 1/``SPREAD_FLOOR``
  instead of an exploding value (ridge and sparse can never exceed it; the
  floor only acts when the mean gap is over ~30 times the spread); and
  :math:`\epsilon` (machine epsilon relative to the feature energy) keeps a
  batch of identical samples finite: it gives 0, not NaN.
- Batch statistics that set the regularisation strength (:math:`\lambda`,
  :math:`\tau`, the ISTA step and threshold) are constants for the gradient,
  like the bandwidth of MMD.

**Regularisers** (``regulariser``; ``strength`` :math:`\alpha` is relative, so
no setting depends on the feature scale). Without one, a target could be
rebuilt trivially (with :math:`B_s - 1 \ge D` any target is in the source span).

- ``"ridge"`` (the first reading's): :math:`W = \arg\min \lVert T - WS \rVert_F^2 + \lambda \lVert W \rVert_F^2
  = T S^\top (S S^\top + \lambda I)^{-1}` with :math:`\lambda = \alpha\,\mathrm{tr}(S S^\top)/B_s`
  (:math:`\alpha` times the mean eigenvalue of the Gram matrix). Closed form
  (one Cholesky solve of a :math:`B_s \times B_s` system), and a
  linear-regression reading consistent with DIDAN's regression network: the
  network regresses spectra onto labels, IDA regresses the target batch onto
  the source batch. :math:`\lambda > 0` bounds the weights
  (:math:`\lVert W \rVert_F^2 \le \lVert T \rVert_F^2/\lambda`), so a target far
  outside the source span cannot be rebuilt cheaply by huge coefficients.
  What it does *not* rule out: it is span based. When the source batch
  spans the whole feature space (:math:`B_s - 1 \ge D`) every target is
  rebuilt up to the shrinkage and the loss becomes weak; so use an embedding
  wider than the batch (the trainer does), or ``"simplex"``.
- ``"simplex"``: non-negative weights that sum to one, in closed form as a
  softmax over negative squared distances (Nadaraya-Watson kernel regression,
  a soft convex-hull reading):
  :math:`w_{ji} = \mathrm{softmax}_i(-\lVert t_j - s_i \rVert^2 / \tau)`,
  :math:`\tau = \alpha \cdot \mathrm{median}` of the pooled batch's pairwise squared
  distances. The target must lie *near* source samples, whatever the batch
  size. As :math:`\tau \to 0` the residual is the squared distance to the
  nearest source sample; as :math:`\tau \to \infty` it is the squared distance
  to the source mean (the per-sample form of linear MMD).
- ``"sparse"``: :math:`W = \arg\min \tfrac12 \lVert T - WS \rVert_F^2 + \beta \lVert W \rVert_1`,
  :math:`\beta = \alpha \max_{ji} |(T S^\top)_{ji}|` (:math:`\alpha \ge 1` gives
  :math:`W = 0`), solved by ``ISTA_STEPS`` unrolled, differentiable ISTA
  iterations :math:`W \leftarrow \mathrm{soft}_{\beta/L}(W - (W S S^\top - T S^\top)/L)`
  with step :math:`1/L`, :math:`L = \lVert S S^\top \rVert_2`: each target is
  rebuilt from a few sources.

**Groups: label granularity.** ``groups`` maps class index -> group id. A
target is rebuilt only from source samples of its pseudo-label's group
(argmax of ``scores_t``). Targets whose group has no source sample in the
batch, and with ``min_confidence`` targets whose confidence falls below it,
are dropped from the batch (they move neither the residual nor the means,
spreads and scale). One group = marginal IDA, one group per class =
class-aware IDA (LIDAN's finest granularity). Computed for all groups at
once with block masks (a block-diagonal Gram matrix for ``ridge``).

**Safeguards of ``ida-class``** (wrong pseudo-labels steer the alignment wrongly), each a fixed option:

- *confidence*: a target is used when the **margin** between its top two scores,
  :math:`m_j = s_{j,(1)} - s_{j,(2)}`, reaches ``min_confidence`` (``ida-class``: 0.5);
- *class balance* (``balanced=True``): the reconstruction term is the mean over pseudo-classes of a
  per-class IDA term (:func:`~didan_lite.alignment.reconstruction.self_referenced_residual` in both
  directions); a class enters with at least ``min_group_size`` (2) confident targets and 2 source samples
  in the batch; the spread term stays on the whole batches; a batch in which no class qualifies gives the
  spread term alone;
- *warm-up* (``class_after``): the pseudo-labels are used from training progress ``class_after`` on
  (:meth:`IDALoss.set_progress`; ``ida-class``: 0.5), marginal IDA before.

Why these thresholds: ``docs/decisions/ida-reading.md``.

:attr:`IDALoss.last_usage` tells how many targets the class term used (beside ``last_parts``, which sum
to the total and so carry no counts).

**Layer-adapted IDA** (our reading of LIDAN) puts one such term on each FC
layer, with the label granularity growing with depth: :mod:`didan_lite.alignment.lida`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from didan_lite.alignment.base import DEFAULT_LAYER, AlignmentLoss, check_progress
from didan_lite.alignment.reconstruction import (
    DEFAULT_STRENGTH,
    REGULARISERS,
    SPREAD_FLOOR,
    check_regulariser,
    group_masks,
    reconstruction_coefficients,
    reconstruction_residual,
    self_referenced_residual,
)
from didan_lite.errors import InputError

__all__ = [
    "DEFAULT_DIVERSITY",
    "DEFAULT_STRENGTH",
    "REFERENCES",
    "REGULARISERS",
    "SPREAD_FLOOR",
    "IDALoss",
    "reconstruction_coefficients",
    "reconstruction_residual",
    "self_referenced_residual",
    "spectral_spread",
]

REFERENCES: tuple[str, ...] = ("self", "spread")
"""What the cross-domain residual is divided by: the leave-one-out self-reconstruction residual (``"self"``) or
the within-domain spread (the first reading, which a collapse of the features can satisfy)."""
DEFAULT_DIVERSITY = 0.5
"""Weight of the spectral-spread term in the default IDA (see the module docstring: why a spread term)."""


def spectral_spread(features: Tensor) -> Tensor:
    r"""Log of the nuclear-to-Frobenius norm ratio of a centred batch: 0 when it lies on one line, up to :math:`\tfrac12\log\min(B-1, D)`.

    Scale invariant; raising it spreads the batch over more directions (batch nuclear-norm maximisation,
    Cui et al., CVPR 2020). A single sample or a constant batch gives 0. Its ceiling grows with the batch
    size (:math:`\tfrac12\log 7 \approx 0.97` for fast mode's 8 samples per corpus, 1.72 for 32), so the
    same ``diversity`` weighs a little less in small batches. Shape: features (B, D) -> scalar.
    """
    centred = features - features.mean(0)
    energy = centred.pow(2).sum()
    if features.shape[0] < 2 or energy <= torch.finfo(centred.dtype).eps ** 2 * features.pow(2).sum():
        return 0.0 * features.sum()  # a single sample or a constant batch: no direction at all, zero gradient
    singular = torch.linalg.svdvals(centred)
    return torch.log(singular.sum()) - 0.5 * torch.log(singular.pow(2).sum())


class IDALoss(AlignmentLoss):
    r"""Implicit distribution alignment: how much worse the other corpus rebuilds a batch than its own corpus does.

    See the module docstring for the reading, the math and the regularisers. Default:

    .. math::
        \ell_{\text{IDA}} = \tfrac12\big(\ell(S \to T) + \ell(T \to S)\big)
            - \gamma \cdot \tfrac12\big(\sigma(S) + \sigma(T)\big)

    Args:
        regulariser: ``"simplex"`` (default), ``"ridge"`` or ``"sparse"``.
        strength: relative regularisation strength (``None``: the regulariser's default).
        symmetric: also rebuild the source from the target and average the two residuals.
        reference: ``"self"`` (default: divide by the own-corpus reconstruction residual) or ``"spread"``.
        diversity: weight of the spectral-spread term subtracted from the loss (0: none).
        reconstruction: False keeps the spread term alone (the ablation ``ida-spread``).
        floor: each direction's term is clipped from below at this value (no gradient under it); ``0.0`` with
            the ``"self"`` reference: no reward for being rebuilt better by the other corpus than by one's own.
            None: no floor.
        groups: group id per class index (None: marginal IDA; ``range(C)``:
            class-aware IDA). Needs ``y_s`` and ``scores_t`` in :meth:`forward`.
        min_confidence: with groups, use only targets whose confidence (the margin between their top two
            scores, see the module docstring) reaches this value. None: all targets.
        balanced: with groups, the reconstruction term is the mean of one IDA term per group, so every
            group counts the same whatever its count in the batch (False: one term over all used targets).
        min_group_size: with ``balanced``, a group enters only with at least this many used targets and
            this many source samples in the batch (at least 2: the leave-one-out self reference).
        class_after: with groups, training progress (fraction, :meth:`set_progress`) from which the
            pseudo-labels are used; before it the loss is marginal IDA. 0: from the start.
        layer: index into ``fc_outputs`` that :meth:`from_layers` aligns.

    Attributes:
        last_coefficients: the last target-from-source coefficient matrix
            (B_t, B_s), detached, for plots (zero rows for targets left out).
        last_usage: with groups, what the last batch's class term used: ``"class_term"`` (tensor, 1 once
            the pseudo-labels are used, 0 during the warm-up), ``"targets_used"`` (tensor, share of the
            target batch in the term), ``"groups_used"`` (int, groups in it) and ``"confident_counts"``
            ((C,) tensor: confident targets per pseudo-class). Empty for marginal IDA.

    Shape:
        - f_s: (B_s, D), f_t: (B_t, D), y_s: (B_s,) long, scores_t: (B_t, C)
        - Output: scalar

    Examples::

        >>> import torch
        >>> loss = IDALoss(regulariser="ridge", strength=0.1)
        >>> f_s, f_t = torch.randn(8, 64), torch.randn(12, 64)
        >>> loss(f_s, f_t).shape, loss.last_coefficients.shape
        (torch.Size([]), torch.Size([12, 8]))
        >>> class_aware = IDALoss(groups=range(3))
        >>> class_aware(f_s, f_t, y_s=torch.randint(0, 3, (8,)), scores_t=torch.rand(12, 3)).shape
        torch.Size([])
        >>> safeguarded = IDALoss(groups=range(3), min_confidence=0.5, balanced=True, class_after=0.5)
        >>> safeguarded.set_progress(0.6)
        >>> scores = torch.eye(3)[torch.arange(12) % 3]          # confident targets, four per class
        >>> _ = safeguarded(f_s, f_t, y_s=torch.arange(8) % 3, scores_t=scores)
        >>> float(safeguarded.last_usage["targets_used"]), int(safeguarded.last_usage["groups_used"])
        (1.0, 3)
    """

    def __init__(
        self,
        regulariser: str = "simplex",
        strength: float | None = None,
        *,
        symmetric: bool = True,
        reference: str = "self",
        groups: Sequence[int] | None = None,
        min_confidence: float | None = None,
        balanced: bool = False,
        min_group_size: int = 2,
        class_after: float = 0.0,
        diversity: float = DEFAULT_DIVERSITY,
        reconstruction: bool = True,
        floor: float | None = None,
        layer: int = DEFAULT_LAYER,
    ) -> None:
        super().__init__(layer)
        if floor is not None and not abs(float(floor)) < float("inf"):
            raise InputError(f"IDA floor must be a finite number or None; got {floor}.")
        self.floor = None if floor is None else float(floor)
        self.reconstruction = bool(reconstruction)
        if not self.reconstruction and not diversity:
            raise InputError("IDA without its reconstruction term needs a spread term (diversity > 0).")
        if not diversity >= 0 or diversity == float("inf"):
            raise InputError(f"IDA diversity must be a finite number >= 0; got {diversity}.")
        self.diversity = float(diversity)
        self.strength = check_regulariser(regulariser, strength)
        if reference not in REFERENCES:
            raise InputError(f"Unknown IDA reference {reference!r}; choose one of {', '.join(REFERENCES)}.")
        self.regulariser = regulariser
        self.reference = reference
        self.symmetric = bool(symmetric)
        self.min_confidence = None if min_confidence is None else float(min_confidence)
        if not int(min_group_size) == min_group_size >= 2:
            raise InputError(
                f"IDA min_group_size must be an integer >= 2 (the leave-one-out self reference); got {min_group_size}."
            )
        self.balanced, self.min_group_size = bool(balanced), int(min_group_size)
        self.class_after, self.progress = check_progress(class_after), 0.0
        self.last_usage: dict[str, Tensor | int] = {}
        group_of_class = None
        if groups is not None:
            group_of_class = torch.as_tensor(list(groups), dtype=torch.long)
            if group_of_class.ndim != 1 or len(group_of_class) == 0 or bool((group_of_class < 0).any()):
                raise InputError(f"IDA groups must list one non-negative group id per class; got {list(groups)}.")
        self.register_buffer("group_of_class", group_of_class, persistent=False)
        self.last_coefficients: Tensor | None = None

    def extra_repr(self) -> str:
        return (
            f"regulariser={self.regulariser!r}, strength={self.strength}, symmetric={self.symmetric}, "
            f"reference={self.reference!r}, diversity={self.diversity}, layer={self.layer}"
            + ("" if self.reconstruction else ", reconstruction=False")
            + ("" if self.floor is None else f", floor={self.floor}")
            + ("" if self.group_of_class is None else
               f", min_confidence={self.min_confidence}, balanced={self.balanced}, "
               f"min_group_size={self.min_group_size}, class_after={self.class_after}")
        )

    def set_progress(self, progress: float) -> None:
        """Record how far training has gone: the pseudo-labels are used from ``class_after`` on."""
        self.progress = check_progress(progress)

    def _sample_groups(
        self, y_s: Tensor | None, scores_t: Tensor | None, n_source: int, n_target: int
    ) -> tuple[Tensor | None, Tensor | None]:
        """Group id per source sample (from labels) and per target sample (from pseudo-labels; -1 = left out)."""
        if self.group_of_class is None:
            return None, None
        n_classes = len(self.group_of_class)
        if y_s is None or scores_t is None:
            raise InputError("Class-aware IDA needs the source labels y_s and the target scores scores_t.")
        if y_s.shape != (n_source,) or scores_t.shape != (n_target, n_classes):
            raise InputError(
                f"Class-aware IDA expects y_s of shape ({n_source},) and scores_t of shape ({n_target}, {n_classes}); "
                f"got {tuple(y_s.shape)} and {tuple(scores_t.shape)}."
            )
        if y_s.dtype.is_floating_point or bool((y_s < 0).any() | (y_s >= n_classes).any()):
            raise InputError(f"Source labels y_s must be class indices in [0, {n_classes - 1}].")
        scores = scores_t.detach()
        predicted = scores.argmax(1)
        target_groups = self.group_of_class[predicted]
        confident = torch.ones_like(predicted, dtype=torch.bool)
        if self.min_confidence is not None and n_classes > 1:
            top_two = scores.topk(2, dim=1).values
            confident = top_two[:, 0] - top_two[:, 1] >= self.min_confidence
            target_groups = target_groups.masked_fill(~confident, -1)
        self.last_usage = {"confident_counts": torch.bincount(predicted[confident], minlength=n_classes)}
        return self.group_of_class[y_s], target_groups

    def _one_direction(
        self, basis: Tensor, target: Tensor, basis_groups: Tensor | None, target_groups: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """Residual of rebuilding ``target`` from ``basis`` (clipped at the floor), and the coefficients used."""
        if self.reference != "spread":
            residual, coefficients = self_referenced_residual(
                basis, target, self.regulariser, self.strength, basis_groups=basis_groups, rebuilt_groups=target_groups
            )
            return self._floored(residual), coefficients
        coefficients = reconstruction_coefficients(
            basis, target, self.regulariser, self.strength, source_groups=basis_groups, target_groups=target_groups
        )
        kept = None
        if basis_groups is not None:
            allowed, _ = group_masks(basis_groups, target_groups, basis.shape[0], target.shape[0], basis.device)
            kept = allowed.any(1)
        return self._floored(reconstruction_residual(basis, target, coefficients, target_kept=kept)), coefficients

    def _floored(self, residual: Tensor) -> Tensor:
        return residual if self.floor is None else residual.clamp(min=self.floor)

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        if not self.reconstruction:
            return self._with_spread(0.0 * (f_s.sum() + f_t.sum()), f_s, f_t)
        source_groups, target_groups = self._sample_groups(y_s, scores_t, f_s.shape[0], f_t.shape[0])
        if target_groups is not None:
            warming_up = self.progress < self.class_after
            self.last_usage["class_term"] = torch.tensor(float(not warming_up))
            if warming_up:  # the warm-up: marginal IDA until the network has learned the source task
                source_groups = target_groups = None
                self.last_usage.update(targets_used=torch.tensor(0.0), groups_used=0)
            elif self.balanced:
                return self._balanced(f_s, f_t, source_groups, target_groups)
        if target_groups is None:
            loss, coefficients = self._one_direction(f_s, f_t, None, None)
            self.last_coefficients = coefficients.detach()
        else:
            # Targets that cannot be used (no source of their group, or unconfident) leave the batch
            # altogether, so they do not move the means, spreads or scale either.
            usable = (target_groups[:, None] == source_groups[None, :]).any(1)
            self.last_coefficients = torch.zeros(len(usable), len(f_s), device=f_s.device)
            used_groups = target_groups[usable].unique().numel()
            self.last_usage.update(targets_used=usable.float().mean(), groups_used=used_groups)
            if int(usable.sum()) < (1 if self.reference == "spread" else 2):
                # Nothing to align: zero, with zero gradients (the spread term is skipped too, so such a
                # batch contributes 0 instead of about -diversity * 0.9 in the class-aware variants).
                self.last_parts = {}
                return 0.0 * f_s.sum()
            f_t, target_groups = f_t[usable], target_groups[usable]
            loss, coefficients = self._one_direction(f_s, f_t, source_groups, target_groups)
            self.last_coefficients = self.last_coefficients.to(coefficients.dtype).index_put(
                (usable,), coefficients.detach()
            )
        if self.symmetric:
            loss = 0.5 * (loss + self._one_direction(f_t, f_s, target_groups, source_groups)[0])
        return self._with_spread(loss, f_s, f_t)

    def _with_spread(self, reconstruction: Tensor, f_s: Tensor, f_t: Tensor) -> Tensor:
        """The total: the reconstruction term minus the weighted spread term; records both in ``last_parts``."""
        spread = self._spread(f_s, f_t)
        # Each part as it enters the total: they sum to it.
        self.last_parts = {"reconstruction": reconstruction.detach()}
        if self.diversity:
            self.last_parts["spread"] = (-self.diversity * spread).detach()
        return reconstruction - self.diversity * spread

    def _balanced(self, f_s: Tensor, f_t: Tensor, source_groups: Tensor, target_groups: Tensor) -> Tensor:
        """Mean over the qualifying groups of a marginal IDA term within each group, minus the spread term."""
        ids = torch.unique(target_groups[target_groups >= 0])
        counts = torch.stack([(groups[None, :] == ids[:, None]).sum(1) for groups in (source_groups, target_groups)])
        # Host synchronisations: one here, one per used group (nonzero); at most C of them per batch.
        used = ids[counts.min(0).values >= self.min_group_size].tolist()
        dtype = torch.promote_types(f_s.dtype, torch.float32)
        coefficients = torch.zeros(len(f_t), len(f_s), dtype=dtype, device=f_s.device)
        terms = []
        for group in used:
            rows, cols = (target_groups == group).nonzero()[:, 0], (source_groups == group).nonzero()[:, 0]
            term, block = self._one_direction(f_s[cols], f_t[rows], None, None)
            if self.symmetric:
                term = 0.5 * (term + self._one_direction(f_t[rows], f_s[cols], None, None)[0])
            terms.append(term)
            coefficients[rows[:, None], cols[None, :]] = block.detach().to(coefficients.dtype)
        self.last_coefficients = coefficients
        in_term = torch.isin(target_groups, torch.tensor(used, dtype=target_groups.dtype, device=target_groups.device))
        self.last_usage.update(targets_used=in_term.float().mean(), groups_used=len(used))
        # No group qualifies: no reconstruction term (0, zero gradient), the spread term still guards the batch.
        return self._with_spread(torch.stack(terms).mean() if terms else 0.0 * (f_s.sum() + f_t.sum()), f_s, f_t)

    def _spread(self, f_s: Tensor, f_t: Tensor) -> Tensor | float:
        """The mean spectral spread of the two batches (0 when the spread term is off)."""
        if not self.diversity:
            return 0.0
        return 0.5 * (spectral_spread(f_s) + spectral_spread(f_t))
