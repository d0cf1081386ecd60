"""didan-lite: cross-corpus speech emotion recognition with implicit distribution alignment.

The package is organised one module per concept, data flowing one way::

    manifest -> features -> (synthetic writes manifests) -> model -> alignment
             -> training -> config -> metrics -> plots -> results -> report -> experiment -> cli

Notebooks: notebooks/README.md lists the teaching sequence. They import from
here, in one line, the names they use (the flat API, as libfmp does)::

    from didan_lite import compare, preset, DIDAN, IDALoss, MMDLoss, fast_mode, set_style, verdict_lines

Names are loaded on first use (PEP 562), so ``import didan_lite`` stays quick:
torch, matplotlib and UMAP are imported only by the names that need them.
The teaching helpers (toy, exercises, listening, pretrained) live in ``didan_lite.teaching``;
their old module names (``from didan_lite.pretrained import ...``) still import the same modules.
The data a notebook runs on comes from ``data_fetch.notebook_data.task_manifests``
(``data_fetch`` builds on this package, so it is not re-exported here).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

__version__ = "0.1.0"

_EXERCISES = [f"check_exercise_{n}" for n in ("1_1", "1_2", "1_3", "2_1", "2_2", "2_3", "3_1", "3_2", "3_3", "4_1", "4_2", "4_3", "5_1", "5_2", "6_1", "7_1")]
_NAMES: dict[str, list[str]] = {
    "didan_lite.alignment": [
        "ALIGNMENT_METHODS", "CORALLoss", "DANNLoss", "IDALoss", "LayerAdaptedIDALoss", "LinearMMDLoss", "MMDLoss",
        "make_alignment", "reconstruction_coefficients",
    ],
    "didan_lite.errors": ["InputError"],
    "didan_lite.teaching.exercises": _EXERCISES,
    "didan_lite.experiment": ["compare", "results_markdown", "run_method"],
    "didan_lite.features": ["FeatureConfig", "SpecMasks", "load_audio", "spec_mask", "spectrogram"],
    "didan_lite.teaching.listening": ["audio_player", "audio_table"],
    "didan_lite.metrics": [
        "class_alignment", "confusion", "effective_rank", "proxy_a_distance", "unweighted_average_recall",
        "weighted_average_recall",
    ],
    "didan_lite.model": ["DIDAN", "ModelConfig"],
    "didan_lite.plots": [
        "METHOD_COLOURS", "alignment_caption", "corpus_colours", "domain_legends", "method_colour", "plot_coefficients",
        "plot_confusion", "plot_domains_2d", "plot_spectrogram", "plot_training_curves", "set_style", "umap_projection",
    ],
    "didan_lite.presets": ["FAST", "FULL", "preset"],
    "didan_lite.teaching.pretrained": ["PretrainedFeatures", "available_pretrained", "load_pretrained", "pretrained_features"],
    "didan_lite.reference": ["ReferenceResult", "available_references", "load_reference"],
    "didan_lite.config": ["ExperimentConfig"],
    "didan_lite.results": ["Comparison", "RunResult", "TaskData"],
    "didan_lite.runtime": ["fast_mode", "pick_device", "seed_everything"],
    "didan_lite.task": ["load_task"],
    "didan_lite.teaching.toy": ["make_toy_clouds", "plot_ida_vs_mmd", "toy_losses", "toy_widget"],
    "didan_lite.training": ["TrainConfig", "predict", "train_didan"],
    "didan_lite.verdicts": ["PairedVerdict", "leader", "learned", "paired_verdict", "verdict_lines"],
}
_MODULE_OF: dict[str, str] = {name: module for module, names in _NAMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access (``from didan_lite import compare``)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'didan_lite' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


_MOVED = {f"didan_lite.{name}": f"didan_lite.teaching.{name}" for name in ("exercises", "listening", "pretrained", "toy")}
"""Old module names of the teaching helpers, which the notebooks and their readers' code still import."""


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old name of :data:`_MOVED` as the moved module itself: one module object under both names."""

    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in _MOVED else None

    def create_module(self, spec):
        module = importlib.import_module(_MOVED[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module) -> None:
        module.__spec__ = module.__spec__.loader_state  # importlib gave it the old name's spec: keep its own


sys.meta_path.append(_MovedModules())
