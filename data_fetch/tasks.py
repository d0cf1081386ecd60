"""Cross-corpus tasks: train on a source corpus, test on a target corpus, on the emotions both have.

The six tasks of the seed paper's protocol are presets (:data:`TASKS`), named
with its letters B (EmoDB), E (eNTERFACE'05), C (CASIA): ``B-E``, ``E-B``,
``B-C``, ``C-B``, ``E-C``, ``C-E``. Any other pair of known corpora works too
(``ravdess->tess``); its classes are the emotions both corpora have, found by
:func:`didan_lite.manifest.shared_emotions`.

Example::

    >>> get_task("B->C").emotions
    ('anger', 'fear', 'happiness', 'neutral', 'sadness')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from didan_lite.errors import InputError
from didan_lite.manifest import shared_emotions

from data_fetch.corpora import CorpusSpec, get_corpus


@dataclass(frozen=True)
class Task:
    """A cross-corpus task: ``source`` and ``target`` are corpus keys, ``emotions`` the classes."""

    name: str
    source: str
    target: str
    emotions: tuple[str, ...]


_B_E = ("anger", "disgust", "fear", "happiness", "sadness")
_B_C = ("anger", "fear", "happiness", "neutral", "sadness")
_E_C = ("anger", "fear", "happiness", "sadness", "surprise")
TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("B-E", "emodb", "enterface", _B_E),
        Task("E-B", "enterface", "emodb", _B_E),
        Task("B-C", "emodb", "casia", _B_C),
        Task("C-B", "casia", "emodb", _B_C),
        Task("E-C", "enterface", "casia", _E_C),
        Task("C-E", "casia", "enterface", _E_C),
    )
}
FREE_TASK = "emodb->ravdess"
"""The real task anyone can download: EmoDB (German actors, 535 utterances) -> RAVDESS speech (English, 1,440)."""
_SEPARATOR = re.compile(r"\s*(?:->|→|-)\s*")


def _label(spec: CorpusSpec) -> str:
    return spec.short or spec.key


def common_emotions(source: CorpusSpec, target: CorpusSpec) -> tuple[str, ...]:
    """Emotions both corpora have, in canonical order.

    Raises:
        InputError: fewer than two (no classification task).
    """
    frames = [pd.DataFrame({"emotion": list(spec.emotions), "corpus": spec.key}) for spec in (source, target)]
    return tuple(shared_emotions(*frames))


def get_task(name: str) -> Task:
    """The task ``name``: ``"B-C"``, ``"B->C"``, ``"emodb->casia"``, ``"ravdess-tess"`` ... (any case).

    Raises:
        InputError: not two known corpora, the same corpus twice, or fewer than two shared emotions.
    """
    parts = [part for part in _SEPARATOR.split(name.strip()) if part]
    if len(parts) != 2:
        raise InputError(
            f"Task {name!r} is not SOURCE-TARGET. Presets: {', '.join(TASKS)}; "
            "or any two corpus names, e.g. 'ravdess->tess' (see `python -m data_fetch list`)."
        )
    source, target = (get_corpus(part) for part in parts)
    if source.key == target.key:
        raise InputError(
            f"Task {name!r} uses {source.key} as both source and target; a cross-corpus task needs two corpora."
        )
    preset = TASKS.get(f"{_label(source)}-{_label(target)}")
    if preset is not None:
        return preset
    return Task(f"{_label(source)}-{_label(target)}", source.key, target.key, common_emotions(source, target))
