"""The embedded synthetic corpora: determinism, manifest, emotion prosody, corpus differences, caching."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy import signal

from didan_lite import synthetic
from didan_lite.synthetic import generate
from didan_lite.errors import InputError
from didan_lite.folders import LOCK_FILE, hold_folder
from didan_lite.manifest import read_manifest
from didan_lite.synthetic import (
    DEFAULT_SOURCE,
    DEFAULT_TARGET,
    EMOTIONS,
    GERMAN_LIKE,
    draw_speakers,
    draw_text,
    generate_corpus,
    make_default_corpora,
    synthesize_utterance,
)

SMALL = 10  # two utterances per emotion: enough for every property below, fast to write


def _wav_bytes(manifest: Path) -> dict[str, bytes]:
    folder = manifest.parent
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.wav"))}


@pytest.fixture(scope="module")
def small_pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pair")
    return generate_corpus(DEFAULT_SOURCE, root, seed=0, n_utterances=SMALL), generate_corpus(
        DEFAULT_TARGET, root, seed=0, n_utterances=SMALL
    )


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_files_and_other_seed_other_audio(tmp_path, small_pair):
    again = generate_corpus(DEFAULT_SOURCE, tmp_path / "again", seed=0, n_utterances=SMALL)
    assert _wav_bytes(again) == _wav_bytes(small_pair[0])
    assert again.read_bytes() == small_pair[0].read_bytes()

    other = generate_corpus(DEFAULT_SOURCE, tmp_path / "other", seed=1, n_utterances=SMALL)
    first, second = _wav_bytes(small_pair[0]), _wav_bytes(other)
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_each_utterance_depends_on_its_index_only(tmp_path, small_pair):
    """Per-utterance seeds: a larger corpus starts with exactly the files of the smaller one."""
    larger = _wav_bytes(generate_corpus(DEFAULT_SOURCE, tmp_path, seed=0, n_utterances=2 * SMALL))
    smaller = _wav_bytes(small_pair[0])
    assert len(larger) == 2 * SMALL
    assert {name: larger[name] for name in smaller} == smaller


# --- manifest and files -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", [DEFAULT_SOURCE, DEFAULT_TARGET], ids=lambda s: s.name)
def test_manifest_is_balanced_and_files_match_the_spec(tmp_path, spec):
    n = 8 * len(EMOTIONS)
    frame = read_manifest(generate_corpus(spec, tmp_path, seed=0, n_utterances=n))
    assert len(frame) == n
    assert set(frame["corpus"]) == {spec.name} and spec.name.startswith("synth-")
    assert frame["emotion"].value_counts().to_dict() == {e: n // len(EMOTIONS) for e in EMOTIONS}

    speakers = draw_speakers(spec.population, 0, spec.name)
    assert set(frame["speaker"]) == {s.speaker_id for s in speakers[: n // len(EMOTIONS)]}
    genders = frame.drop_duplicates("speaker").set_index("speaker")["gender"].to_dict()
    assert genders == {s.speaker_id: s.gender for s in speakers if s.speaker_id in genders}
    n_female = sum(s.gender == "female" for s in speakers)
    assert n_female == round(spec.population.n_speakers * spec.population.female_fraction)
    # every speaker says each of its texts in every emotion (EmoDB-like design)
    assert (frame.groupby(["speaker", "text_id"])["emotion"].nunique() == len(EMOTIONS)).all()

    for path in frame["path"]:
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (spec.channel.sample_rate, 1, "PCM_16")
        assert Path(path).parent.name == frame.loc[frame["path"] == path, "speaker"].item()
        assert 0.8 < info.duration < 5.0


def test_specs_say_they_are_synthetic_and_reject_bad_settings():
    for spec in (DEFAULT_SOURCE, DEFAULT_TARGET):
        assert spec.name.startswith("synth-") and "synthetic" in spec.description.lower()
        assert 300 <= spec.n_utterances <= 600
    assert DEFAULT_SOURCE.channel.sample_rate != DEFAULT_TARGET.channel.sample_rate
    with pytest.raises(InputError, match="synth-"):
        dataclasses.replace(DEFAULT_SOURCE, name="studio")
    with pytest.raises(InputError, match="multiple"):
        dataclasses.replace(DEFAULT_SOURCE, n_utterances=7)
    with pytest.raises(InputError, match="boredom"):
        dataclasses.replace(DEFAULT_SOURCE, emotions=("anger", "boredom"))
    with pytest.raises(InputError, match="Unknown emotion"):
        synthesize_utterance("joy")


def test_utterance_is_float32_mono_in_range_at_the_requested_rate():
    for rate in (8000, 16000, 44100):
        channel = DEFAULT_TARGET.channel if rate == DEFAULT_TARGET.channel.sample_rate else None
        audio = synthesize_utterance("happiness", rate, seed=3, channel=channel)
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert np.abs(audio).max() <= 1.0 and np.abs(audio).max() > 0.01
        assert 0.8 < audio.size / rate < 5.0


# --- emotion prosody --------------------------------------------------------------------------


def _dry_utterances(emotion: str, n: int = 6) -> list[np.ndarray]:
    """Same speaker and sentence, different seeds, no channel: only the emotion (and its variation) differs."""
    speaker = draw_speakers(DEFAULT_SOURCE.population, 0, DEFAULT_SOURCE.name)[1]
    text = draw_text(GERMAN_LIKE, np.random.default_rng(0))
    return [synthesize_utterance(emotion, 16000, seed=s, speaker=speaker, text=text) for s in range(n)]


def _median_f0(audio: np.ndarray) -> float:
    f0 = librosa.yin(audio, fmin=60, fmax=600, sr=16000, frame_length=1024, hop_length=512)
    rms = librosa.feature.rms(y=audio, frame_length=1024, hop_length=512)[0][: f0.size]
    return float(np.median(f0[rms > 0.3 * rms.max()]))


def _active_level_db(audio: np.ndarray) -> float:
    rms = librosa.feature.rms(y=audio, frame_length=512, hop_length=256)[0]
    return float(20 * np.log10(np.sqrt(np.mean(rms[rms > 0.1 * rms.max()] ** 2))))


def _high_band_share_db(audio: np.ndarray, rate: int, edge_hz: float) -> float:
    """Energy above ``edge_hz`` relative to all energy, dB."""
    frequencies, power = signal.welch(audio, fs=rate, nperseg=1024)
    return float(10 * np.log10(power[frequencies > edge_hz].sum() / power.sum()))


@pytest.fixture(scope="module")
def dry() -> dict[str, list[np.ndarray]]:
    return {emotion: _dry_utterances(emotion) for emotion in ("anger", "fear", "neutral", "sadness")}


def test_anger_has_higher_pitch_than_neutral_and_sadness(dry):
    f0 = {e: np.mean([_median_f0(a) for a in dry[e]]) for e in dry}
    assert f0["anger"] > f0["neutral"] > f0["sadness"]
    assert f0["fear"] > f0["neutral"]
    # the table says anger/sadness = 1.45/0.85; per-utterance intensity u in [0.75, 1] shrinks it
    assert f0["anger"] / f0["sadness"] > 2 ** (3 / 12)  # at least three semitones apart


def test_anger_is_louder_and_brighter_than_sadness(dry):
    level = {e: np.mean([_active_level_db(a) for a in dry[e]]) for e in dry}
    assert level["anger"] > level["neutral"] > level["sadness"]
    assert level["anger"] - level["sadness"] > 4.0
    bright = {e: np.mean([_high_band_share_db(a, 16000, 1000.0) for a in dry[e]]) for e in dry}
    assert bright["anger"] > bright["neutral"] > bright["sadness"]


def test_sadness_is_slower_than_anger_and_fear(dry):
    seconds = {e: np.mean([a.size / 16000 for a in dry[e]]) for e in dry}
    assert seconds["sadness"] > seconds["neutral"] > seconds["anger"]
    assert seconds["sadness"] > seconds["fear"]


def test_utterances_of_one_emotion_vary():
    """Per-utterance variation: same speaker, text and emotion, different seeds -> different F0 and length."""
    audios = _dry_utterances("neutral", n=4)
    assert len({a.size for a in audios}) > 1
    assert np.ptp([_median_f0(a) for a in audios]) > 1.0


# --- the corpora differ -----------------------------------------------------------------------


def _corpus_audio(manifest: Path) -> list[tuple[np.ndarray, int]]:
    return [sf.read(path, dtype="float32") for path in read_manifest(manifest)["path"]]


def test_target_is_telephone_band_and_noisier(small_pair):
    source, target = (_corpus_audio(m) for m in small_pair)
    high_source = np.median([_high_band_share_db(a, rate, 4000.0) for a, rate in source])
    high_target = np.median([_high_band_share_db(a, rate, 4000.0) for a, rate in target])
    assert high_target < high_source - 20.0

    def floor_db(audio: np.ndarray) -> float:
        """Quietest frames (noise floor) relative to the loudest (speech), dB."""
        rms = librosa.feature.rms(y=audio, frame_length=512, hop_length=256)[0]
        return float(20 * np.log10(np.percentile(rms, 5) / np.percentile(rms, 95)))

    floor_source = np.median([floor_db(a) for a, _ in source])
    floor_target = np.median([floor_db(a) for a, _ in target])
    assert floor_target > floor_source + 10.0


def test_corpora_have_different_speakers_and_voices(small_pair):
    source, target = (read_manifest(m) for m in small_pair)
    assert not set(source["speaker"]) & set(target["speaker"])
    assert DEFAULT_SOURCE.language != DEFAULT_TARGET.language
    assert DEFAULT_SOURCE.population != DEFAULT_TARGET.population


# --- caching and interruption -----------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """Count the utterances synthesised by ``generate_corpus``."""
    calls = [0]
    real = generate.synthesize_utterance

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(generate, "synthesize_utterance", counting)
    return calls


def test_complete_generation_is_reused(tmp_path, counted):
    manifest = generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5)
    assert counted[0] == 5
    mtimes = {p: p.stat().st_mtime_ns for p in manifest.parent.rglob("*")}
    assert generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5) == manifest
    assert counted[0] == 5
    assert {p: p.stat().st_mtime_ns for p in manifest.parent.rglob("*")} == mtimes


def test_interrupted_generation_is_redone(tmp_path, monkeypatch, small_pair):
    real, calls = generate.synthesize_utterance, [0]

    def dies_on_the_seventh(*args, **kwargs):
        calls[0] += 1
        if calls[0] == 7:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(generate, "synthesize_utterance", dies_on_the_seventh)
    with pytest.raises(KeyboardInterrupt):
        generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=SMALL)
    corpus = tmp_path / DEFAULT_SOURCE.name
    assert not (corpus / synthetic.STAMP_NAME).exists() and not (corpus / "manifest.csv").exists()
    assert len(list(corpus.rglob("*.wav"))) == 6

    calls[0] = -100  # no more interruptions
    manifest = generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=SMALL)
    assert calls[0] == -100 + SMALL  # everything regenerated, nothing taken as complete
    assert _wav_bytes(manifest) == _wav_bytes(small_pair[0])


@pytest.mark.parametrize("damage", ["stamp", "truncate", "delete"])
def test_damaged_generation_is_regenerated(tmp_path, counted, damage):
    manifest = generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5)
    expected = _wav_bytes(manifest)
    victim = sorted(manifest.parent.rglob("*.wav"))[2]
    if damage == "stamp":
        (manifest.parent / synthetic.STAMP_NAME).unlink()
    elif damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:1000])
    else:
        victim.unlink()
    stray = manifest.parent / victim.parent.name / f".{victim.name}.abc.part"
    stray.write_bytes(b"half a file")

    assert generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5) == manifest
    assert counted[0] == 10
    assert _wav_bytes(manifest) == expected
    assert not stray.exists()


def test_other_size_or_seed_regenerates_and_drops_old_files(tmp_path, counted):
    generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=10)
    manifest = generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5)
    assert counted[0] == 15
    assert len(list(manifest.parent.rglob("*.wav"))) == 5 == len(read_manifest(manifest))
    generate_corpus(DEFAULT_SOURCE, tmp_path, seed=2, n_utterances=5)
    assert counted[0] == 20


def _held_by_another_process(folder: Path, then: str = "time.sleep(120)") -> subprocess.Popen:
    """A process that holds ``folder`` (:func:`hold_folder`), prints ``held``, runs ``then`` and lets go."""
    code = (f"import pathlib, time\nfrom didan_lite.folders import hold_folder\nwith hold_folder({str(folder)!r}):\n"
            f"    print('held', flush=True)\n    {then}")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_generation_waits_for_another_process_on_the_folder_and_reuses_its_files(tmp_path, counted):
    """Two benches started together generate one target: the second waits for the first's lock instead of
    regenerating beside it, and so never removes the first's files (a shift's subset manifest among them)."""
    manifest = generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5)
    corpus, synthesised = manifest.parent, counted[0]
    subset = corpus / "manifest-label-shift.csv"  # what make_shift_pair writes beside the corpus
    subset.write_text("path,emotion\n")
    stamp = corpus / synthetic.STAMP_NAME
    finished = stamp.read_text()
    stamp.unlink()  # the folder as another process leaves it mid-generation: no stamp yet
    # that process: it holds the folder, then writes its stamp and lets go
    holder = _held_by_another_process(corpus, f"time.sleep(2); pathlib.Path({str(stamp)!r}).write_text({finished!r})")
    try:
        assert generate_corpus(DEFAULT_SOURCE, tmp_path, n_utterances=5) == manifest
    finally:
        holder.kill()
        holder.wait()
    assert counted[0] == synthesised, "nothing regenerated: the other process's files were reused"
    assert subset.is_file() and not (corpus / LOCK_FILE).exists()


def test_a_wait_for_a_held_folder_ends_with_one_line(tmp_path):
    holder = _held_by_another_process(tmp_path)
    try:
        began = time.monotonic()
        with pytest.raises(InputError, match=f"in use by another run \\(process {holder.pid} "):
            with hold_folder(tmp_path, wait_s=1.5):
                pass
        assert time.monotonic() - began >= 1.0, "it waited before giving up"
    finally:
        holder.kill()
        holder.wait()


def test_make_default_corpora_honours_didan_lite_data(tmp_path, monkeypatch, counted):
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path))
    monkeypatch.setattr(generate, "DEFAULT_SOURCE", dataclasses.replace(DEFAULT_SOURCE, n_utterances=5))
    monkeypatch.setattr(generate, "DEFAULT_TARGET", dataclasses.replace(DEFAULT_TARGET, n_utterances=5))
    source, target = make_default_corpora()
    assert source == tmp_path / "synthetic" / DEFAULT_SOURCE.name / "manifest.csv"
    assert target == tmp_path / "synthetic" / DEFAULT_TARGET.name / "manifest.csv"
    assert len(read_manifest(source)) == len(read_manifest(target)) == 5

    monkeypatch.delenv("DIDAN_LITE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert synthetic.default_root() == tmp_path / "home" / ".cache" / "didan_lite" / "synthetic"


def _band_fraction(path: str, low: float, high: float) -> float:
    audio, rate = sf.read(path)
    freqs, power = signal.welch(audio, rate, nperseg=512)
    return float(power[(freqs >= low) & (freqs <= high)].sum() / power.sum())


def _noise_corpus(folder: Path, speakers: list[str]) -> pd.DataFrame:
    """Broadband noise bursts at 22.05 kHz, each louder than the one before."""
    rng = np.random.default_rng(0)
    rows = []
    for index, speaker in enumerate(speakers):
        path = folder / f"u{index}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, (0.1 * (1 + index) * rng.standard_normal(22050)).astype(np.float32), 22050)
        rows.append({"path": str(path), "emotion": ("anger", "sadness")[index % 2], "speaker": speaker, "corpus": "noise"})
    return pd.DataFrame(rows)


def test_rerecord_corpus_imposes_the_channel_and_resumes(tmp_path):
    telephone = synthetic.TELEPHONE_CHANNEL
    source = _noise_corpus(tmp_path / "src", ["s0", "s1", "s0", "../../escape"])
    out = tmp_path / "noise-telephone"
    manifest = synthetic.rerecord_corpus(source, out, telephone, tag="telephone", progress=False)
    copy = read_manifest(manifest)
    assert len(copy) == 4 and set(copy["corpus"]) == {"noise-telephone"}
    assert list(copy["emotion"]) == list(source["emotion"]) and list(copy["speaker"]) == list(source["speaker"])
    assert all(Path(path).parent == out.resolve() for path in copy["path"])  # no speaker label leaves the folder
    assert all(sf.info(path).samplerate == telephone.sample_rate for path in copy["path"])
    for original, copied in zip(source["path"], copy["path"]):
        assert _band_fraction(original, 4000, 8000) > 0.2 and _band_fraction(copied, 4000, 8000) < 0.02
    # the level is set once for the corpus: louder originals stay louder
    levels = [np.sqrt(np.mean(sf.read(path)[0] ** 2)) for path in copy["path"]]
    assert levels == sorted(levels) and levels[3] / levels[0] > 2  # 4x louder before the channel
    before = {path: (Path(path).stat().st_mtime_ns, sf.read(path)[0]) for path in copy["path"]}
    Path(copy["path"][2]).unlink()  # an interrupted run: one file missing
    synthetic.rerecord_corpus(source, out, telephone, tag="telephone", progress=False)
    for path, (stamp, audio) in before.items():
        assert np.array_equal(sf.read(path)[0], audio)  # the missing file is made again, identically
        assert path == copy["path"][2] or Path(path).stat().st_mtime_ns == stamp  # the others are reused
    with pytest.raises(InputError, match="another seed"):
        synthetic.rerecord_corpus(source, out, telephone, tag="telephone", seed=1, progress=False)


def test_rerecord_corpus_refuses_bad_input_before_writing(tmp_path):
    source = _noise_corpus(tmp_path / "src", ["s0", "s1"])
    broken = tmp_path / "src" / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not audio")
    bad = pd.concat([source, pd.DataFrame([{"path": str(broken), "emotion": "anger", "speaker": "s0", "corpus": "noise"}])])
    with pytest.raises(InputError, match="broken.wav"):
        synthetic.rerecord_corpus(bad, tmp_path / "copy", synthetic.TELEPHONE_CHANNEL, progress=False)
    assert not (tmp_path / "copy").exists()  # nothing written: the same folder works once the file is dropped
    synthetic.rerecord_corpus(source, tmp_path / "copy", synthetic.TELEPHONE_CHANNEL, progress=False)
    with pytest.raises(InputError, match="holds no re-recording"):
        synthetic.rerecord_corpus(source, tmp_path / "src", synthetic.TELEPHONE_CHANNEL, progress=False)
    (tmp_path / "copy" / "rerecording.json").write_text("{not json")
    with pytest.raises(InputError, match="damaged"):
        synthetic.rerecord_corpus(source, tmp_path / "copy", synthetic.TELEPHONE_CHANNEL, progress=False)
