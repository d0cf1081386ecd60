"""The task: two manifests turned into normalised spectrogram tensors, and the source speakers split for selection.

Notebook: notebooks/02_cross_corpus_problem.ipynb builds one.

:func:`load_task` reads a source and a target manifest, keeps the emotions they share, extracts spectrograms
through the a-priori front end (:mod:`didan_lite.normalisation`) and holds out a fifth of the *source
speakers* (:func:`speaker_split`); :func:`source_folds` splits all source speakers into the folds the
alignment weight is chosen on. Target labels are carried for evaluation only.
"""

from __future__ import annotations

import os
from typing import Literal, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupKFold, GroupShuffleSplit, StratifiedKFold, StratifiedShuffleSplit

from didan_lite.errors import InputError
from didan_lite.features import extract_corpus
from didan_lite.manifest import emotion_indices, read_manifest, restrict_emotions, shared_emotions
from didan_lite.normalisation import normalised_tensors
from didan_lite.config import ExperimentConfig
from didan_lite.results import TaskData
from didan_lite.training import DomainData
from didan_lite.validation import check_class_list, check_classes_present

__all__ = ["Split", "load_task", "source_folds", "speaker_split"]


def load_task(
    source_manifest: str | os.PathLike | pd.DataFrame,
    target_manifest: str | os.PathLike | pd.DataFrame,
    *,
    emotions: Sequence[str] | None = None,
    config: ExperimentConfig = ExperimentConfig(),
    progress: bool = True,
    absent_in_target: Sequence[str] = (),
) -> TaskData:
    """Read two manifests and turn them into normalised spectrogram tensors.

    ``absent_in_target`` names emotions (of ``emotions``) that the target is known to lack: the model still
    learns them from the source, and the target is scored over the classes it has (the missing-class shift).

    Raises:
        InputError: unreadable manifests, fewer than two shared emotions,
            emotions asked for that a corpus lacks (and that ``absent_in_target`` does not name).
    """
    source, target = read_manifest(source_manifest), read_manifest(target_manifest)
    if emotions is None:
        emotions = shared_emotions(source, target)
    else:
        emotions = list(emotions)
        stray = sorted(set(absent_in_target) - set(emotions))
        if stray:
            raise InputError(f"absent_in_target names {stray}, which are not among the emotions asked for {emotions}.")
        for frame, allowed in ((source, set()), (target, set(absent_in_target))):
            lacking = sorted(set(emotions) - set(frame["emotion"]) - allowed)
            if lacking:
                raise InputError(f"Corpus {frame['corpus'].iloc[0]!r} has no utterance of {lacking}; drop them from the emotions asked for.")
    check_class_list(emotions)
    source, target = restrict_emotions(source, emotions), restrict_emotions(target, emotions)
    tensors, skipped, names, paths = [], [], [], []
    corpora = [extract_corpus(frame, config.features, cache_dir=config.cache_dir, strict=config.strict, progress=progress)
               for frame in (source, target)]
    inputs = normalised_tensors(corpora, _stored_frames(config), config=config.features)
    for extracted, x in zip(corpora, inputs):
        y = torch.tensor(emotion_indices(extracted.manifest, emotions))
        tensors.append((x, y, extracted.manifest))
        skipped += extracted.skipped
        names.append(str(extracted.manifest["corpus"].iloc[0]))
        paths.append([str(path) for path in extracted.manifest["path"]])
    (x_s, y_s, frame_s), (x_t, y_t, _) = tensors
    train_index, test_index = speaker_split(frame_s, config.holdout_speakers)
    check_classes_present({f"source corpus {names[0]!r} (training speakers)": y_s[train_index].numpy()}, emotions,
                          skipped)
    kept = [i for i, e in enumerate(emotions) if e not in set(absent_in_target)]
    if not np.isin(y_t.numpy(), kept).all():
        raise InputError(f"Target corpus {names[1]!r} has utterances of {sorted(absent_in_target)}, named absent.")
    check_classes_present({f"target corpus {names[1]!r}": np.searchsorted(kept, y_t.numpy())},
                          [emotions[i] for i in kept], skipped)
    heldout_by = "speaker" if frame_s["speaker"].nunique() >= 2 else "utterance"
    if heldout_by == "utterance":
        print(f"Source corpus {names[0]!r} has a single speaker: its held-out set is a stratified fifth of its "
              "utterances, not unseen speakers (the report says so).", flush=True)
    speakers = frame_s["speaker"].astype(str).to_numpy()
    return TaskData(
        class_names=list(emotions),
        corpus_names=(names[0], names[1]),
        source_train=DomainData(x_s[train_index], y_s[train_index]),
        source_test=DomainData(x_s[test_index], y_s[test_index]),
        target=DomainData(x_t, y_t),
        skipped=skipped,
        heldout_by=heldout_by,
        source_paths=([paths[0][i] for i in train_index], [paths[0][i] for i in test_index]),
        target_paths=paths[1],
        source_speakers=np.concatenate([speakers[train_index], speakers[test_index]]),
    )


def _stored_frames(config: ExperimentConfig) -> int:
    """Stored length: a quarter more than the crop when training takes random crops."""
    crop = config.train.n_frames
    return config.features.n_frames if crop is None else max(config.features.n_frames, crop * 5 // 4)


def speaker_split(frame: pd.DataFrame, holdout: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held-out) with no speaker on both sides; fixed by ``seed``.

    A corpus with a single speaker falls back to a stratified utterance split.

    Raises:
        InputError: a single-speaker corpus too small for a stratified split.
    """
    indices = np.arange(len(frame))
    speakers = frame["speaker"].to_numpy()
    if len(set(speakers)) >= 2:
        splitter = GroupShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
        return next(splitter.split(indices, groups=speakers))
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
    try:
        return next(splitter.split(indices, frame["emotion"].to_numpy()))
    except ValueError as exc:  # too few utterances per emotion for both sides
        raise InputError(
            f"Corpus {frame['corpus'].iloc[0]!r} has a single speaker, so its held-out set must be drawn from its "
            f"{len(frame)} utterances, which is too few ({exc}); use a source corpus with more speakers or utterances."
        ) from exc


Split = Literal["heldout", "all"] | int
"""What a deep run trains on: ``"heldout"`` the training speakers (scored on the held-out ones), ``"all"``
every source speaker (a refit: no held-out score), or an int k, every speaker but selection fold k's."""


MIN_TRAINING_SPEAKERS = 3
"""Fewest speakers a selection fold trains on (all but one when the source has fewer than four)."""


def source_folds(task: TaskData, n_folds: int) -> list[np.ndarray]:
    """Held-out indices (into :attr:`TaskData.source_all`) of each selection fold: speakers never split.

    One fold is the task's fixed held-out split. With several folds, their number is raised (up to one per
    speaker) until every fold trains on at least :data:`MIN_TRAINING_SPEAKERS` speakers, or on all but one:
    two folds of a four-speaker corpus would score a model of two speakers. A single-speaker source is split by
    utterance, stratified.

    Raises:
        InputError: more folds than source speakers, or a fold whose training speakers lack an emotion (its
            model could never predict it, and its zero recall would enter the held-out UAR).
    """
    n = len(task.source_train.y) + len(task.source_test.y)
    if n_folds == 1:
        return [np.arange(len(task.source_train.y), n)]
    labels = task.source_all.y.numpy()
    if task.heldout_by == "speaker" and task.source_speakers is not None:
        speakers = task.source_speakers
        n_speakers = len(set(speakers.tolist()))
        if n_speakers < n_folds:
            raise InputError(f"{n_folds} selection folds need at least as many source speakers; the source has "
                             f"{n_speakers}. Lower selection_folds.")
        wanted = min(MIN_TRAINING_SPEAKERS, n_speakers - 1)
        for k in range(n_folds, n_speakers + 1):
            folds = [test for _, test in GroupKFold(n_splits=k).split(labels, labels, groups=speakers)]
            if min(n_speakers - len(set(speakers[test].tolist())) for test in folds) >= wanted:
                break
        n_folds = len(folds)
        check_classes_present({f"source corpus {task.corpus_names[0]!r} (training speakers of selection fold {k} of "
                               f"{n_folds})": np.delete(labels, test) for k, test in enumerate(folds, 1)}, task.class_names)
        return folds
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=0)
    return [test for _, test in splitter.split(labels, labels)]
