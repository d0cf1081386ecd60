"""Audio loading, spectrograms, length policy, normalisation and the feature cache."""

from __future__ import annotations

import dataclasses

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

import didan_lite.features as features
import didan_lite.normalisation as normalisation
from didan_lite.errors import InputError
from didan_lite.features import (
    FeatureConfig, SpecMasks, extract_corpus, fix_length, load_audio, random_crop, spec_mask, spectrogram,
)
from didan_lite.normalisation import (
    corpus_statistics,
    normalise_by_group,
    shared_band,
    stack_normalised,
)
from didan_lite.manifest import read_manifest


def _chirp(sr: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    return (0.5 * np.sin(2 * np.pi * (200 + 300 * t) * t)).astype(np.float32)


@pytest.mark.parametrize("native_rate, subtype", [(44_100, "PCM_16"), (11_025, "PCM_U8"), (22_050, "FLOAT"), (16_000, "PCM_24")])
def test_load_audio_resamples_and_mixes_any_format(tmp_path, native_rate, subtype):
    mono = _chirp(native_rate)
    stereo = np.stack([mono, mono], axis=1)
    path = tmp_path / "x.wav"
    sf.write(path, stereo, native_rate, subtype=subtype)
    audio = load_audio(path, 16_000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 16_000) <= 2
    # the resampled chirp keeps its level and matches librosa's own resampling
    reference = librosa.resample(mono, orig_sr=native_rate, target_sr=16_000)
    assert np.abs(audio[: len(reference)] - reference[: len(audio)]).max() < 0.02


@pytest.mark.parametrize("kind", ["logmel", "stft"])
def test_spectrogram_matches_librosa(kind):
    config = FeatureConfig(kind=kind)
    audio = _chirp(16_000, 1.3) + 0.01 * np.random.default_rng(0).standard_normal(20_800).astype(np.float32)
    ours = spectrogram(audio, config).numpy()
    if kind == "logmel":
        power = librosa.feature.melspectrogram(y=audio, sr=16_000, n_fft=512, hop_length=160, win_length=400,
                                               n_mels=64, center=True, pad_mode="constant", power=2.0)
    else:
        power = np.abs(librosa.stft(audio, n_fft=512, hop_length=160, win_length=400, center=True, pad_mode="constant")) ** 2
    reference = librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None)
    assert ours.shape == reference.shape == (config.n_bins, 1 + len(audio) // 160)
    # float32 FFTs of two libraries differ by about 1e-2 dB in bins 30 dB or more below the peak
    assert np.abs(ours - reference).max() < 0.05  # dB


def test_spectrogram_batches_like_single_signals():
    batch = np.stack([_chirp(16_000), _chirp(16_000)[::-1].copy()])
    together = spectrogram(batch)
    assert torch.allclose(together[1], spectrogram(batch[1]), atol=1e-4)


def test_fix_length_crops_centre_and_pads_with_value():
    spec = torch.arange(10.0).repeat(3, 1)
    assert fix_length(spec, 4).tolist()[0] == [3.0, 4.0, 5.0, 6.0]
    assert fix_length(spec, 4, "start").tolist()[0] == [0.0, 1.0, 2.0, 3.0]
    padded = fix_length(spec, 14, pad_value=-1.0)
    assert padded.shape == (3, 14) and padded[0, :2].tolist() == [-1.0, -1.0] and padded[0, 2:12].tolist() == list(range(10))


def test_random_crop_takes_contiguous_windows():
    batch = torch.arange(20.0).repeat(5, 2, 1)
    crops = random_crop(batch, 6, torch.Generator().manual_seed(0))
    assert crops.shape == (5, 2, 6)
    assert torch.all(crops[:, :, 1:] - crops[:, :, :-1] == 1)  # consecutive frames
    assert len({float(c) for c in crops[:, 0, 0]}) > 1  # offsets differ between examples


def test_spec_masks_zero_contiguous_bands_and_spans_within_their_widths():
    batch = torch.ones(200, 64, 125)
    masked = spec_mask(batch, SpecMasks(freq_masks=1, max_bins=8, time_masks=0), torch.Generator().manual_seed(0))
    zero_bins = (masked == 0).all(2)  # (B, bins): a whole bin zeroed across time
    widths = zero_bins.sum(1)
    assert (masked == 0).sum() == 125 * widths.sum()  # nothing else zeroed
    assert widths.max() <= 8 and set(widths.tolist()) == set(range(9))  # 0 to 8 bins, every width drawn
    first = zero_bins.float().argmax(1)
    for row, start, width in zip(zero_bins, first, widths):
        assert row[start : start + width].all()  # one contiguous band
    assert len(set(first[widths > 0].tolist())) > 10  # positions differ between examples
    spans = spec_mask(batch, SpecMasks(freq_masks=0, time_masks=2, max_frames=12), torch.Generator().manual_seed(1))
    assert ((spans == 0).all(1).sum(1) <= 24).all() and ((spans == 0).any(1) == (spans == 0).all(1)).all()


def test_spec_masks_are_drawn_from_the_generator_given():
    batch = torch.randn(8, 16, 30)
    first, again = (spec_mask(batch, SpecMasks(), torch.Generator().manual_seed(4)) for _ in range(2))
    assert torch.equal(first, again) and not torch.equal(first, spec_mask(batch, SpecMasks(), torch.Generator().manual_seed(5)))
    assert torch.equal(spec_mask(batch, SpecMasks(0, 8, 0, 12)), batch)  # no masks: unchanged
    wider = spec_mask(torch.ones(300, 4, 5), SpecMasks(1, 99, 0, 0), torch.Generator().manual_seed(0))
    widths = (wider == 0).all(2).sum(1)  # a width beyond the axis is drawn up to the axis, never beyond
    assert set(widths.tolist()) == {0, 1, 2, 3, 4} and (widths < 4).sum() > 200
    with pytest.raises(InputError, match=r"got shape \(4, 5\)"):
        spec_mask(torch.ones(4, 5), SpecMasks())


@pytest.mark.parametrize("bad", [dict(freq_masks=-1), dict(max_bins=2.5), dict(time_masks=True)])
def test_spec_masks_refuse_settings_that_are_not_counts(bad):
    with pytest.raises(InputError, match=f"SpecMasks {next(iter(bad))}=.* is not a whole number >= 0"):
        SpecMasks(**bad)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.write_bytes(b""), "empty"),
        (lambda p: p.write_bytes(b"RIFF\x00\x01garbage" * 10), "cannot be decoded"),
        (lambda p: sf.write(p, np.zeros(16_000, np.float32), 16_000), "silent"),
        (lambda p: sf.write(p, np.full(16_000, np.nan, np.float32), 16_000, subtype="FLOAT"), "NaN"),
    ],
    ids=["missing", "empty", "corrupt", "silent", "nan"],
)
def test_bad_audio_gets_a_clear_error_naming_the_file(tmp_path, make, message):
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(InputError, match=message) as caught:
        load_audio(path)
    assert str(path) in str(caught.value)


def test_too_short_audio_is_refused():
    with pytest.raises(InputError, match="shorter than one analysis window"):
        spectrogram(np.ones(100, np.float32))


def test_normalisation_uses_the_corpus_statistics():
    rng = np.random.default_rng(0)
    specs = [rng.normal(5.0, 3.0, (4, n)) for n in (30, 50, 70)]
    stats = corpus_statistics(specs)
    stacked = stack_normalised(specs, stats, 60)
    assert stacked.shape == (3, 4, 60)
    frames = np.concatenate([(s - stats.mean[:, None]) / stats.std[:, None] for s in specs], axis=1)
    assert np.allclose(frames.mean(1), 0, atol=1e-5) and np.allclose(frames.std(1), 1, atol=1e-3)
    with pytest.raises(InputError, match="NaN"):
        corpus_statistics([np.full((4, 5), np.nan)])


def test_group_normalisation_uses_each_groups_statistics():
    rng = np.random.default_rng(1)
    # two "speakers" with different levels: per-speaker statistics remove the level, per-corpus ones keep it
    specs = [rng.normal(level, 2.0, (4, 40)).astype(np.float32) for level in (0.0, 0.0, 10.0, 10.0)]
    speakers = ["a", "a", "b", "b"]
    by_speaker = normalise_by_group(specs, speakers, 40)
    assert by_speaker.shape == (4, 4, 40)
    for members in ([0, 1], [2, 3]):
        frames = by_speaker[members].permute(1, 0, 2).reshape(4, -1).numpy()
        assert np.allclose(frames.mean(1), 0, atol=1e-4) and np.allclose(frames.std(1), 1, atol=1e-2)
    by_corpus = normalise_by_group(specs, [0] * 4, 40)
    assert torch.allclose(by_corpus, stack_normalised(specs, corpus_statistics(specs), 40))
    assert by_corpus[2:].mean() - by_corpus[:2].mean() > 1.5
    with pytest.raises(ValueError, match="3 group labels for 4"):
        normalise_by_group(specs, speakers[:3], 40)


def test_shared_band_keeps_the_bins_every_corpus_records():
    rng = np.random.default_rng(2)
    wide = [rng.normal(-30.0, 3.0, (8, 50)) for _ in range(3)]
    narrow = [np.concatenate([rng.normal(-30.0, 3.0, (6, 50)), rng.normal(-95.0, 3.0, (2, 50))]) for _ in range(3)]
    assert shared_band([wide, wide], 40.0).all()
    assert shared_band([wide, narrow], 40.0).tolist() == [True] * 6 + [False] * 2
    assert shared_band([narrow, wide], 80.0).all()  # a floor below the gap keeps everything


def test_cache_is_keyed_by_content_and_settings(make_tone_corpus, tmp_path, monkeypatch):
    manifest = read_manifest(make_tone_corpus("c", per_class=2))
    cache = tmp_path / "cache"
    first = extract_corpus(manifest, cache_dir=cache, progress=False)
    entries = list(cache.rglob("*.npy"))
    assert len(entries) == len(manifest)

    def refuse(*args, **kwargs):
        raise AssertionError("audio was decoded although the cache holds it")

    monkeypatch.setattr(features, "load_audio", refuse)
    renamed = manifest.copy()
    moved = tmp_path / "elsewhere.wav"
    moved.write_bytes(open(manifest.loc[0, "path"], "rb").read())
    renamed.loc[0, "path"] = str(moved)
    second = extract_corpus(renamed, cache_dir=cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first.spectrograms, second.spectrograms))
    with pytest.raises(AssertionError, match="decoded"):  # other settings: another cache entry
        extract_corpus(manifest, FeatureConfig(n_mels=40), cache_dir=cache, progress=False)


def test_interrupted_cache_write_leaves_no_entry(make_tone_corpus, tmp_path, monkeypatch):
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    cache = tmp_path / "cache"

    def crash(handle, array):
        handle.write(b"\x93NUMPY half")
        raise KeyboardInterrupt

    monkeypatch.setattr(features.np, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        extract_corpus(manifest, cache_dir=cache, progress=False)
    entries = [p for p in cache.rglob("*") if p.is_file() and p.parent.name != features.STAT_INDEX]
    assert entries == []  # no spectrogram entry, partial or final (the file's digest may be noted: it is right)


def test_unreadable_files_are_skipped_with_one_warning_or_fatal_when_strict(make_tone_corpus, tmp_path):
    manifest = read_manifest(make_tone_corpus("c", per_class=2))
    open(manifest.loc[1, "path"], "wb").write(b"not audio at all")
    with pytest.warns(UserWarning, match="Skipped 1 unreadable file"):
        result = extract_corpus(manifest, cache_dir=tmp_path / "cache", progress=False)
    assert len(result.spectrograms) == len(manifest) - 1
    assert result.skipped[0][0] == manifest.loc[1, "path"]
    assert manifest.loc[1, "path"] not in set(result.manifest["path"])
    with pytest.raises(InputError, match="cannot be decoded"):
        extract_corpus(manifest, cache_dir=tmp_path / "cache", strict=True, progress=False)


def _speech_like(seed: int = 0, seconds: float = 0.8) -> np.ndarray:
    """A modulated harmonic sound with noise (no exact zeros), as a stand-in for an utterance."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(16_000 * seconds)) / 16_000
    voice = sum(np.sin(2 * np.pi * k * 180 * t) / k for k in range(1, 6)) * (1.2 + np.sin(2 * np.pi * 4 * t))
    return (0.2 * voice + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


def _corpus(signals) -> features.CorpusFeatures:
    """Spectrograms of ``signals`` as one corpus (no files: the manifest only names them)."""
    manifest = pd.DataFrame({"path": [f"u{i}.wav" for i in range(len(signals))], "speaker": "s", "corpus": "c"})
    return features.CorpusFeatures([spectrogram(s).numpy() for s in signals], manifest, [])


def test_front_end_gives_the_same_input_at_any_gain():
    config = FeatureConfig(band_floor_db=None)
    signals = [_speech_like(seed) for seed in range(4)]
    loud = normalisation.normalised_tensors([_corpus(signals)], 120, config=config)[0]
    # every utterance at its own gain: the level cue is gone from each input, and the corpus statistics agree
    quiet = normalisation.normalised_tensors([_corpus([g * s for g, s in zip((0.05, 0.3, 2.0, 0.01), signals)])], 120,
                                        config=config)[0]
    assert torch.allclose(loud, quiet, atol=1e-3)
    # without the front end the gains reach the model
    raw = normalisation.normalised_tensors([_corpus([g * s for g, s in zip((0.05, 0.3, 2.0, 0.01), signals)])], 120)[0]
    assert not torch.allclose(raw, loud, atol=0.1)


def test_front_end_trims_silence_and_padding_so_none_reaches_the_model():
    config = FeatureConfig(band_floor_db=None)
    speech = _speech_like(1)
    padded = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(12_000, np.float32)])  # 0.5 s + 0.75 s of zeros
    spec, voiced = normalisation.front_end(spectrogram(padded).numpy(), config)
    bare, _ = normalisation.front_end(spectrogram(speech).numpy(), config)
    assert abs(spec.shape[1] - bare.shape[1]) <= 4 and voiced[0] and voiced[-1]  # the padding is cut
    assert spec.min() > -100.0 + 20  # no frame of the -100 dB floor is left
    # the stacked input of a short utterance is the utterance repeated: no column of padding
    x = normalisation.normalised_tensors([_corpus([padded, _speech_like(2, 3.0)])], 200, config=config)[0]
    short = x[0]
    n = spec.shape[1]
    assert n < 200 and torch.equal(short[:, n : 2 * n], short[:, :n])
    assert not any(torch.all(short[:, j] == short[0, j]) for j in range(200))  # no constant (padding) column


def test_fix_length_tiles_a_short_spectrogram():
    spec = torch.arange(6.0).reshape(2, 3)
    assert fix_length(spec, 7, tile=True)[0].tolist() == [0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0]
    assert fix_length(spec, 2, tile=True)[0].tolist() == [0.0, 1.0]  # long ones are still centre-cropped


def test_corpus_statistics_use_voiced_frames_only():
    spec = np.array([[0.0, 10.0, -50.0]], np.float32)
    stats = corpus_statistics([spec], [np.array([True, True, False])])
    assert stats.mean.tolist() == [5.0]


def test_default_front_end_keeps_only_the_band_both_corpora_record():
    """The default ``band_floor_db``: a telephone-band copy zeroes the bins it lacks in *both* corpora; a pair
    recording the same band is left exactly as without the mask."""
    from scipy import signal as scipy_signal

    from didan_lite.config import ExperimentConfig

    config = FeatureConfig()
    floor = config.band_floor_db
    assert floor is not None and ExperimentConfig().features.band_floor_db == floor
    hiss = np.random.default_rng(5).standard_normal((4, len(_speech_like(0)))).astype(np.float32)
    wide = [_speech_like(seed) + 0.02 * hiss[seed] for seed in range(4)]  # every bin recorded
    band = scipy_signal.butter(8, [300.0, 3400.0], btype="bandpass", fs=16000, output="sos")
    narrow = [scipy_signal.sosfilt(band, s).astype(np.float32) for s in wide]
    masked = normalisation.normalised_tensors([_corpus(wide), _corpus(narrow)], 120, config=config)
    kept = normalisation.shared_band([_corpus(narrow).spectrograms], floor)
    assert normalisation.shared_band([_corpus(wide).spectrograms], floor).all()
    assert 0 < (~kept).sum() < kept.size - 8 and not kept[0] and not kept[-1]  # below 300 Hz and above 3.4 kHz go
    for x in masked:
        assert torch.count_nonzero(x[:, torch.from_numpy(~kept)]) == 0 and torch.count_nonzero(x[:, torch.from_numpy(kept)]) > 0
    same = normalisation.normalised_tensors([_corpus(wide), _corpus(wide[::-1])], 120, config=config)
    plain = normalisation.normalised_tensors([_corpus(wide), _corpus(wide[::-1])], 120,
                                             config=dataclasses.replace(config, band_floor_db=None))
    assert all(torch.equal(a, b) for a, b in zip(same, plain))
