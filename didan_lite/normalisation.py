"""The a-priori front end and the normalisation of spectrograms, before they reach the network.

Notebook: notebooks/02_cross_corpus_problem.ipynb reads the normalised inputs.

Per utterance (:func:`front_end`): a dynamic range of 80 dB, leading and trailing
silence trimmed, the active-speech level removed (the reasons, chosen a priori:
:mod:`didan_lite.features`). Per corpus or per speaker (:func:`normalised_tensors`):
standardisation per frequency bin with statistics over voiced frames only, then a
fixed number of frames, short utterances tiled rather than padded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import pandas as pd
import torch

from didan_lite.errors import InputError
from didan_lite.features import DYNAMIC_RANGE_DB, CorpusFeatures, FeatureConfig, fix_length


def front_end(spec: np.ndarray, config: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
    """The a-priori front end of one utterance: dynamic range, silence trimmed at the ends, level removed.

    1. Clamp at :data:`DYNAMIC_RANGE_DB` below the spectrogram's maximum (a gain moves the floor with it).
    2. Frame level: dB of the frame's mean power over the bins. Voiced: within ``config.trim_db`` of the loudest.
    3. Cut the frames before the first and after the last voiced frame.
    4. ``level="utterance"``: subtract the mean level of the voiced frames (the active-speech level).

    Scaling the audio by any gain adds the same dB to every bin and so leaves the result unchanged.

    Shape:
        (n_bins, T) dB -> ((n_bins, T'), voiced (T',) bool), T' <= T
    """
    spec = np.maximum(np.asarray(spec, dtype=np.float32), spec.max() - DYNAMIC_RANGE_DB)
    frame_db = 10.0 * np.log10(np.mean(10.0 ** (spec.astype(np.float64) / 10.0), axis=0))
    voiced = np.ones(spec.shape[1], bool) if config.trim_db is None else frame_db >= frame_db.max() - config.trim_db
    first, last = np.flatnonzero(voiced)[[0, -1]]
    spec, voiced, frame_db = spec[:, first : last + 1], voiced[first : last + 1], frame_db[first : last + 1]
    if config.level == "utterance":
        spec = spec - np.float32(frame_db[voiced].mean())
    return spec, voiced


@dataclass(frozen=True)
class NormalisationStats:
    """Per-bin mean and standard deviation (dB) of one corpus. Shape: (n_bins,) each."""

    mean: np.ndarray
    std: np.ndarray


def corpus_statistics(spectrograms: Sequence[np.ndarray], voiced: Sequence[np.ndarray] | None = None) -> NormalisationStats:
    """Per-frequency-bin mean and std over every frame (or every ``voiced`` frame) of every utterance of a corpus.

    Shape: spectrograms (n_bins, T_i) each, voiced (T_i,) bool each -> (n_bins,) mean and std.

    Raises:
        InputError: non-finite values (NaN features) in the spectrograms.
    """
    if voiced is None:
        voiced = [slice(None)] * len(spectrograms)
    frames = np.concatenate([np.asarray(s, dtype=np.float64)[:, v] for s, v in zip(spectrograms, voiced)], axis=1)
    if not np.all(np.isfinite(frames)):
        raise InputError("Spectrograms contain NaN or infinite values; check the audio files (load_audio rejects such files).")
    return NormalisationStats(frames.mean(axis=1).astype(np.float32), np.maximum(frames.std(axis=1), 1e-3).astype(np.float32))


def stack_normalised(
    spectrograms: Sequence[np.ndarray],
    stats: NormalisationStats,
    n_frames: int,
    policy: Literal["center", "start"] = "center",
    *,
    tile: bool = False,
) -> torch.Tensor:
    """Normalise each spectrogram with its corpus's statistics and stack them at one length.

    Padding uses 0, which after normalisation is the corpus mean of each bin; with ``tile`` short
    spectrograms are repeated instead (:func:`fix_length`).

    Shape:
        list of (n_bins, T_i) -> (N, n_bins, n_frames), float32
    """
    mean, std = stats.mean[:, None], stats.std[:, None]
    return torch.stack([fix_length(torch.from_numpy((s - mean) / std), n_frames, policy, tile=tile)
                        for s in spectrograms]).float()


def shared_band(corpora: Sequence[Sequence[np.ndarray]], floor_db: float) -> np.ndarray:
    """Frequency bins every corpus records: its mean level within ``floor_db`` of its own loudest bin.

    A telephone corpus has almost nothing above 3.4 kHz; per-bin normalisation
    would blow those bins' residual noise up to unit variance, and a model
    trained on a wide-band corpus would read noise where it learned speech.
    Uses audio only (no label). Shape: each corpus a list of (n_bins, T_i) dB
    spectrograms -> (n_bins,) bool.
    """
    keep = None
    for spectrograms in corpora:
        level = corpus_statistics(spectrograms).mean
        recorded = level >= level.max() - floor_db
        keep = recorded if keep is None else keep & recorded
    return keep


def normalisation_groups(frame: pd.DataFrame, config: FeatureConfig) -> list:
    """Statistics group of each utterance of a manifest (``config.normalise_by``): one for the corpus, or its speaker.

    Raises:
        InputError: per-speaker normalisation of utterances that name no speaker.
    """
    if config.normalise_by == "corpus":
        return [0] * len(frame)
    unnamed = frame["speaker"].astype(str).str.strip() == ""
    if unnamed.any():
        raise InputError(f"Corpus {frame['corpus'].iloc[0]!r}: {int(unnamed.sum())} utterance(s) name no speaker (e.g. "
                         f"{frame['path'][unnamed].iloc[0]}); per-speaker normalisation needs one: fill the manifest's "
                         "speaker column or normalise per corpus.")
    return list(frame["speaker"])


def normalise_by_group(
    spectrograms: Sequence[np.ndarray],
    groups: Sequence[object],
    n_frames: int,
    policy: Literal["center", "start"] = "center",
    *,
    voiced: Sequence[np.ndarray] | None = None,
    tile: bool = False,
) -> torch.Tensor:
    """Normalise each spectrogram with the per-bin statistics of its group, then stack them at one length.

    One group for the whole corpus is per-corpus normalisation; one group per
    speaker is per-speaker normalisation (Schuller et al., 2010), which also
    removes what a speaker's voice and microphone add to every utterance.
    Padding uses 0, the group's mean of each bin (or ``tile``: repeat); with ``voiced`` masks the statistics
    come from voiced frames only.

    Shape:
        list of (n_bins, T_i), groups (N,), voiced (T_i,) each -> (N, n_bins, n_frames), float32
    """
    if len(groups) != len(spectrograms):
        raise ValueError(f"{len(groups)} group labels for {len(spectrograms)} spectrograms")
    labels = np.asarray(groups, dtype=object)
    out = torch.empty(len(spectrograms), spectrograms[0].shape[0] if len(spectrograms) else 0, n_frames)
    for group in dict.fromkeys(labels.tolist()):
        members = np.flatnonzero(labels == group)
        chosen = [spectrograms[i] for i in members]
        stats = corpus_statistics(chosen, None if voiced is None else [voiced[i] for i in members])
        out[torch.from_numpy(members)] = stack_normalised(chosen, stats, n_frames, policy, tile=tile)
    return out


_BAND_MESSAGES_SHOWN: set[str] = set()
"""The band messages :func:`normalised_tensors` has printed in this process (each is printed once)."""


def normalised_tensors(
    corpora: Sequence[CorpusFeatures],
    n_frames: int,
    *,
    config: FeatureConfig | None = None,
) -> list[torch.Tensor]:
    """Each corpus's spectrograms through :func:`front_end`, standardised per corpus or per speaker, stacked at ``n_frames``.

    ``config`` sets the front end, the length policy, the statistics (``normalise_by``) and the shared band: with
    ``band_floor_db``, the bins outside :func:`shared_band` are set to 0 in every corpus (a line says how many).
    ``None``: no front end, padding, per-corpus statistics, every bin (as before the front end existed).

    Shape:
        one (N_k, n_bins, n_frames) float32 tensor per corpus
    """
    band_floor_db = None if config is None else config.band_floor_db
    keep = None if band_floor_db is None else shared_band([c.spectrograms for c in corpora], band_floor_db)
    if keep is not None and keep.all():
        keep = None
    if keep is not None:
        message = (f"{int((~keep).sum())} of {keep.size} frequency bins lie outside the band both corpora record (more "
                   f"than {band_floor_db:g} dB below a corpus's loudest bin); they are set to 0 in both.")
        if message not in _BAND_MESSAGES_SHOWN:  # once per process: a notebook loads the same pair several times
            _BAND_MESSAGES_SHOWN.add(message)
            print(message, flush=True)
    tensors = []
    for corpus in corpora:
        specs, voiced = corpus.spectrograms, None
        if config is not None:
            specs, voiced = zip(*(front_end(s, config) for s in specs))
        groups = [0] * len(specs) if config is None else normalisation_groups(corpus.manifest, config)
        x = normalise_by_group(specs, groups, n_frames, voiced=voiced,
                               tile=config is not None and config.length == "tile")
        if keep is not None:
            x[:, torch.from_numpy(~keep)] = 0.0
        tensors.append(x)
    return tensors
