"""Pretrained checkpoints: round trip, refusal of damaged or foreign files, the shipped files."""

from __future__ import annotations

import dataclasses
import json
import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from didan_lite.errors import InputError
from didan_lite.model import DIDAN, ModelConfig
from didan_lite.teaching.pretrained import (
    CHECKPOINT_DIR,
    PretrainedFeatures,
    available_pretrained,
    beside_sentence,
    describe,
    load_pretrained,
    plot_beside,
    pretrained_features,
    save_pretrained,
    sha256_of,
)
from didan_lite.results import TaskData
from didan_lite.synthetic import GENERATOR_VERSION
from didan_lite.training import DomainData

CLASSES = ["anger", "neutral", "sadness"]
TINY = ModelConfig(conv_channels=(2, 4), fc_dims=(6, 5), dropout=0.0)
SHIPPED = ("source-only", "mmd", "ida")


def _write(folder, method="ida") -> DIDAN:
    torch.manual_seed(0)
    model = DIDAN(8, len(CLASSES), TINY)
    info = {"method": method, "weight": 0.1, "seed": 0, "n_bins": 8, "n_frames": 16, "class_names": CLASSES,
            "model": dataclasses.asdict(TINY), "features": {"n_mels": 8, "n_frames": 16, "normalise_by": "speaker",
                                                            "band_floor_db": None}, "holdout_speakers": 0.2, "layer": -2,
            "provenance": {"command": "test", "commit": "none", "date": "today", "machine": "here", "mode": "full"}}
    save_pretrained(model, info, folder)
    return model


def _edit_sidecar(folder, method="ida", **changes) -> None:
    path = folder / f"{method}.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _refused(folder, *fragments, method="ida") -> str:
    with pytest.raises(InputError) as caught:
        load_pretrained(method, folder)
    message = str(caught.value)
    assert "\n" not in message and "benchmarks.make_checkpoints" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_round_trip_gives_the_float16_weights_in_eval_mode(tmp_path):
    original = _write(tmp_path)
    model, info = load_pretrained("ida", tmp_path)
    assert not model.training and info["class_names"] == CLASSES and info["generator_version"] == GENERATOR_VERSION
    for name, value in original.state_dict().items():
        assert torch.equal(model.state_dict()[name], value.half().float()), name
    x = torch.randn(3, 8, 16)
    with torch.no_grad():
        assert torch.allclose(model(x).scores, original.eval()(x).scores, atol=1e-2)
    assert available_pretrained(tmp_path) == ["ida"]
    assert describe(info).startswith("ida: full mode, seed 0, weight 0.1")


def test_wrong_generator_version_is_refused(tmp_path):
    _write(tmp_path)
    _edit_sidecar(tmp_path, generator_version=GENERATOR_VERSION + 1)
    _refused(tmp_path, "ida.json", f"generator version {GENERATOR_VERSION + 1}")


@pytest.mark.parametrize("changes, fragment", [
    ({"class_names": ["anger", "fear", "neutral", "sadness"]}, "shapes"),
    ({"n_bins": 16, "model": {**dataclasses.asdict(TINY), "fc_dims": [7, 5]}}, "shapes"),
    ({"class_names": ["joy", "calm", "rage"]}, "class names"),
    ({"format": 99}, "format"),
    ({"provenance": {"command": "x"}}, "provenance.commit"),
])
def test_tampered_sidecar_is_refused_in_one_line(tmp_path, changes, fragment):
    _write(tmp_path)
    _edit_sidecar(tmp_path, **changes)
    _refused(tmp_path, "ida.json" if fragment != "shapes" else "ida.pt", fragment)


def test_missing_or_unreadable_files_are_refused(tmp_path):
    _refused(tmp_path, "ida.json", "No pretrained model")
    _write(tmp_path)
    (tmp_path / "ida.json").write_text("{not json")
    _refused(tmp_path, "ida.json", "cannot be read")
    _write(tmp_path)
    (tmp_path / "ida.pt").unlink()
    _refused(tmp_path, "ida.pt", "missing")


def test_truncated_weights_are_refused(tmp_path):
    _write(tmp_path)
    weights = tmp_path / "ida.pt"
    weights.write_bytes(weights.read_bytes()[:200])
    _refused(tmp_path, "ida.pt", "SHA-256")
    _edit_sidecar(tmp_path, sha256=sha256_of(weights))  # the sidecar agrees: torch.load itself must refuse it
    _refused(tmp_path, "ida.pt", "not a plain dict of tensors")


def test_a_pickled_object_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return os.makedirs, (str(marker),)

    _write(tmp_path)
    weights = tmp_path / "ida.pt"
    torch.save({"conv.0.weight": torch.zeros(2, 1, 3, 3), "planted": Planted()}, weights)
    _edit_sidecar(tmp_path, sha256=sha256_of(weights))
    _refused(tmp_path, "ida.pt", "not a plain dict of tensors")
    assert not marker.exists()


@pytest.mark.parametrize("method", SHIPPED)
def test_shipped_checkpoints_exist_are_small_and_load(method):
    model, info = load_pretrained(method)
    assert (CHECKPOINT_DIR / f"{method}.pt").stat().st_size < 400_000
    assert info["provenance"]["mode"] == "full" and info["trained_on"] == "all source speakers"
    assert info["weight"] is None if method == "source-only" else info["weight"] > 0
    assert info["generator_version"] == GENERATOR_VERSION
    assert model.output.out_features == len(info["class_names"])


@pytest.mark.slow
def test_features_of_the_embedded_pair_from_the_shipped_models(synthetic_pair):
    pair = pretrained_features(("source-only", "ida"))
    for method in ("source-only", "ida"):
        assert pair.source[method].shape == (len(pair.task.source_all.y), pair.info[method]["model"]["fc_dims"][-1])
        assert pair.target[method].shape[0] == len(pair.task.target.y)
        assert np.isfinite(pair.source[method]).all() and pair.target_pred[method].shape == (len(pair.task.target.y),)
        distance, uar = pair.scores(method)
        assert 0 <= distance <= 2 and 0 <= uar <= 1
    assert pair.task.class_names == pair.info["ida"]["class_names"]
    assert not np.allclose(pair.source["ida"], pair.source["source-only"])
    yours = SimpleNamespace(source_features=pair.source["ida"][:50], target_features=pair.target["ida"][:40],
                            proxy_a_distance=1.0, target_uar=0.3)
    small = dataclasses.replace(pair.task, source_train=DomainData(pair.task.source_all.x[:50], pair.task.source_all.y[:50]),
                                target=DomainData(pair.task.target.x[:40], pair.task.target.y[:40]))
    fig = plot_beside(pair, {"ida": yours}, small)
    assert [ax.get_title() for ax in fig.axes] == ["", "your run: ida", "pretrained (full mode): source-only",
                                                   "pretrained (full mode): ida"]
    assert not fig.axes[0].axison


def _pair(predicted_right: bool) -> PretrainedFeatures:
    rng = np.random.default_rng(0)
    y = torch.arange(90) % len(CLASSES)
    domain = DomainData(torch.zeros(90, 8, 16), y)
    task = TaskData(CLASSES, ("a", "b"), domain, DomainData(torch.zeros(0, 8, 16), y[:0]), domain)
    source, near = rng.normal(size=(90, 4)), rng.normal(size=(90, 4))
    predictions = y.numpy() if predicted_right else np.zeros(90, dtype=int)
    info = {"seed": 0, "weight": 0.1, "provenance": {"mode": "full"}}
    return PretrainedFeatures(task, {"source-only": source, "ida": source}, {"source-only": source + 4.0, "ida": near},
                              {"source-only": predictions, "ida": predictions}, {"source-only": info, "ida": info})


def test_the_sentence_follows_the_numbers():
    pair = _pair(predicted_right=True)
    closer = beside_sentence(pair, "ida", yours=((0.5, 0.4), (1.5, 0.4)))
    assert "ida (full mode, seed 0, weight 0.1): brought the corpora closer" in closer
    assert "Your run left the corpora more separable, the full-mode model closer: not the same way" in closer
    assert "chance" not in closer and "the same way." not in closer
    assert "the same way." in beside_sentence(pair, "ida", yours=((1.5, 0.4), (0.5, 0.4)))
    assert "within 5 points of chance (33 %)" in beside_sentence(_pair(predicted_right=False), "ida")


@pytest.mark.parametrize("changes", [{"model": {"no_such_field": 1}}, {"features": "not a dict"}, {"n_bins": "64"}])
def test_damaged_settings_in_the_sidecar_are_one_line(tmp_path, changes):
    _write(tmp_path)
    _edit_sidecar(tmp_path, **changes)
    _refused(tmp_path, "ida.json", "damaged model or feature setting")


@pytest.mark.parametrize("method", ["source-only", "mmd", "ida"])
def test_sidecars_that_record_a_removed_option_still_read(method):
    """Sidecars written before the option ``input_norm`` was removed record ``input_norm: "none"``: they still
    read, as today's network; another value is refused by name."""
    import didan_lite.teaching.pretrained as pretrained

    recorded = json.loads((pretrained.CHECKPOINT_DIR / f"{method}.json").read_text(encoding="utf-8"))["model"]
    older = {**recorded, "input_norm": "none"}
    assert pretrained._model_config(older) == pretrained._model_config(recorded)
    assert pretrained._model_config(older) == ModelConfig(**{k: tuple(v) if isinstance(v, list) else v
                                                             for k, v in recorded.items()})
    with pytest.raises(ValueError, match="input_norm"):
        pretrained._model_config({**recorded, "input_norm": "cmvn"})


def test_sidecars_of_the_older_layout_still_read(tmp_path):
    """Older sidecars (the shipped ones among them) keep ``normalise_by`` and ``band_floor_db`` beside ``features``:
    they read as today's layout; a sidecar with neither is refused by name."""
    import didan_lite.teaching.pretrained as pretrained

    _write(tmp_path)
    _, today = load_pretrained("ida", tmp_path)
    path = tmp_path / "ida.json"
    record = json.loads(path.read_text())
    features = record["features"]
    older = {**record, "features": {"n_mels": 8, "n_frames": 16}, "normalise_by": features["normalise_by"],
             "band_floor_db": features["band_floor_db"]}
    path.write_text(json.dumps(older))
    _, info = load_pretrained("ida", tmp_path)
    assert info["features"] == today["features"] and "normalise_by" not in info and "band_floor_db" not in info
    assert pretrained.checkpoint_config(info).features.normalise_by == "speaker"
    assert pretrained.checkpoint_config(info).features.band_floor_db is None
    shipped = pretrained.read_sidecar(pretrained.CHECKPOINT_DIR / "ida.json")
    assert pretrained.checkpoint_config(shipped).features.band_floor_db == 40.0
    path.write_text(json.dumps({**older, "band_floor_db": "not a number"}))
    _refused(tmp_path, "ida.json", "damaged model or feature setting")
    del older["band_floor_db"]
    path.write_text(json.dumps(older))
    _refused(tmp_path, "ida.json", "lacks features.band_floor_db")
