"""The shift bench's corpora: one factor each, mixes as declared, noise without a class cue."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from didan_lite.errors import InputError
from didan_lite.manifest import read_manifest
from didan_lite.synthetic import EMOTIONS, STUDIO_CHANNEL, synthesize_utterance
from didan_lite.synthetic.channel import Channel, active_level_dbfs
from didan_lite.synthetic.shifts import BENCH_SOURCE, HALF_NEUTRAL, SHIFTS, make_shift_pair, with_emotion_mix


def test_each_target_differs_from_the_source_in_its_named_factor_only():
    for shift in SHIFTS.values():
        target = shift.target
        assert target.language == BENCH_SOURCE.language and target.emotions == BENCH_SOURCE.emotions
        assert target.name != BENCH_SOURCE.name  # other speakers, drawn from the corpus name
    assert SHIFTS["none"].target.channel == BENCH_SOURCE.channel
    assert SHIFTS["speaker"].target.channel == BENCH_SOURCE.channel
    assert SHIFTS["speaker"].target.population.f0_female_hz > BENCH_SOURCE.population.f0_female_hz
    assert SHIFTS["channel"].target.population.f0_female_hz == BENCH_SOURCE.population.f0_female_hz
    assert SHIFTS["label-shift"].target == SHIFTS["channel"].target == SHIFTS["missing-class"].target
    assert SHIFTS["missing-class"].absent == ["fear"] and SHIFTS["label-shift"].absent == []
    assert [name for name, shift in SHIFTS.items() if not shift.alignable] == ["class-snr"]
    assert [name for name, shift in SHIFTS.items() if shift.source != BENCH_SOURCE] == ["class-snr"]


def test_the_class_snr_control_changes_only_whether_the_noise_follows_the_speech():
    shift = SHIFTS["class-snr"]
    assert dataclasses.replace(shift.source.channel, name="", noise_follows_speech=False) == dataclasses.replace(
        shift.target.channel, name="")
    assert shift.source.channel.noise_follows_speech and not shift.target.channel.noise_follows_speech
    assert dataclasses.replace(shift.source, name="synth-x", description="SYNTHETIC", channel=STUDIO_CHANNEL) == \
        dataclasses.replace(BENCH_SOURCE, name="synth-x", description="SYNTHETIC")  # the bench source but for its noise


def test_mixes_are_applied_to_the_target_only(tmp_path):
    for name, expected in (("label-shift", {"neutral": 4, "anger": 1, "fear": 1, "happiness": 1, "sadness": 1}),
                           ("missing-class", {"anger": 4, "happiness": 4, "neutral": 4, "sadness": 4})):
        source, target = make_shift_pair(name, root=tmp_path, n_per_emotion=4)
        assert read_manifest(source)["emotion"].value_counts().to_dict() == dict.fromkeys(EMOTIONS, 4)
        assert read_manifest(target)["emotion"].value_counts().to_dict() == expected
    with pytest.raises(InputError, match="Unknown shift 'tilt'"):
        make_shift_pair("tilt", root=tmp_path)


def test_a_skewed_mix_keeps_each_emotions_speaker_mix_in_a_corpus_stored_by_speaker():
    import pandas as pd

    # stored as <speaker>/<emotion>/<id>.wav (CASIA's layout): the first quarter of an emotion is one speaker
    stored = pd.DataFrame([{"speaker": speaker, "emotion": emotion, "path": f"{speaker}/{emotion}/{i}.wav"}
                           for speaker in ("s1", "s2", "s3", "s4") for emotion in EMOTIONS for i in range(10)])
    skewed = with_emotion_mix(stored, HALF_NEUTRAL)
    counts = skewed.groupby(["emotion", "speaker"]).size().unstack(fill_value=0)
    assert counts.loc["neutral"].tolist() == [10, 10, 10, 10]
    for emotion in ("anger", "fear", "happiness", "sadness"):
        assert counts.loc[emotion].sum() == 10 and counts.loc[emotion].max() - counts.loc[emotion].min() <= 1
    assert skewed.index.is_monotonic_increasing  # manifest order kept


def _snr_db(emotion: str, channel: Channel) -> float:
    """SNR of one utterance through ``channel``: its speech level against the noise-only recording's, dB."""
    clean = synthesize_utterance(emotion, 16000, seed=3, channel=dataclasses.replace(channel, snr_db=200.0))
    noisy = synthesize_utterance(emotion, 16000, seed=3, channel=channel)
    noise = noisy.astype(np.float64) - clean
    return active_level_dbfs(clean.astype(np.float64), 16000) - 10 * np.log10(np.mean(noise**2))


def test_noise_follows_each_utterances_speech_level_so_it_carries_no_emotion_cue():
    studio = dataclasses.replace(STUDIO_CHANNEL, snr_db=15.0, rt60_s=0.0)
    follows = [_snr_db(e, studio) for e in ("anger", "sadness")]
    fixed = [_snr_db(e, dataclasses.replace(studio, noise_follows_speech=False)) for e in ("anger", "sadness")]
    assert abs(follows[0] - follows[1]) < 1.5  # the same SNR whatever the emotion's loudness
    assert fixed[0] - fixed[1] > 4  # the old behaviour: loud anger, quiet sadness, a class cue in the SNR


def test_the_class_snr_pair_shares_its_mean_snr_and_differs_in_how_the_snr_follows_the_emotion():
    shift = SHIFTS["class-snr"]
    source = {e: _snr_db(e, shift.source.channel) for e in EMOTIONS}
    target = {e: _snr_db(e, shift.target.channel) for e in EMOTIONS}
    assert max(source.values()) - min(source.values()) < 1.5  # the source: one SNR for every emotion
    assert target["anger"] - target["sadness"] > 6  # the target: the SNR follows the emotion's loudness
    assert abs(np.mean(list(target.values())) - np.mean(list(source.values()))) < 1.5  # the same mean level


def test_a_target_known_to_lack_an_emotion_is_loaded_and_the_model_still_learns_it(tmp_path):
    from didan_lite.config import ExperimentConfig
    from didan_lite.task import load_task

    source, target = make_shift_pair("missing-class", root=tmp_path, n_per_emotion=4)
    config = ExperimentConfig(cache_dir=str(tmp_path / "cache"))
    with pytest.raises(InputError, match="fear"):
        load_task(source, target, emotions=list(EMOTIONS), config=config, progress=False)
    task = load_task(source, target, emotions=list(EMOTIONS), config=config, progress=False, absent_in_target=["fear"])
    assert task.class_names == list(EMOTIONS)
    assert EMOTIONS.index("fear") in task.source_all.y.tolist() and EMOTIONS.index("fear") not in task.target.y.tolist()
    with pytest.raises(InputError, match="named absent"):
        load_task(source, source, emotions=list(EMOTIONS), config=config, progress=False, absent_in_target=["fear"])
