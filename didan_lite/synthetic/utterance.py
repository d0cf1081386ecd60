"""One utterance: text, prosody, voice and channel put together."""

from __future__ import annotations

import numpy as np

from didan_lite.errors import InputError
from didan_lite.synthetic.channel import REFERENCE_LEVEL_DBFS, Channel, record
from didan_lite.synthetic.corpora import DEFAULT_SOURCE
from didan_lite.synthetic.language import GERMAN_LIKE, Language, Syllable, draw_text, plan
from didan_lite.synthetic.prosody import EMOTION_PROSODY, realise_prosody
from didan_lite.synthetic.seeding import derived_rng
from didan_lite.synthetic.voice import Speaker, draw_speakers, frication, glottal_source, spectral_tilt, vocal_tract, voicing_envelope


def synthesize_utterance(
    emotion: str,
    sample_rate: int = 16000,
    *,
    seed: int = 0,
    speaker: Speaker | None = None,
    language: Language = GERMAN_LIKE,
    text: tuple[Syllable, ...] | None = None,
    channel: Channel | None = None,
    intensity: float | None = None,
) -> np.ndarray:
    """One synthetic emotional utterance.

    Args:
        emotion: one of ``EMOTION_PROSODY``.
        sample_rate: output rate, Hz.
        seed: non-negative; fixes every random choice of this utterance.
        speaker: the voice; default the first speaker of ``DEFAULT_SOURCE`` for ``seed``.
        language: phonology used when ``text`` is None.
        text: syllables to say; default a random sentence of ``language``.
        channel: room, noise and microphone; None gives the dry voice.
        intensity: how far from neutral towards the emotion (0 neutral, 1 the
            prototype of ``EMOTION_PROSODY``); None draws it as a corpus does.

    Returns:
        float32 mono signal, shape ``(n_samples,)``, values in [-1, 1].
    """
    if emotion not in EMOTION_PROSODY:
        raise InputError(f"Unknown emotion {emotion!r}; the generator knows {list(EMOTION_PROSODY)}.")
    if seed < 0:
        raise InputError(f"Seed {seed} is negative; use a seed >= 0.")
    rng = derived_rng(seed, "utterance")
    if speaker is None:
        speaker = draw_speakers(DEFAULT_SOURCE.population, seed, DEFAULT_SOURCE.name)[0]
    if text is None:
        text = draw_text(language, rng)
    prosody = realise_prosody(emotion, speaker.expressiveness, intensity, rng)
    segments, pitch, duration = plan(text, language, prosody, rng)

    times = np.arange(round(duration * sample_rate)) / sample_rate
    drift_t = np.arange(0.0, duration + 0.25, 0.25)
    semitones = np.interp(times, *zip(*pitch)) - language.declination_st_per_s * times
    semitones += np.interp(times, drift_t, 0.7 * prosody.f0_range_scale * rng.standard_normal(drift_t.size))
    f0_hz = speaker.f0_hz * prosody.f0_scale * 2.0 ** (semitones / 12.0)

    voicing = voicing_envelope(segments, times)
    pulses, glottis_open = glottal_source(f0_hz, prosody, sample_rate, rng)
    breath = prosody.breathiness * speaker.breathiness_scale * np.sqrt(np.mean(pulses**2))
    source = (pulses + breath * rng.standard_normal(times.size) * np.where(glottis_open, 1.0, 0.3)) * voicing
    tilted = spectral_tilt(source, prosody.tilt_db, sample_rate)
    tract = vocal_tract(tilted, segments, speaker.formant_scale, sample_rate, (prosody.f1_scale, prosody.f23_scale))
    vowels = voicing > 0.5
    tract_rms = np.sqrt(np.mean(tract[vowels] ** 2))
    dry = tract + tract_rms * frication(segments, speaker.formant_scale, times.size, sample_rate, rng)
    dry *= 10.0 ** ((REFERENCE_LEVEL_DBFS + prosody.loudness_db) / 20.0) / np.sqrt(np.mean(dry[vowels] ** 2))
    recorded = record(dry, channel, sample_rate, rng) if channel is not None else dry
    return np.clip(recorded, -1.0, 1.0).astype(np.float32)

