"""Bad inputs to the public API a notebook calls (issue 29, third reliability pass; issue 25's "learned" guard).

Each row calls one library function with one hostile argument and expects an
:class:`~didan_lite.errors.InputError` of one line holding the given words
(never a traceback from deep inside, never a silent wrong figure). Rows that
check a value rather than a refusal are tests of their own below the table.

==  =====================================================  ==============================================
 4  verdict arguments (n_classes, confidence)              ROWS["verdict-n-classes-*"], ["verdict-confidence-*"],
                                                           test_runs_that_learned_nothing_never_help
 5  a reference file that lies or is damaged               test_a_reference_record_is_validated_at_load
10  library calls: stereo player, FeatureConfig ranges,    test_a_stereo_array_plays_at_its_own_pitch,
    confusion labels, exercise checks on copies            ROWS["feature-*"], ["confusion-*"],
                                                           test_code_checks_run_the_students_function_on_copies
11  a NaN sample given to the player                       ROWS["player-nan"]
17  a tampered pretrained sidecar                          test_a_tampered_sidecar_is_refused_before_any_work
21  a streamed WAV (RIFF and data sizes 0)                 test_a_streamed_wav_is_read_to_its_end
22  load_audio(sample_rate=0)                              ROWS["load-audio-rate-0"]
23  dicts, strings, two-value answers, empty plots         ROWS["verdict-metrics-*"], ["compare-*"], ["player-*"],
                                                           ["curves-unknown-key"], test_exercise_5_1_names_a_two_value_answer
25  (issue 25) a missing held-out figure                   test_a_missing_held_out_figure_gives_no_verdict
==  =====================================================  ==============================================
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from didan_lite.errors import InputError
from didan_lite.experiment import compare
from didan_lite.features import FeatureConfig, load_audio
from didan_lite.listening import audio_player, encode_clip, trim_loudest
from didan_lite.plots import plot_confusion, plot_training_curves
from didan_lite.verdicts import NOT_MEASURED, paired_verdict


def _runs(learned: float = 0.1, noisy: bool = False) -> pd.DataFrame:
    """Five paired seeds: ida 2 points above source-only (noisy: +/- 10 points), held-out source UAR ``learned``."""
    spread = np.array([-9.0, 11.0, 8.0, -7.0, 7.0]) if noisy else np.array([1.5, 2.5, 1.8, 2.2, 2.0])
    rows = []
    for seed, step in enumerate(spread):
        rows += [{"method": "ida", "seed": seed, "target_uar": 0.4 + step / 100, "source_uar": learned},
                 {"method": "source-only", "seed": seed, "target_uar": 0.4, "source_uar": learned}]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def metrics_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("metrics") / "metrics.json"
    path.write_text(json.dumps({"runs": _runs(0.7).to_dict(orient="records")}))
    return path


ROWS: dict[str, tuple[Callable[[], object], tuple[str, ...]]] = {
    # 4: every argument of the verdict
    "verdict-n-classes-negative": (lambda: paired_verdict(_runs(), "ida", n_classes=-5), ("n_classes=-5", ">= 2")),
    "verdict-n-classes-zero": (lambda: paired_verdict(_runs(), "ida", n_classes=0), ("n_classes=0",)),
    "verdict-n-classes-text": (lambda: paired_verdict(_runs(), "ida", n_classes="5"), ("n_classes='5'",)),
    "verdict-confidence-zero": (lambda: paired_verdict(_runs(0.7, True), "ida", n_classes=5, confidence=0),
                                ("confidence=0", "(0, 1)")),
    "verdict-confidence-negative": (lambda: paired_verdict(_runs(0.7, True), "ida", n_classes=5, confidence=-1),
                                    ("confidence=-1",)),
    "verdict-confidence-percent": (lambda: paired_verdict(_runs(0.7), "ida", n_classes=5, confidence=95),
                                   ("confidence=95", "0.95")),
    # 23: a metrics.json dict that is not one
    "verdict-metrics-without-runs": (lambda: paired_verdict({"config": {}}, "ida", n_classes=5), ("'runs'", "metrics['runs']")),
    "verdict-metrics-missing-path": (lambda: paired_verdict("no/such/metrics.json", "ida", n_classes=5),
                                     ("no/such/metrics.json", "metrics.json")),
    # 10: feature settings that give a spectrogram of nothing
    "feature-fmin-above-fmax": (lambda: FeatureConfig(fmin=5000, fmax=1000), ("fmin=5000", "fmax=1000")),
    "feature-fmax-above-nyquist": (lambda: FeatureConfig(fmax=12_000), ("fmax=12000", "8000 Hz")),
    "feature-no-mel-bands": (lambda: FeatureConfig(n_mels=0), ("n_mels=0", ">= 1")),
    "confusion-two-names-for-three": (lambda: plot_confusion(np.eye(3), ["anger", "sadness"]), ("(3, 3)", "2 class name")),
    "confusion-not-square": (lambda: plot_confusion(np.ones((2, 3)), ["a", "b"]), ("(2, 3)", "square")),
    # 11, 23: the player
    "player-nan": (lambda: encode_clip(np.r_[np.zeros(8000), np.nan].astype(np.float32), 16_000), ("1 NaN", "nan_to_num")),
    "player-rate-zero": (lambda: encode_clip(np.ones(800, np.float32), 0), ("sample_rate=0", "16000")),
    "player-empty": (lambda: encode_clip(np.zeros(0, np.float32), 16_000), ("empty",)),
    "player-three-axes": (lambda: encode_clip(np.zeros((2, 2, 100), np.float32), 16_000), ("(2, 2, 100)",)),
    # 22: the argument, not the file
    "load-audio-rate-0": (lambda: load_audio(__file__, sample_rate=0), ("load_audio: sample_rate=0", "16000")),
    # 23: strings where lists are meant, an empty plot
    "compare-methods-string": (lambda: compare("a.csv", "b.csv", methods="source-only"),
                               ("methods='source-only' is one string", "['source-only']")),
    "compare-emotions-string": (lambda: compare("a.csv", "b.csv", emotions="anger,sadness"),
                                ("emotions='anger,sadness'", "['anger', 'sadness']")),
    "curves-unknown-key": (lambda: plot_training_curves({"ida": [{"epoch": 1, "task_loss": 0.5}]}, key="uar"),
                           ("'uar'", "task_loss")),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_bad_argument_is_one_line_naming_it(name):
    call, words = ROWS[name]
    with pytest.raises(InputError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and all(word in message for word in words), message


def test_verdict_reads_a_metrics_file_or_its_dict(metrics_file):
    """Item 23, accepted side: the path of a metrics.json, or the dict it holds, gives the verdict of its runs."""
    expected = paired_verdict(_runs(0.7), "ida", n_classes=5)
    assert paired_verdict(metrics_file, "ida", n_classes=5) == expected
    assert paired_verdict(json.loads(metrics_file.read_text()), "ida", n_classes=5) == expected
    assert expected.verdict == "helps" and "95 % interval" in expected.sentence()


def test_runs_that_learned_nothing_never_help():
    """Item 4: held-out source UAR 0.1 with 5 classes is below chance + 15 points: no "helps", whatever is passed."""
    assert paired_verdict(_runs(0.1), "ida", n_classes=5).verdict == "no conclusion"
    assert paired_verdict(_runs(0.7, noisy=True), "ida", n_classes=5).verdict == "no conclusion"


def test_a_missing_held_out_figure_gives_no_verdict():
    """Issue 25: a NaN or None held-out source figure is "not measured", never a pass; one such seed is enough."""
    for missing in (float("nan"), None):
        runs = _runs(0.7).astype(object)
        runs.loc[3, "source_uar"] = missing
        verdict = paired_verdict(runs, "ida", n_classes=5)
        assert verdict.verdict == NOT_MEASURED == "no verdict: not measured" and not verdict.helps
        assert verdict.sentence().startswith("ida vs source-only: no verdict: not measured") and "seed 1" in verdict.sentence()
    assert paired_verdict(_runs(0.7), "ida", n_classes=5).helps  # the same table, measured: it helps


def _reference(tmp_path: Path, **changes) -> Path:
    from didan_lite.reference import REFERENCE_DIR

    record = json.loads((REFERENCE_DIR / "B-C.json").read_text())
    record.update(changes)
    path = tmp_path / "B-C.json"
    path.write_text(json.dumps(record).replace("NaN", "null"))
    return path


@pytest.mark.parametrize("change, words", [
    ({"task": "C-B"}, ("holds task 'C-B', not 'B-C'",)),
    ({"emotions": []}, ("'emotions' is []",)),
    ({"runs": {"a": 1}}, ("'runs' is a dict",)),
    ("nan-target", ("target_uar None", "run 1")),
    ("twice", ("appears more than once",)),
], ids=["other-task", "no-emotions", "runs-object", "null-target", "method-seed-twice"])
def test_a_reference_record_is_validated_at_load(tmp_path, monkeypatch, change, words):
    """Item 5: the whole record is checked when it is loaded, and the message names the file."""
    import didan_lite.reference as reference

    if change == "nan-target":
        record = json.loads((reference.REFERENCE_DIR / "B-C.json").read_text())
        record["runs"][0]["target_uar"] = None
        change = {"runs": record["runs"]}
    elif change == "twice":
        record = json.loads((reference.REFERENCE_DIR / "B-C.json").read_text())
        change = {"runs": record["runs"] + record["runs"][:1]}
    path = _reference(tmp_path, **change)
    monkeypatch.setattr(reference, "REFERENCE_DIR", tmp_path)
    with pytest.raises(InputError) as caught:
        reference.load_reference("B-C")
    assert str(path) in str(caught.value) and all(word in str(caught.value) for word in words), caught.value


def test_a_stereo_array_plays_at_its_own_pitch():
    """Item 10: (n, 2) as soundfile returns it is mixed to one channel, not interleaved (440 Hz stays 440 Hz)."""
    rate = 16_000
    tone = np.sin(2 * np.pi * 440 * np.arange(rate) / rate).astype(np.float32)
    for stereo in (np.stack([tone, tone], axis=1), np.stack([tone, tone])):
        clip = trim_loudest(stereo, rate, 1.0)
        assert clip.shape == (rate,)
        spectrum = np.abs(np.fft.rfft(clip))
        assert np.argmax(spectrum) * rate / len(clip) == pytest.approx(440, abs=2)
    html = audio_player(np.stack([tone, tone], axis=1), rate, corpus="synth-a").data
    assert "audio/" in html


def test_code_checks_run_the_students_function_on_copies():
    """Item 10: an answer that sorts or centres its inputs in place is wrong, and the check says so."""
    from didan_lite.exercises import check_exercise_2_3, check_exercise_3_3
    from didan_lite.metrics import unweighted_average_recall

    def uar_sorting(y_true, y_pred):
        y_true.sort(), y_pred.sort()  # wrong: the pairs are broken
        return unweighted_average_recall(y_true, y_pred)

    def linear_mmd_centring(f_s, f_t):
        f_t -= f_t.mean(axis=0)  # wrong: the shift is removed
        f_s -= f_s.mean(axis=0)
        return float(np.sum((f_s.mean(0) - f_t.mean(0)) ** 2))

    assert not check_exercise_2_3(uar_sorting) and not check_exercise_3_3(linear_mmd_centring)
    assert check_exercise_2_3(unweighted_average_recall)


def test_exercise_5_1_names_a_two_value_answer():
    """Item 23: a function returning (low, high) is told to return three values, not "your function raised"."""
    from didan_lite.exercises import check_exercise_5_1

    result = check_exercise_5_1(lambda d: (d.mean() - 1, d.mean() + 1), n_classes=5)
    assert not result and "2 values" in result.message and "(verdict, low, high)" in result.message
    assert "raised" not in result.message


def test_a_streamed_wav_is_read_to_its_end(tmp_path):
    """Item 21: RIFF and data sizes 0 mean "to the end of the file" (streaming writers): 1 s is read, not "empty"."""
    from didan_lite.audio import read_audio

    from data_fetch.scan import audio_problem

    path = tmp_path / "streamed.wav"
    sf.write(path, 0.3 * np.sin(np.arange(16_000, dtype=np.float32) / 5), 16_000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 4, 0)
    struct.pack_into("<I", data, data.index(b"data") + 4, 0)
    path.write_bytes(bytes(data))
    assert sf.info(str(path)).frames == 0  # what libsndfile makes of it alone
    samples, rate = read_audio(path)
    assert (samples.shape, rate) == ((16_000,), 16_000) and audio_problem(path) is None


@pytest.mark.parametrize("field, value, words", [
    ("layer", 99, ("layer 99", "[-3, 2]")),
    ("weight", "0.1", ("weight '0.1'", "number >= 0")),
    ("seed", -1, ("seed -1",)),
    ("holdout_speakers", 7, ("holdout",)),
])
def test_a_tampered_sidecar_is_refused_before_any_work(tmp_path, monkeypatch, field, value, words):
    """Item 17: types and ranges of the sidecar are checked when it is read, before any feature is computed."""
    import didan_lite.pretrained as pretrained

    folder = tmp_path / "checkpoints"
    shutil.copytree(pretrained.CHECKPOINT_DIR, folder)
    sidecar = folder / "ida.json"
    record = json.loads(sidecar.read_text())
    record[field] = value
    sidecar.write_text(json.dumps(record))
    monkeypatch.setattr(pretrained, "load_task", lambda *a, **k: pytest.fail("features were computed"))
    with pytest.raises(InputError) as caught:
        pretrained.pretrained_features(["ida"], folder)
    assert str(sidecar) in str(caught.value) and all(w in str(caught.value) for w in words), caught.value
