"""The opensmile-svm reference row on tiny tone corpora: features, cache, standardisation, report row."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from didan_lite.classical import ClassicalConfig, fit_reference, opensmile_functionals, standardise
from didan_lite.errors import InputError
from didan_lite.experiment import compare
from didan_lite.manifest import read_manifest
from test_experiment import TINY


def test_functionals_are_88_egemaps_values_per_file_and_cached(tone_corpora, tmp_path, monkeypatch):
    paths = list(read_manifest(tone_corpora[0])["path"])[:4]
    first = opensmile_functionals(paths, cache_dir=tmp_path)
    assert first.shape == (4, 88) and np.all(np.isfinite(first))
    entries = sorted((tmp_path).glob("opensmile-eGeMAPSv02-16000-*/*.npy"))
    assert len(entries) == 4

    import opensmile

    monkeypatch.setattr(opensmile.Smile, "process_signal", lambda *a, **k: pytest.fail("cache missed"))
    assert np.array_equal(opensmile_functionals(paths, cache_dir=tmp_path), first)


def test_a_damaged_cache_entry_is_a_miss(tone_corpora, tmp_path):
    paths = list(read_manifest(tone_corpora[0])["path"])[:2]
    first = opensmile_functionals(paths, cache_dir=tmp_path)
    for entry in tmp_path.glob("opensmile-*/*.npy"):
        entry.write_bytes(b"not an array")
    assert np.allclose(opensmile_functionals(paths, cache_dir=tmp_path), first)


def test_unknown_feature_set_and_missing_file_are_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="feature set 'nope'"):
        opensmile_functionals([], ClassicalConfig(feature_set="nope"), cache_dir=tmp_path)
    with pytest.raises(InputError, match="gone.wav"):
        opensmile_functionals([str(tmp_path / "gone.wav")], cache_dir=tmp_path)


def test_each_corpus_is_standardised_with_its_own_statistics():
    rng = np.random.default_rng(0)
    source, held, target = rng.normal(0, 1, (40, 5)), rng.normal(0, 1, (10, 5)), rng.normal(5, 3, (30, 5))
    labels = np.arange(40) % 2
    fit = fit_reference(source, labels, held, target)
    assert np.allclose(fit.target_features.mean(0), 0, atol=1e-9) and np.allclose(fit.target_features.std(0), 1)
    assert np.allclose(standardise(np.concatenate([source, held]))[:40], fit.source_features)


def test_compare_reports_the_reference_row_beside_the_deep_methods(tone_corpora, tmp_path):
    source, target = tone_corpora
    config = dataclasses.replace(TINY, cache_dir=str(tmp_path / "cache"))
    comparison = compare(source, target, methods=["opensmile-svm", "source-only"], seeds=[0, 1], out_dir=tmp_path / "run",
                         config=config, figures=False, progress=False)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    rows = [r for r in metrics["runs"] if r["method"] == "opensmile-svm"]
    assert len(rows) == 2 and all(r["alignment_weight"] is None and r["dev_risk"] is None for r in rows)
    # pitch encodes the emotion in the tone corpora: the reference row must learn it on held-out speakers
    assert rows[0]["source_heldout_uar"] > 0.8
    assert 0 <= rows[0]["proxy_a_distance"] <= 2 and rows[0]["feature_effective_rank"] >= 1
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| opensmile-svm |" in report and "## Verdicts" in report
    assert list(comparison.table()["method"]) == ["opensmile-svm", "source-only"]
