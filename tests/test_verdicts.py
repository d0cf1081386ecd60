"""The paired verdict rule on made-up result tables: the t-interval, per-seed 'learned', pooling over tasks."""

from __future__ import annotations

import pandas as pd
import pytest

from didan_lite.verdicts import learned, leader, paired_table, paired_verdict, verdict_lines

T_975_DF2 = 4.302653  # Student t, 97.5 % quantile, 2 degrees of freedom (printed tables)


def _table(task: str | None = None, **methods: tuple[list[float], list[float]]) -> pd.DataFrame:
    """method=(target UARs %, held-out source UARs %), seeds 0, 1, ... -> per-run records in [0, 1]."""
    rows = []
    for method, (target, source) in methods.items():
        for seed, (t, s) in enumerate(zip(target, source)):
            row = {"method": method.replace("_", "-"), "seed": seed, "target_uar": t / 100, "source_heldout_uar": s / 100}
            rows.append(row if task is None else {"task": task, **row})
    return pd.DataFrame(rows)


LEARNED = [70.0, 72.0, 68.0, 71.0, 69.0]


def test_the_interval_is_the_student_t_interval_of_the_paired_differences():
    # differences 2, 3, 4 points: mean 3, sd 1, half-width t * 1 / sqrt(3)
    runs = _table(source_only=([30.0, 40.0, 35.0], LEARNED), mmd=([32.0, 43.0, 39.0], LEARNED))
    verdict = paired_verdict(runs, "mmd", n_classes=5)
    half = T_975_DF2 / 3**0.5
    assert verdict.n_pairs == 3 and verdict.mean_difference == pytest.approx(3.0)
    assert (verdict.ci_low, verdict.ci_high) == (pytest.approx(3.0 - half, abs=1e-4), pytest.approx(3.0 + half, abs=1e-4))
    assert verdict.verdict == "helps" and verdict.helps
    assert verdict.sentence() == "mmd vs source-only: helps: +3.0 points over 3 paired seeds, 95 % interval [+0.5, +5.5]; the interval lies above 0."


def test_an_interval_that_includes_zero_draws_no_conclusion():
    runs = _table(source_only=([30.0, 40.0, 35.0], LEARNED), mmd=([31.0, 42.0, 38.0], LEARNED))  # 1, 2, 3
    verdict = paired_verdict(runs, "mmd", n_classes=5)
    assert verdict.verdict == "no conclusion" and verdict.ci_low < 0 < verdict.ci_high
    assert verdict.sentence().endswith("the interval includes 0.")


def test_pairing_sees_a_consistent_gain_that_the_seed_spread_hides():
    # seeds differ by 10 points, the method adds 2-3 points to every one of them
    runs = _table(source_only=([25.0, 35.0, 45.0, 55.0], LEARNED), ida=([27.0, 38.0, 47.0, 57.5], LEARNED))
    assert paired_verdict(runs, "ida", n_classes=5).verdict == "helps"
    runs = _table(source_only=([27.0, 38.0, 47.0, 57.5], LEARNED), ida=([25.0, 35.0, 45.0, 55.0], LEARNED))
    hurts = paired_verdict(runs, "ida", n_classes=5)
    assert hurts.verdict == "hurts" and hurts.ci_high < 0 and hurts.sentence().endswith("the interval lies below 0.")


def test_fewer_than_three_pairs_draw_no_conclusion_and_say_why():
    runs = _table(source_only=([30.0, 40.0], LEARNED), mmd=([40.0, 50.5], LEARNED))
    verdict = paired_verdict(runs, "mmd", n_classes=5)
    assert verdict.verdict == "no conclusion" and verdict.n_pairs == 2 and verdict.ci_low > 0
    assert "2 paired seeds" in verdict.sentence() and "fewer than 3 paired seeds" in verdict.sentence()
    one = paired_verdict(_table(source_only=([30.0], LEARNED), mmd=([40.0], LEARNED)), "mmd", n_classes=5)
    assert one.verdict == "no conclusion" and "[n/a]" in one.sentence()


def test_learned_is_judged_per_seed_not_on_the_mean():
    # mmd's mean held-out source UAR (50.6 %) clears 35 %, but seed 2 sits at chance (20 %)
    source = [60.0, 62.0, 20.0, 61.0, 50.0]
    runs = _table(source_only=([30.0, 31.0, 29.0, 30.0, 30.0], LEARNED), mmd=([38.0, 39.0, 37.0, 38.0, 38.5], source))
    check = learned(runs, 5, "mmd")
    assert not check.ok and check.failed_seeds == ("seed 2",) and check.threshold == pytest.approx(0.35)
    verdict = paired_verdict(runs, "mmd", n_classes=5)
    assert verdict.verdict == "no conclusion" and verdict.ci_low > 0
    assert "did not learn on 1 of 5 seeds (seed 2:" in verdict.sentence()
    assert leader(runs, 5).startswith("No conclusion on a leader: only source-only")


def test_a_refit_seed_is_judged_on_its_own_fit_not_on_the_shared_selection_figure():
    """Refit runs all carry the selection's held-out UAR; each seed's own source fit decides whether it learned."""
    runs = _table(source_only=([30.0, 31.0, 29.0, 30.0, 30.0], LEARNED), ida=([38.0, 39.0, 37.0, 38.0, 38.5], LEARNED))
    runs["source_heldout_from"] = "the selection runs (2 speaker folds, seed 0, pooled)"
    runs["source_fit_uar"] = 0.9
    runs.loc[(runs["method"] == "ida") & (runs["seed"] == 3), "source_fit_uar"] = 0.2  # collapsed: chance
    check = learned(runs, 5, "ida")
    assert not check.ok and check.failed_seeds == ("seed 3",)
    assert paired_verdict(runs, "ida", n_classes=5).verdict == "no conclusion"
    runs["source_heldout_from"] = "this run"  # measured by the run itself: its held-out figure decides
    assert learned(runs, 5, "ida").ok


def test_pooled_over_tasks_pairs_within_each_task():
    a = _table("B-C", source_only=([30.0, 31.0, 32.0], LEARNED), ida=([33.0, 34.0, 35.5], LEARNED))
    b = _table("C-B", source_only=([50.0, 51.0, 52.0], LEARNED), ida=([52.0, 53.5, 54.0], LEARNED))
    pooled = paired_verdict(pd.concat([a, b]), "ida", n_classes=5)
    assert pooled.n_pairs == 6 and pooled.verdict == "helps"
    assert pooled.mean_difference == pytest.approx((3 + 3 + 3.5 + 2 + 2.5 + 2) / 6)
    assert paired_verdict(a, "ida", n_classes=5).n_pairs == 3


def test_unpaired_seeds_are_left_out_and_bad_tables_are_refused():
    runs = _table(source_only=([30.0, 40.0, 35.0, 33.0], LEARNED), mmd=([32.0, 43.0, 39.0], LEARNED))
    assert paired_verdict(runs, "mmd", n_classes=5).n_pairs == 3
    with pytest.raises(ValueError, match="fraction"):
        paired_verdict(runs.assign(target_uar=runs["target_uar"] * 100), "mmd", n_classes=5)
    with pytest.raises(ValueError, match="ambiguous"):
        paired_verdict(pd.concat([runs, runs]), "mmd", n_classes=5)
    with pytest.raises(ValueError, match="no run of method 'ida'"):
        paired_verdict(runs, "ida", n_classes=5)


def test_verdict_lines_cover_every_method_the_reference_row_and_the_leader():
    runs = _table(opensmile_svm=([36.0, 37.0, 36.5], LEARNED), source_only=([30.0, 31.0, 29.0], LEARNED),
                  mmd=([30.5, 30.0, 31.0], LEARNED), ida=([40.0, 41.5, 40.0], LEARNED))
    lines = verdict_lines(runs, 5)
    assert len(lines) == 4
    assert lines[0].startswith("mmd vs source-only: no conclusion") and lines[1].startswith("ida vs source-only: helps")
    assert lines[2].startswith("source-only vs opensmile-svm: hurts")
    assert lines[3].startswith("ida led (40.5 % target UAR)")


def test_paired_table_has_one_row_per_method_with_the_difference_to_the_baseline():
    runs = _table(source_only=([30.0, 40.0, 35.0], LEARNED), mmd=([32.0, 43.0, 39.0], LEARNED))
    table = paired_table(runs, 5).set_index("method")
    assert table.loc["mmd", "difference"] == pytest.approx(3.0) and table.loc["mmd", "verdict"] == "helps"
    assert table.loc["source-only", "target_uar_mean"] == pytest.approx(35.0) and table.loc["source-only", "verdict"] == ""


def test_a_run_without_a_held_out_figure_gets_no_verdict_never_a_pass():
    """Issue 25: a missing held-out figure (NaN) is "not measured", never a pass; records without the column are not
    judged by rule 1 (exercise 5.1's tables)."""
    runs = _table(source_only=([30.0, 40.0, 35.0], LEARNED), mmd=([32.0, 43.0, 39.0], LEARNED))
    runs.loc[0, "source_heldout_uar"] = float("nan")
    check = learned(runs, 5, "source-only")
    assert not check.ok and check.unmeasured_seeds == ("seed 0",) and "unknown" in check.sentence
    assert paired_verdict(runs, "mmd", n_classes=5).verdict == "no verdict: not measured"
    assert paired_verdict(runs.drop(columns="source_heldout_uar"), "mmd", n_classes=5).verdict == "helps"


def test_the_paired_sd_is_reported_beside_the_seed_sd():
    """Pairs that pair: the spread of the differences is far below the spread of the seeds."""
    runs = _table(source_only=([25.0, 35.0, 45.0, 55.0], LEARNED), ida=([27.0, 38.0, 47.0, 57.5], LEARNED))
    verdict = paired_verdict(runs, "ida", n_classes=5)
    assert verdict.paired_sd == pytest.approx(pd.Series([2.0, 3.0, 2.0, 2.5]).std())
    row = paired_table(runs, 5).set_index("method").loc["ida"]
    assert row["paired_sd"] == pytest.approx(verdict.paired_sd) and row["target_uar_sd"] > 5 * row["paired_sd"]
