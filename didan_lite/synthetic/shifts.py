"""The shift bench: synthetic targets that each differ from one source in one named factor.

Notebook: notebooks/07_label_shift.ipynb reads the bench's shipped result; benchmarks/shift_bench.py runs it.

Every target shares the source's language, emotions and speaker population (other speakers of the same
population), so the only differences are the speakers and the named factor:

=================  ===========================================================  =============
shift              what differs from the source                                 alignable?
=================  ===========================================================  =============
``none``           nothing but the speakers (the control)                       (no shift)
``channel``        a reverberant room and a resonant microphone                 yes
``speaker``        higher voices: F0 up 6 semitones, vocal tracts 2.5 cm        yes
                   shorter
``label-shift``    ``channel``, and half the target is neutral (the other       yes, by class
                   four emotions share the other half)                          structure
``missing-class``  ``channel``, and the target has no fear                      yes, by class
                                                                                structure
``band``           the telephone band only (300-3,400 Hz)                       partly: the
                                                                                shared band
                                                                                drops the lost
                                                                                bins from the
                                                                                source too;
                                                                                the filter's
                                                                                edges remain
``class-snr``      both corpora hold pink noise 12 dB below a neutral           no: the noise
                   utterance; in the source it follows each utterance's         level's mean
                   level (the same SNR for every emotion), in the target it     is the same,
                   stays at that fixed level (loud emotions get a higher SNR,   only its link
                   quiet ones a lower)                                          to the emotion
                                                                                differs
=================  ===========================================================  =============

``class-snr`` is the bench's negative control and the one shift with its own source (:data:`NOISY_SOURCE`, the
bench source with the target's noise following the speech level), so that the noise itself is no shift: the
two marginals differ only by the spread of the SNR across emotions, and what a model of the source must miss is
the link between the target's SNR and its emotion, which no source label shows.

The emotion mixes are fixed a priori (not tuned): a share of each emotion's utterances is kept, taken from
its speakers in turn in manifest order (:func:`with_emotion_mix`), so the subset is the same for every seed
of a run and every emotion keeps its speaker mix.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from didan_lite.errors import InputError
from didan_lite.manifest import read_manifest, write_manifest
from didan_lite.synthetic.channel import STUDIO_CHANNEL, Channel
from didan_lite.synthetic.corpora import DEFAULT_SOURCE, CorpusSpec
from didan_lite.synthetic.generate import default_root, generate_corpus

BENCH_SOURCE = dataclasses.replace(
    DEFAULT_SOURCE,
    name="synth-bench-source",
    n_utterances=300,
    description=DEFAULT_SOURCE.description + " Shift bench source: 60 utterances per emotion.",
)
"""The source of every shift: the default synthetic source at 60 utterances per emotion."""

ROOM_CHANNEL = dataclasses.replace(
    STUDIO_CHANNEL,
    name="resonant microphone in a reverberant room, 22.05 kHz",
    resonance_hz=2500.0,
    resonance_db=10.0,
    rt60_s=0.8,
    direct_to_reverberant_db=0.0,
    snr_db=30.0,
    noise_color=1.0,
    gain_db=-6.0,
)
BAND_CHANNEL = dataclasses.replace(STUDIO_CHANNEL, name="studio, telephone band only (300-3,400 Hz)",
                                   band_hz=(300.0, 3400.0), band_order=8)
LEVEL_NOISE_CHANNEL = dataclasses.replace(STUDIO_CHANNEL, name="studio with noise at a fixed level (12 dB SNR)",
                                          snr_db=12.0, noise_color=1.0, noise_follows_speech=False)
FOLLOWING_NOISE_CHANNEL = dataclasses.replace(LEVEL_NOISE_CHANNEL, name="studio with noise 12 dB below each utterance",
                                              noise_follows_speech=True)
NOISY_SOURCE = dataclasses.replace(
    BENCH_SOURCE,
    name="synth-bench-source-noisy",
    channel=FOLLOWING_NOISE_CHANNEL,
    description=BENCH_SOURCE.description + " Pink noise 12 dB below each utterance's speech level.",
)
"""The source of ``class-snr``: the bench source with the target's noise, at the same SNR for every emotion."""
HIGH_VOICES = dataclasses.replace(
    DEFAULT_SOURCE.population,
    f0_male_hz=DEFAULT_SOURCE.population.f0_male_hz * 2 ** 0.5,
    f0_female_hz=DEFAULT_SOURCE.population.f0_female_hz * 2 ** 0.5,
    vocal_tract_male_cm=DEFAULT_SOURCE.population.vocal_tract_male_cm - 2.5,
    vocal_tract_female_cm=DEFAULT_SOURCE.population.vocal_tract_female_cm - 2.5,
)


def _target(tag: str, channel: Channel = STUDIO_CHANNEL, population=DEFAULT_SOURCE.population) -> CorpusSpec:
    return dataclasses.replace(
        BENCH_SOURCE,
        name=f"synth-bench-{tag}",
        description=f"SYNTHETIC shift-bench target ({tag}): other speakers of the source's population; {channel.name}.",
        channel=channel,
        population=dataclasses.replace(population, n_speakers=8),
    )


@dataclass(frozen=True)
class Shift:
    """One target of the bench: its corpus, the share of each emotion kept, whether alignment can undo it, and
    the source it is paired with."""

    name: str
    factor: str
    target: CorpusSpec
    keep: Mapping[str, float] | None = None
    """Share of each emotion's utterances kept in the target (None: all; 0: the emotion is absent)."""
    alignable: bool = True
    source: CorpusSpec = BENCH_SOURCE

    @property
    def absent(self) -> list[str]:
        """Emotions the target lacks."""
        return sorted(e for e, share in (self.keep or {}).items() if share == 0)


_CHANNEL_TARGET = _target("channel", ROOM_CHANNEL)
HALF_NEUTRAL = {"neutral": 1.0, "anger": 0.25, "fear": 0.25, "happiness": 0.25, "sadness": 0.25}
"""The label shift's mix: every neutral utterance and a quarter of each other emotion (half the target neutral)."""
SHIFTS: dict[str, Shift] = {shift.name: shift for shift in (
    Shift("none", "other speakers only (the control)", _target("none")),
    Shift("channel", "a reverberant room and a resonant microphone", _CHANNEL_TARGET),
    Shift("speaker", "higher voices (F0 +6 semitones, vocal tracts 2.5 cm shorter)", _target("speaker", population=HIGH_VOICES)),
    Shift("label-shift", "the channel shift, and half of the target neutral", _CHANNEL_TARGET, HALF_NEUTRAL),
    Shift("missing-class", "the channel shift, and no fear in the target", _CHANNEL_TARGET,
          {"anger": 1.0, "fear": 0.0, "happiness": 1.0, "neutral": 1.0, "sadness": 1.0}),
    Shift("band", "the telephone band only (300-3,400 Hz)", _target("band", BAND_CHANNEL)),
    Shift("class-snr", "the same noise as the source's, at a fixed level: the SNR follows the emotion's loudness",
          _target("class-snr", LEVEL_NOISE_CHANNEL), alignable=False, source=NOISY_SOURCE),
)}


def make_shift_pair(name: str, root: str | os.PathLike | None = None, seed: int = 0,
                    n_per_emotion: int = 60) -> tuple[Path, Path]:
    """Generate (or reuse) the shift's source and the target of shift ``name``; return their manifest paths.

    ``n_per_emotion`` utterances of each emotion in each corpus before a target's mix is applied.

    Corpora go to ``root`` (default: ``shifts/<n_per_emotion>-per-emotion/`` beside the embedded pair,
    :func:`default_root`, so that benches of two sizes never rewrite each other's files). A target
    with a skewed or missing emotion is written as ``manifest-<shift>.csv`` beside its corpus's manifest.

    Raises:
        InputError: an unknown shift.
    """
    if name not in SHIFTS:
        raise InputError(f"Unknown shift {name!r}; choose one of {', '.join(SHIFTS)}.")
    shift = SHIFTS[name]
    base = Path(root) if root is not None else default_root() / "shifts" / f"{n_per_emotion}-per-emotion"
    n = n_per_emotion * len(BENCH_SOURCE.emotions)
    source = generate_corpus(shift.source, base, seed, n)
    target = generate_corpus(shift.target, base, seed, n)
    if shift.keep is None:
        return source, target
    subset = target.with_name(f"manifest-{name}.csv")
    write_manifest(with_emotion_mix(read_manifest(target), shift.keep), subset)
    return source, subset


def with_emotion_mix(manifest: pd.DataFrame, keep: Mapping[str, float]) -> pd.DataFrame:
    """The rows of ``manifest`` with only a share of each emotion kept: ``round(share * n)`` of its ``n`` rows
    (an emotion ``keep`` does not name keeps all of its rows), taken from its speakers in turn (each speaker's
    first row in manifest order, then each one's second, ...), so that a corpus stored by speaker keeps the
    speaker mix of every emotion: the subset shifts the emotion mix and nothing else."""
    def share(group: pd.DataFrame, emotion: str) -> pd.DataFrame:
        if "speaker" in group:
            turn = group.groupby("speaker", sort=False).cumcount()
            group = group.iloc[turn.argsort(kind="stable")]
        return group.head(round(keep.get(emotion, 1.0) * len(group)))

    return pd.concat([share(group, emotion) for emotion, group in manifest.groupby("emotion")]).sort_index()
