"""Listening in a notebook: short, small audio players, alone or in a table beside the spectrograms.

Notebook: notebooks/01_spectrogram_features.ipynb plays utterances per emotion,
notebooks/02_cross_corpus_problem.ipynb one utterance per corpus.

Licence-gated corpora (CASIA, SAVEE, IEMOCAP: ``access == "licence"`` in
``data_fetch.corpora``) may be studied but never redistributed, in any form: a
committed notebook would redistribute every clip it embeds. So every player
names the corpus its clip comes from, and a clip of a licence-gated corpus is
refused (:func:`may_embed`): the table shows a note in its place
(``tests/test_notebooks.py`` scans the committed notebooks for such audio).

A committed notebook keeps every player it shows, so each clip is trimmed to
its loudest ``max_seconds`` and stored as a small MP3 (about 5 kB per second
at 16 kHz); where this machine's libsndfile cannot write MP3, a 16-bit WAV at
8 kHz stands in (larger, and telephone-band).
"""

from __future__ import annotations

import base64
import html
import io
from typing import Iterable, Mapping

from didan_lite.errors import InputError

import numpy as np
import soundfile as sf

MAX_SECONDS = 1.5
"""Default clip length: enough for a short sentence's prosody."""


_EMBEDDABLE: set[str] = set()
"""Corpus names whose licence allows their audio in a committed notebook (:func:`allow_embedding`)."""


def allow_embedding(names: Iterable[str]) -> None:
    """Declare corpus names (any case) whose audio may be embedded; ``data_fetch.corpora`` declares its free corpora."""
    _EMBEDDABLE.update(name.lower() for name in names)


def may_embed(corpus: str) -> bool:
    """Whether audio of ``corpus`` (a manifest's ``corpus`` value, e.g. ``"emodb"``) may be embedded in a notebook.

    Fails closed: True only for the generated synthetic corpora (``synth-*``) and for names declared free with
    :func:`allow_embedding` (the data_fetch registry declares its free corpora when it is imported, as every
    notebook does); a licence-gated corpus or a name nobody declared (``"casia_subset"``, a user's own corpus)
    is never embedded.
    """
    return corpus.startswith("synth-") or corpus.lower() in _EMBEDDABLE


def refusal(corpus: str) -> str:
    """The note shown instead of a player for a licence-gated corpus."""
    return f"not played: {corpus} is licence-gated, and its audio is never embedded in a notebook (listen on your own copy)"


def playable(signal, sample_rate, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """``signal`` as one channel of finite float32 samples, its arguments checked before anything is encoded.

    Shape:
        (n,), (n, channels) as ``soundfile.read`` returns it, or (channels, n) as librosa does (at most 8
        channels): channels are averaged -> (n,).

    Raises:
        InputError: an empty signal, more than two axes, NaN or infinite samples (they would abort the MP3
            encoder, and the notebook's kernel with it), a sample rate that is not a whole number of Hz in the
            range audio files use, or a clip length that is not a positive number of seconds.
    """
    from didan_lite.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
            or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise InputError(f"sample_rate={sample_rate!r} is not a sample rate in Hz; pass the rate the signal was read "
                         f"at, a whole number in [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}] (e.g. 16000).")
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float)) or not 0 < max_seconds < np.inf:
        raise InputError(f"max_seconds={max_seconds!r} is not a positive number of seconds; pass e.g. 1.5.")
    try:
        samples = np.asarray(signal, dtype=np.float32)
    except (TypeError, ValueError):
        raise InputError(f"The signal ({type(signal).__name__}) is not an array of samples; pass a NumPy array.") from None
    if samples.ndim == 2:
        frames_first = samples.shape[1] <= 8 and samples.shape[0] > samples.shape[1]  # soundfile: (n, channels)
        if not frames_first and samples.shape[0] > 8:
            raise InputError(f"The signal has shape {samples.shape}: not (n, channels) nor (channels, n) with at most "
                             "8 channels; pass one channel, shape (n,).")
        samples = samples.mean(axis=1 if frames_first else 0)
    if samples.ndim != 1:
        raise InputError(f"The signal has shape {samples.shape}; pass one channel, shape (n,), or (n, channels).")
    if samples.size == 0:
        raise InputError("The signal is empty (0 samples); pass the samples of a clip.")
    if not np.all(np.isfinite(samples)):
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        raise InputError(f"The signal holds {bad} NaN or infinite sample(s); replace them (e.g. np.nan_to_num) or "
                         "check how the signal was computed.")
    return samples


def trim_loudest(signal: np.ndarray, sample_rate: int, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """The ``max_seconds`` stretch of ``signal`` with the most energy (the whole signal when shorter). Shape: (n,)."""
    signal = playable(signal, sample_rate, max_seconds)
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


def audio_player(signal: np.ndarray, sample_rate: int, max_seconds: float = MAX_SECONDS, *, corpus: str):
    """One player of the clip (see :func:`encode_clip`) of ``corpus``, as ``IPython.display.HTML``;
    for a licence-gated corpus, a note instead (:func:`may_embed`)."""
    from IPython.display import HTML

    return HTML(_player_html(signal, sample_rate, max_seconds, corpus))


def _player_html(signal: np.ndarray, sample_rate: int, max_seconds: float, corpus: str) -> str:
    """One player, tagged ``data-corpus`` with its corpus (what the notebook scan of tests/test_notebooks.py reads)."""
    if not may_embed(corpus):
        return f"<em>{html.escape(refusal(corpus))}</em>"
    data, mimetype = encode_clip(signal, sample_rate, max_seconds)
    source = f"data:{mimetype};base64,{base64.b64encode(data).decode('ascii')}"
    return (f'<audio controls preload="none" style="width: 150px" data-corpus="{html.escape(corpus)}">'
            f'<source src="{source}" type="{mimetype}"></audio>')


def audio_table(rows: Mapping[str, Mapping[str, np.ndarray]], sample_rate: int, max_seconds: float = MAX_SECONDS, *,
                corpus: str | Mapping[str, str]):
    """An HTML table of players: one row per corpus (or speaker), one column per emotion (or corpus).

    Args:
        rows: row label -> {column label -> (n_samples,) signal at ``sample_rate``}; a missing cell stays empty.
        corpus: the corpus of every clip, or a mapping from row or column label to corpus (every clip must be
            covered). A clip of a licence-gated corpus is replaced by a note (:func:`may_embed`).

    Raises:
        InputError: a clip whose corpus ``corpus`` does not name.

    Returns:
        ``IPython.display.HTML``, to ``display``.
    """
    from IPython.display import HTML

    def cell(label: str, column: str) -> str:
        if column not in rows[label]:
            return ""
        name = corpus if isinstance(corpus, str) else corpus.get(label, corpus.get(column))
        if name is None:
            raise InputError(f"audio_table: no corpus given for the clip {label!r} / {column!r}; pass corpus=.")
        return _player_html(rows[label][column], sample_rate, max_seconds, name)

    columns = list(dict.fromkeys(column for cells in rows.values() for column in cells))
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in columns)
    body = "".join(
        f"<tr><th>{html.escape(str(label))}</th>"
        + "".join(f"<td>{cell(label, c)}</td>" for c in columns)
        + "</tr>"
        for label, cells in rows.items()
    )
    return HTML(f"<table><tr><th></th>{head}</tr>{body}</table>")
