"""Guarded verdicts on made-up result tables: chance-level runs, a difference inside the spread, a clear win."""

from __future__ import annotations

import pandas as pd
import pytest

from didan_lite.verdicts import compare_methods, leader, learned, verdict_lines


def _table(**methods: tuple[list[float], list[float]]) -> pd.DataFrame:
    """method=(target UARs %, held-out source UARs %) -> per-run records in [0, 1]."""
    rows = []
    for method, (target, source) in methods.items():
        for seed, (t, s) in enumerate(zip(target, source)):
            rows.append({"method": method.replace("_", "-"), "seed": seed, "target_uar": t / 100, "source_heldout_uar": s / 100})
    return pd.DataFrame(rows)


LEARNED = [70.0, 72.0, 68.0]


def test_a_clear_win_helps():
    runs = _table(source_only=([30.0, 31.0, 29.0], LEARNED), mmd=([38.0, 39.0, 37.0], LEARNED))
    verdict = compare_methods(runs, "mmd", n_classes=5)
    assert verdict.helps and verdict.gain == pytest.approx(8.0) and verdict.spread == pytest.approx(1.0)
    assert verdict.sentence.startswith("mmd helps over source-only")
    assert leader(runs, 5).startswith("mmd led")


def test_a_clear_loss_hurts():
    runs = _table(source_only=([38.0, 39.0, 37.0], LEARNED), ida=([30.0, 31.0, 29.0], LEARNED))
    assert compare_methods(runs, "ida", n_classes=5).outcome == "hurts"


def test_a_difference_inside_the_spread_draws_no_conclusion():
    runs = _table(source_only=([26.0, 31.0, 36.0], LEARNED), ida=([30.0, 35.0, 28.0], LEARNED))
    verdict = compare_methods(runs, "ida", n_classes=5)
    assert verdict.outcome == "no conclusion" and not verdict.helps
    assert "inside the seed-to-seed spread" in verdict.sentence
    assert leader(runs, 5).startswith("No clear leader")


def test_chance_level_runs_draw_no_conclusion_even_with_a_large_gap():
    chance = [22.0, 20.0, 24.0]  # 5 classes: chance 20 %, required 35 %
    runs = _table(source_only=([15.0, 16.0, 15.5], chance), mmd=([28.0, 29.0, 28.5], chance))
    verdict = compare_methods(runs, "mmd", n_classes=5)
    assert verdict.outcome == "no conclusion" and "did not clearly learn" in verdict.sentence
    assert leader(runs, 5).startswith("No conclusion on a leader: no method")
    assert not learned(runs, 5, "mmd").ok and learned(runs, 5, "mmd").threshold == pytest.approx(0.35)


def test_one_seed_draws_no_conclusion():
    runs = _table(source_only=([30.0], [70.0]), mmd=([40.0], [70.0]))
    assert "at least 2 seeds" in compare_methods(runs, "mmd", n_classes=5).sentence


def test_only_learned_methods_can_lead_and_lines_cover_every_method():
    runs = _table(source_only=([30.0, 31.0, 29.0], LEARNED), mmd=([45.0, 46.0, 44.0], [25.0, 24.0, 26.0]),
                  ida=([36.0, 37.0, 35.0], LEARNED))
    assert leader(runs, 5).startswith("ida led")
    lines = verdict_lines(runs, 5)
    assert len(lines) == 3 and lines[0].startswith("No conclusion on mmd") and lines[1].startswith("ida helps")


def test_source_only_is_set_against_the_reference_row():
    runs = _table(opensmile_svm=([36.0, 36.0, 36.0], LEARNED), source_only=([30.0, 31.0, 29.0], LEARNED))
    lines = verdict_lines(runs, 5)
    assert lines[0].startswith("source-only is worse than opensmile-svm") and len(lines) == 2
