"""Alignment losses: implicit (IDA and its variants) and explicit (MMD, CORAL) or adversarial (DANN).

Notebooks: notebooks/03_mmd.ipynb teaches MMD, notebooks/04_ida.ipynb teaches IDA.

Every loss is an :class:`AlignmentLoss`, ``loss(f_s, f_t) -> scalar``, one file
per method, with the shared pieces beside them (``kernels``,
``gradient_reversal``). :func:`make_alignment` builds one by name for the
trainer::

    loss = make_alignment("ida", feature_dims=(256, 128, 5), class_names=names, regulariser="simplex")
    term = loss.from_layers(fc_s, fc_t, y_s=y_s, scores_t=scores_t)
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from didan_lite.alignment.base import DEFAULT_LAYER, AlignmentLoss
from didan_lite.alignment.coral import CORALLoss
from didan_lite.alignment.dann import DANNLoss
from didan_lite.alignment.ida import IDALoss, reconstruction_coefficients
from didan_lite.alignment.lida import LayerAdaptedIDALoss, label_groups
from didan_lite.alignment.mmd import LinearMMDLoss, MMDLoss
from didan_lite.errors import InputError

__all__ = [
    "ALIGNMENT_METHODS",
    "AlignmentLoss",
    "CORALLoss",
    "DANNLoss",
    "IDALoss",
    "LayerAdaptedIDALoss",
    "LinearMMDLoss",
    "MMDLoss",
    "make_alignment",
    "reconstruction_coefficients",
]

Context = Callable[[Sequence[int], Sequence[str], Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class _Method:
    """A constructor and the arguments the method sets itself from the model (the rest are user options)."""

    constructor: type[AlignmentLoss]
    context: Context = lambda dims, names, options: {}
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Constructor arguments the method sets but a user option may override."""


def _dann_context(dims: Sequence[int], names: Sequence[str], options: Mapping[str, Any]) -> dict[str, Any]:
    return {"feature_dim": dims[options.get("layer", DEFAULT_LAYER)]}


_FIRST_READING = {"regulariser": "ridge", "reference": "spread", "symmetric": False, "diversity": 0.0}
"""The package's first IDA reading (ridge, one way, divided by the spread): kept to show how a collapse satisfies it.
Both ways: method ``"ida-ridge"`` with the option ``symmetric=True``."""

_SAFEGUARDS = {"min_confidence": 0.5, "balanced": True, "class_after": 0.5}
"""ida-class's pseudo-label safeguards (confidence margin, class balance, warm-up), each chosen a priori: the reasons
are in docs/decisions/ida-reading.md."""

_METHODS: dict[str, _Method | None] = {
    "source-only": None,
    "adabn": None,  # no loss: BatchNorm statistics re-estimated per domain (didan_lite.experiment.BATCH_NORM_METHODS)
    "ida": _Method(IDALoss),
    "ida-reconstruction": _Method(IDALoss, defaults={"diversity": 0.0}),  # IDA's parts, one at a time
    "ida-spread": _Method(IDALoss, defaults={"reconstruction": False}),
    "ida-oneway": _Method(IDALoss, defaults={"symmetric": False}),  # the target rebuilt from the source only
    "ida-oneway-floored": _Method(IDALoss, defaults={"symmetric": False, "floor": 0.0}),  # ... its term clipped at 0
    "ida-ridge": _Method(IDALoss, defaults=_FIRST_READING),
    "ida-class": _Method(IDALoss, lambda dims, names, options: {"groups": label_groups(names, "class")}, _SAFEGUARDS),
    "ida-layer": _Method(
        LayerAdaptedIDALoss, lambda dims, names, options: {"class_names": names, "n_layers": len(dims)}
    ),
    "mmd": _Method(MMDLoss),
    "mmd-linear": _Method(LinearMMDLoss),
    "coral": _Method(CORALLoss),
    "dann": _Method(DANNLoss, _dann_context),
}
ALIGNMENT_METHODS: tuple[str, ...] = tuple(_METHODS)


def make_alignment(
    method: str, *, feature_dims: Sequence[int], class_names: Sequence[str], **options: Any
) -> AlignmentLoss | None:
    """Build the alignment loss called ``method``; ``None`` for ``"source-only"`` and ``"adabn"`` (no loss term).

    Args:
        method: one of ``ALIGNMENT_METHODS``.
        feature_dims: widths of the model's FC outputs, in order (the last is
            the number of classes); DANN and layer-adapted IDA need them.
        class_names: emotion of each class index.
        **options: passed to the loss's constructor (e.g. ``regulariser="simplex"``,
            ``strength=0.1``, ``layer=-2``).

    Raises:
        InputError: unknown method, unknown option for that method, a layer
            outside ``feature_dims``, or a bad option value.

    Examples::

        >>> names = ["anger", "fear", "happiness", "neutral", "sadness"]
        >>> loss = make_alignment("ida", feature_dims=(64, 5), class_names=names, regulariser="simplex")
        >>> loss.regulariser, loss.layer
        ('simplex', -2)
        >>> make_alignment("dann", feature_dims=(64, 5), class_names=names).feature_dim
        64
    """
    if method not in _METHODS:
        raise InputError(f"Unknown alignment method {method!r}; choose one of {', '.join(ALIGNMENT_METHODS)}.")
    entry = _METHODS[method]
    if entry is None:
        return None
    feature_dims = tuple(int(width) for width in feature_dims)
    if not feature_dims or min(feature_dims) < 1:
        raise InputError(f"feature_dims must list the positive widths of the FC outputs; got {feature_dims}.")
    if feature_dims[-1] != len(class_names):
        raise InputError(
            f"The last FC output (the scores) has width {feature_dims[-1]} but there are {len(class_names)} "
            f"class names {list(class_names)}: pass the model's widths and its class names."
        )
    parameters = inspect.signature(entry.constructor).parameters
    layer = options.get("layer", DEFAULT_LAYER)
    if "layer" in parameters and not -len(feature_dims) <= layer < len(feature_dims):
        raise InputError(
            f"Alignment layer {layer} does not exist: the model has {len(feature_dims)} FC outputs {feature_dims}."
        )
    context = entry.context(feature_dims, class_names, options)
    accepted = [name for name in parameters if name not in context]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise InputError(
            f"Unknown option(s) {', '.join(unknown)} for alignment method {method!r}; "
            f"it accepts: {', '.join(accepted) or 'none'}."
        )
    return entry.constructor(**context, **{**entry.defaults, **options})
