"""Listening in a notebook: short, small audio players, alone or in a table beside the spectrograms.

Notebook: notebooks/01_spectrogram_features.ipynb plays utterances per emotion,
notebooks/02_cross_corpus_problem.ipynb one utterance per corpus.

A committed notebook keeps every player it shows, so each clip is trimmed to
its loudest ``max_seconds`` and stored as a small MP3 (about 5 kB per second
at 16 kHz); where this machine's libsndfile cannot write MP3, a 16-bit WAV at
8 kHz stands in (larger, and telephone-band).
"""

from __future__ import annotations

import base64
import html
import io
from typing import Mapping

import numpy as np
import soundfile as sf

MAX_SECONDS = 1.5
"""Default clip length: enough for a short sentence's prosody."""


def trim_loudest(signal: np.ndarray, sample_rate: int, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """The ``max_seconds`` stretch of ``signal`` with the most energy (the whole signal when shorter). Shape: (n,)."""
    signal = np.asarray(signal, dtype=np.float32).ravel()
    length = int(round(max_seconds * sample_rate))
    if len(signal) <= length:
        return signal
    energy = np.concatenate([[0.0], np.cumsum(signal.astype(np.float64) ** 2)])
    start = int(np.argmax(energy[length:] - energy[:-length]))
    return signal[start:start + length]


def encode_clip(signal: np.ndarray, sample_rate: int, max_seconds: float = MAX_SECONDS) -> tuple[bytes, str]:
    """A trimmed, peak-normalised clip as (encoded bytes, MIME type): MP3, else 8 kHz WAV.

    Peak normalisation makes every clip equally loud, so level differences
    between corpora are not heard (the spectrograms and notebook 2's table show them).
    """
    clip = trim_loudest(signal, sample_rate, max_seconds)
    clip = 0.9 * clip / max(float(np.abs(clip).max()), 1e-9)
    buffer = io.BytesIO()
    try:
        sf.write(buffer, clip, sample_rate, format="MP3", compression_level=0.8, bitrate_mode="VARIABLE")
        return buffer.getvalue(), "audio/mpeg"
    except (TypeError, ValueError, RuntimeError, sf.LibsndfileError):
        import librosa

        buffer = io.BytesIO()
        sf.write(buffer, librosa.resample(clip, orig_sr=sample_rate, target_sr=8000), 8000, format="WAV", subtype="PCM_16")
        return buffer.getvalue(), "audio/wav"


def audio_player(signal: np.ndarray, sample_rate: int, max_seconds: float = MAX_SECONDS):
    """An ``IPython.display.Audio`` player of the clip (see :func:`encode_clip`)."""
    from IPython.display import Audio

    data, mimetype = encode_clip(signal, sample_rate, max_seconds)
    player = Audio(data=data)
    player.mimetype = mimetype  # IPython assumes WAV for raw bytes
    return player


def _player_html(signal: np.ndarray, sample_rate: int, max_seconds: float) -> str:
    data, mimetype = encode_clip(signal, sample_rate, max_seconds)
    source = f"data:{mimetype};base64,{base64.b64encode(data).decode('ascii')}"
    return f'<audio controls preload="none" style="width: 150px"><source src="{source}" type="{mimetype}"></audio>'


def audio_table(rows: Mapping[str, Mapping[str, np.ndarray]], sample_rate: int, max_seconds: float = MAX_SECONDS):
    """An HTML table of players: one row per corpus (or speaker), one column per emotion.

    Args:
        rows: row label -> {column label -> (n_samples,) signal at ``sample_rate``}; a missing cell stays empty.

    Returns:
        ``IPython.display.HTML``, to ``display``.
    """
    from IPython.display import HTML

    columns = list(dict.fromkeys(column for cells in rows.values() for column in cells))
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in columns)
    body = "".join(
        f"<tr><th>{html.escape(str(label))}</th>"
        + "".join(f"<td>{_player_html(cells[c], sample_rate, max_seconds) if c in cells else ''}</td>" for c in columns)
        + "</tr>"
        for label, cells in rows.items()
    )
    return HTML(f"<table><tr><th></th>{head}</tr>{body}</table>")
