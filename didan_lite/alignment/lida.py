r"""Layer-adapted IDA: our reading of LIDAN, one IDA term per fully connected layer.

Notebook: notebooks/04_ida.ipynb (method ``"ida-layer"``).

LIDAN (Zhao et al., IEEE TCSS 2024) replaces DIDAN's single IDA term by three
modified terms "that use emotion labels at different levels of granularity,
placed in different fully connected layers, matching the growing
emotion-discriminative power with layer depth" (its abstract; the full text
was not available). Our reading: each aligned FC layer gets an
:class:`~didan_lite.alignment.ida.IDALoss` whose reconstruction is restricted
to *groups* of classes (a target, by its pseudo-label, is rebuilt only from
sources of its group), coarse to fine with depth:

- first layer: one group (marginal IDA);
- middle layers: arousal groups (:data:`AROUSAL`: high-arousal anger, fear,
  happiness, ... against low-arousal neutral, sadness, ...);
- last layer: one group per emotion class (class-aware IDA).

The arousal split is ours: it is the usual coarse grouping of emotions in
speech, where arousal is the dimension acoustics carries best.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from didan_lite.alignment.base import AlignmentLoss
from didan_lite.alignment.ida import DEFAULT_DIVERSITY, IDALoss
from didan_lite.errors import InputError

__all__ = ["AROUSAL", "GRANULARITIES", "LayerAdaptedIDALoss", "granularity_by_depth", "label_groups"]

AROUSAL: dict[str, str] = {
    "anger": "high",
    "disgust": "high",
    "fear": "high",
    "happiness": "high",
    "surprise": "high",
    "boredom": "low",
    "calm": "low",
    "neutral": "low",
    "sadness": "low",
}
"""Arousal level of each canonical emotion: the middle granularity of layer-adapted IDA."""
GRANULARITIES: tuple[str, ...] = ("marginal", "arousal", "class")


def label_groups(class_names: Sequence[str], granularity: str) -> tuple[int, ...] | None:
    """Group id per class for a label granularity: ``"marginal"`` (None: one group), ``"arousal"`` or ``"class"``.

    Arousal groups follow ``AROUSAL``; if all classes share one arousal level,
    the classes themselves are the groups.

    Examples::

        >>> label_groups(["anger", "fear", "neutral", "sadness"], "arousal")
        (0, 0, 1, 1)
    """
    if granularity not in GRANULARITIES:
        raise InputError(f"Unknown label granularity {granularity!r}; choose one of {', '.join(GRANULARITIES)}.")
    if granularity == "marginal":
        return None
    classes = tuple(range(len(class_names)))
    if granularity == "class":
        return classes
    unknown = [name for name in class_names if name not in AROUSAL]
    if unknown:
        raise InputError(
            f"No arousal level known for {unknown}; arousal groups need canonical emotions ({', '.join(AROUSAL)})."
        )
    levels = sorted({AROUSAL[name] for name in class_names})
    if len(levels) == 1:
        return classes
    return tuple(levels.index(AROUSAL[name]) for name in class_names)


def granularity_by_depth(n_layers: int) -> tuple[str, ...]:
    """Label granularity for each of ``n_layers`` aligned layers, coarse to fine with depth.

    First layer marginal, last layer classes, arousal in between (a single
    layer gets classes).

    Examples::

        >>> granularity_by_depth(3)
        ('marginal', 'arousal', 'class')
        >>> granularity_by_depth(2)
        ('marginal', 'class')
    """
    if n_layers == 1:
        return ("class",)
    finest = len(GRANULARITIES) - 1
    return tuple(GRANULARITIES[int(finest * k / (n_layers - 1) + 0.5)] for k in range(n_layers))


class LayerAdaptedIDALoss(AlignmentLoss):
    r"""Layer-adapted IDA (our reading of LIDAN): IDA on several FC layers, label granularity growing with depth.

    .. math::
        \ell_{\text{LIDA}} = \frac{1}{|\mathcal L|} \sum_{l \in \mathcal L} \ell_{\text{IDA}}^{(g_l)}(S_l, T_l)

    with :math:`g_l` the granularity of layer :math:`l` (:func:`granularity_by_depth`):
    marginal on the first, arousal groups in between (:func:`label_groups`),
    emotion classes on the last. It works on the list of FC outputs: call
    :meth:`from_layers`, not the module itself.

    Args:
        class_names: emotion of each class index (canonical names).
        n_layers: number of FC outputs of the model.
        layers: indices of the aligned FC outputs, shallow to deep (default: all).
        regulariser, strength, symmetric, reference, diversity, min_confidence: as in :class:`IDALoss`,
            shared by all terms.

    Attributes:
        terms: one :class:`IDALoss` per aligned layer (each keeps its own
            ``layer``, ``group_of_class`` and ``last_coefficients``).

    Shape:
        - fc_s: list of (B_s, D_l), fc_t: list of (B_t, D_l), y_s: (B_s,), scores_t: (B_t, C)
        - Output: scalar

    Examples::

        >>> import torch
        >>> names = ["anger", "fear", "happiness", "neutral", "sadness"]
        >>> loss = LayerAdaptedIDALoss(names, n_layers=3)
        >>> [term.group_of_class for term in loss.terms][1]
        tensor([0, 0, 0, 1, 1])
        >>> fc_s = [torch.randn(8, 64), torch.randn(8, 32), torch.randn(8, 5)]
        >>> fc_t = [torch.randn(6, 64), torch.randn(6, 32), torch.randn(6, 5)]
        >>> loss.from_layers(fc_s, fc_t, y_s=torch.randint(0, 5, (8,)), scores_t=fc_t[-1]).shape
        torch.Size([])
    """

    def __init__(
        self,
        class_names: Sequence[str],
        n_layers: int,
        *,
        layers: Sequence[int] | None = None,
        regulariser: str = "simplex",
        strength: float | None = None,
        symmetric: bool = True,
        reference: str = "self",
        diversity: float = DEFAULT_DIVERSITY,
        min_confidence: float | None = None,
    ) -> None:
        super().__init__(layer=None)
        layers = tuple(range(n_layers)) if layers is None else tuple(int(index) for index in layers)
        if not layers or any(not -n_layers <= index < n_layers for index in layers):
            raise InputError(
                f"Layer-adapted IDA layers {list(layers)} must be a non-empty list of indices into the "
                f"{n_layers} FC outputs."
            )
        self.layers = layers
        self.granularities = granularity_by_depth(len(layers))
        self.terms = nn.ModuleList(
            IDALoss(
                regulariser,
                strength,
                symmetric=symmetric,
                reference=reference,
                diversity=diversity,
                groups=label_groups(class_names, granularity),
                min_confidence=min_confidence,
                layer=index,
            )
            for index, granularity in zip(layers, self.granularities)
        )

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        raise InputError(
            "Layer-adapted IDA aligns several layers: call loss.from_layers(fc_s, fc_t, y_s=..., scores_t=...)."
        )

    def from_layers(self, fc_s: Sequence[Tensor], fc_t: Sequence[Tensor], **context) -> Tensor:
        """Mean of the per-layer IDA terms; ``context`` (``y_s``, ``scores_t``) goes to every term."""
        return torch.stack([term.from_layers(fc_s, fc_t, **context) for term in self.terms]).mean()
