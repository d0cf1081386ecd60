"""One home per setting: the front end's settings on FeatureConfig, stored settings of the older layout still
read, and no field that compare() replaces unseen."""

from __future__ import annotations

import dataclasses
import json

import pytest

import didan_lite.task as task_module
from didan_lite.config import FRONT_END_MOVED, ExperimentConfig, stored_settings
from didan_lite.errors import InputError
from didan_lite.experiment import compare
from didan_lite.features import FeatureConfig
from didan_lite.training import TrainConfig
from didan_lite.validation import SETTINGS_FILE, claim_output_folder, comparison_settings


def test_front_end_settings_have_one_home():
    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    assert not fields & set(FRONT_END_MOVED)
    assert set(FRONT_END_MOVED) <= {f.name for f in dataclasses.fields(FeatureConfig)}
    assert ExperimentConfig().features.band_floor_db == FeatureConfig().band_floor_db == 40.0
    assert ExperimentConfig().features.normalise_by == "corpus"


@pytest.mark.parametrize("changes, words", [
    ({"band_floor_db": 0.0}, "band_floor_db must be None or a positive number of dB; got 0.0"),
    ({"band_floor_db": -3.0}, "got -3.0"),
    ({"band_floor_db": float("inf")}, "got inf"),
    ({"band_floor_db": float("nan")}, "got nan"),
    ({"normalise_by": "utterance"}, "Unknown normalisation 'utterance'; use one of corpus, speaker"),
])
def test_front_end_settings_are_checked_once_in_one_line(changes, words):
    with pytest.raises(InputError, match=words) as caught:
        FeatureConfig(**changes)
    assert "\n" not in str(caught.value)


def test_stored_settings_of_the_older_layout_move_into_features():
    today = {"features": {"n_mels": 64, "band_floor_db": None, "normalise_by": "speaker"}, "refit": True}
    older = {"features": {"n_mels": 64}, "band_floor_db": None, "normalise_by": "speaker", "refit": True}
    assert stored_settings(older) == today
    assert stored_settings(today) == today
    assert older == {"features": {"n_mels": 64}, "band_floor_db": None, "normalise_by": "speaker", "refit": True}
    assert stored_settings(None) is None and stored_settings({"refit": True}) == {"refit": True}


def _older_layout(config: dict) -> dict:
    features = dict(config["features"])
    return {**config, "features": features, **{name: features.pop(name) for name in FRONT_END_MOVED}}


def test_an_output_folder_written_before_the_move_is_still_claimed(tmp_path):
    source, target = tmp_path / "s.csv", tmp_path / "t.csv"
    for path in (source, target):
        path.write_text("path,emotion,speaker,corpus\n")
    settings = comparison_settings(source, target, emotions=None, methods=["mmd"], seeds=[0], config=ExperimentConfig())
    out = tmp_path / "run"
    out.mkdir()
    (out / SETTINGS_FILE).write_text(json.dumps({**settings, "config": _older_layout(settings["config"])}))
    assert claim_output_folder(out, settings, write=False)["config"] == settings["config"]
    other = comparison_settings(source, target, emotions=None, methods=["mmd"], seeds=[0], config=ExperimentConfig(
        features=dataclasses.replace(ExperimentConfig().features, band_floor_db=None)))
    with pytest.raises(InputError, match=r"config\.features\.band_floor_db differ"):
        claim_output_folder(out, other, write=False)
    (out / SETTINGS_FILE).unlink()
    (out / "metrics.json").write_text(json.dumps({"config": _older_layout(settings["config"])}))
    claim_output_folder(out, settings, write=False)  # a folder of a version before settings.json


@pytest.mark.parametrize("weight", ["auto", 0.1])
def test_compare_refuses_a_configured_weight_it_would_replace(tmp_path, monkeypatch, weight):
    monkeypatch.setattr(task_module, "extract_corpus", lambda *a, **k: pytest.fail("extracted"))
    config = ExperimentConfig(train=TrainConfig(alignment_weight=1.0, progress=False))
    with pytest.raises(InputError, match=f"config.train.alignment_weight=1 is not read by compare.*{weight!r}.*weight=1 ") as caught:
        compare(tmp_path / "s.csv", tmp_path / "t.csv", methods=["mmd"], seeds=[0], out_dir=tmp_path / "o", config=config,
                weight=weight, progress=False)
    assert "\n" not in str(caught.value) and not (tmp_path / "o").exists()
