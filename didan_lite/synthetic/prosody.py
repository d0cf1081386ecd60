r"""Emotion prosody (``EMOTION_PROSODY``, relative to the speaker's neutral voice).

Tendencies from Murray & Arnott (1993, table 1), Banse & Scherer (1996), Scherer
(2003) and Juslin & Laukka (2003): anger high F0, wide range, loud, flat tilt,
fast; sadness low F0, narrow range, slow, soft, steep tilt, breathy, long pauses;
fear very high F0, fastest, irregular voicing (jitter); happiness high F0, wide
range, rising ends; neutral the baseline. Anger and happiness share high arousal
and differ mainly in loudness, tilt and the final movement, so they overlap.

==========  ====  =====  ====  =====  =====  ======  ======  =======  =====  =====  ====  =====
emotion     F0 x  range  rate  level  tilt   breath  jitter  shimmer  pause  final  F1 x  F2-3
                  x      x     dB     dB     ratio   %       %        x      st            x
==========  ====  =====  ====  =====  =====  ======  ======  =======  =====  =====  ====  =====
anger       1.45  1.60   1.10  +6.0   +8.0   0.06    1.0     4.0      0.80   -4.0   1.15  1.02
fear        1.55  1.20   1.22  +1.0   +2.0   0.18    2.2     6.0      1.20   +1.0   1.05  1.03
happiness   1.35  1.55   1.06  +3.5   +3.0   0.12    0.8     3.5      0.90   +2.0   1.06  1.10
neutral     1.00  1.00   1.00   0.0    0.0   0.10    0.6     3.0      1.00   -2.0   1.00  1.00
sadness     0.85  0.60   0.80  -6.0   -8.0   0.25    1.0     5.0      1.60   -3.0   0.94  0.97
==========  ====  =====  ====  =====  =====  ======  ======  =======  =====  =====  ====  =====

(level: active-speech RMS; tilt: gain of the >1 kHz shelf, + = flatter
spectrum; breath: aspiration/voicing RMS; final: F0 movement at phrase ends;
F1, F2-3: formant factors of the articulation.) Articulation follows the
voice: F1 rises with vocal effort and jaw opening (Liénard & Di Benedetto 1999)
and falls in lax, sad speech; smiling spreads the lips and raises F2 and F3
(Tartter 1980). These spectral-envelope cues (added in generator version 2)
separate anger, happiness and fear, which share high arousal, better than
pitch and level alone.

Per-utterance variation keeps the task far from trivial: every utterance draws
an intensity :math:`u \sim U(0.75, 1)` times the speaker's expressiveness
(log-normal, SD 15 %) and moves each parameter from neutral a fraction :math:`u`
of the way (geometrically for ratios), then adds noise: SD 5 % (0.9 semitone) on
F0, 20 % on range, 6 % on rate, 2 dB on level and tilt, 30 % on breathiness,
jitter and shimmer, 25 % on pauses, 1.5 semitones on the final movement,
3 % on F1 and 2 % on F2-F3
(``EmotionProsody`` field metadata). Speakers differ in F0, vocal-tract length
and breathiness, sentences in their syllables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

EMOTIONS: tuple[str, ...] = ("anger", "fear", "happiness", "neutral", "sadness")
"""The five classes EmoDB and CASIA share, canonical names."""

_INTENSITY_RANGE = (0.75, 1.0)


def _ratio(sd: float) -> dict:
    return {"log": True, "sd": sd}


def _offset(sd: float) -> dict:
    return {"log": False, "sd": sd}


@dataclass(frozen=True)
class EmotionProsody:
    """How one emotion changes a voice, relative to the speaker's neutral voice.

    Each field's metadata says how per-utterance variation acts on it: ``log``
    fields are ratios (interpolated geometrically, noise multiplies by
    ``exp(N(0, sd))``), the others offsets (noise adds ``N(0, sd)``).
    """

    f0_scale: float = field(metadata=_ratio(0.05))  # mean F0 / neutral mean F0 (0.05 ~ 0.9 st)
    f0_range_scale: float = field(metadata=_ratio(0.2))  # pitch excursions / neutral excursions
    rate_scale: float = field(metadata=_ratio(0.06))  # syllable rate / language's rate
    loudness_db: float = field(metadata=_offset(2.0))  # active-speech level re neutral, dB
    tilt_db: float = field(metadata=_offset(2.0))  # gain above ~1 kHz re neutral, dB (+ = flatter)
    breathiness: float = field(metadata=_ratio(0.3))  # aspiration RMS / voicing RMS
    jitter: float = field(metadata=_ratio(0.3))  # relative SD of the glottal period
    shimmer: float = field(metadata=_ratio(0.3))  # relative SD of the pulse amplitude
    pause_scale: float = field(metadata=_ratio(0.25))  # pause durations / neutral pauses
    final_st: float = field(metadata=_offset(1.5))  # F0 movement at phrase ends, semitones
    f1_scale: float = field(metadata=_ratio(0.03))  # F1 / neutral F1 (jaw opening, vocal effort)
    f23_scale: float = field(metadata=_ratio(0.02))  # F2 and F3 / neutral (lip spreading: smiling)


EMOTION_PROSODY: Mapping[str, EmotionProsody] = MappingProxyType(
    {
        "anger": EmotionProsody(1.45, 1.60, 1.10, 6.0, 8.0, 0.06, 0.010, 0.040, 0.80, -4.0, 1.15, 1.02),
        "fear": EmotionProsody(1.55, 1.20, 1.22, 1.0, 2.0, 0.18, 0.022, 0.060, 1.20, 1.0, 1.05, 1.03),
        "happiness": EmotionProsody(1.35, 1.55, 1.06, 3.5, 3.0, 0.12, 0.008, 0.035, 0.90, 2.0, 1.06, 1.10),
        "neutral": EmotionProsody(1.00, 1.00, 1.00, 0.0, 0.0, 0.10, 0.006, 0.030, 1.00, -2.0, 1.00, 1.00),
        "sadness": EmotionProsody(0.85, 0.60, 0.80, -6.0, -8.0, 0.25, 0.010, 0.050, 1.60, -3.0, 0.94, 0.97),
    }
)
"""Prototype prosody of each emotion (the table in the module docstring), read-only."""


def realise_prosody(
    emotion: str, expressiveness: float, intensity: float | None, rng: np.random.Generator
) -> EmotionProsody:
    """The prosody of one utterance: neutral moved towards ``emotion`` by the intensity, plus noise."""
    if intensity is None:
        intensity = rng.uniform(*_INTENSITY_RANGE) * expressiveness
    neutral, target = EMOTION_PROSODY["neutral"], EMOTION_PROSODY[emotion]
    values = {}
    for item in dataclasses.fields(EmotionProsody):
        a, b = getattr(neutral, item.name), getattr(target, item.name)
        noise = item.metadata["sd"] * rng.standard_normal()
        if item.metadata["log"]:
            values[item.name] = a * (b / a) ** intensity * np.exp(noise)
        else:
            values[item.name] = a + intensity * (b - a) + noise
    return EmotionProsody(**values)

