"""The shift bench: paired contrasts, a method run at a second weight kept apart, `--weight auto`, the gathered table."""

from __future__ import annotations

import json

import pytest

from benchmarks.shift_bench import summarise
from didan_lite.errors import InputError
from didan_lite.verdicts import NOT_MEASURED
from scipy import stats


def _row(method: str, seed: int, target: float, weight: float | None) -> dict:
    return {"shift": "missing-class", "method": method, "seed": seed, "weight": weight, "budget": "full",
            "target_uar": target, "source_uar": 0.7, "source_fit_uar": 1.0, "target_uar_target_statistics": None,
            "proxy_a_distance": 1.0, "feature_rank": 3.0, "class_alignment_oracle": None, "seconds": 1.0}


def test_a_method_at_a_second_weight_is_its_own_row_paired_with_source_only_and_mmd(tmp_path):
    rows = []
    for seed, offset in ((801, 0.00), (802, 0.02), (803, -0.01), (804, 0.01)):
        rows += [_row("source-only", seed, 0.50 + offset, None), _row("mmd", seed, 0.52 + offset, 0.1),
                 _row("ida-oneway", seed, 0.30 + offset, 0.1), _row("ida-oneway", seed, 0.55 + offset, 0.03)]
    provenance = {"command": "python -m benchmarks.shift_bench", "commit": "x", "date": "d", "machine": "m"}
    (tmp_path / "missing-class").mkdir()
    (tmp_path / "missing-class" / "runs.json").write_text(json.dumps({"provenance": provenance, "rows": rows}))
    summarise(tmp_path)
    shift = json.loads((tmp_path / "results.json").read_text())["shifts"]["missing-class"]
    assert round(shift["means"]["ida-oneway"], 6) == 30.5 and round(shift["means"]["ida-oneway@0.03"], 6) == 55.5
    assert round(shift["contrasts"]["ida-oneway - mmd"]["mean"], 6) == -22.0
    contrast = shift["contrasts"]["ida-oneway@0.03 - mmd"]
    assert round(contrast["mean"], 6) == 3.0 and contrast["n"] == 4 and contrast["verdict"] == "helps"
    assert round(shift["contrasts"]["ida-oneway@0.03 - source-only"]["mean"], 6) == 5.0
    assert "| ida-oneway@0.03 | 55.5 |" in (tmp_path / "results.md").read_text()


def test_weight_auto_runs_each_method_at_the_rules_choice_and_a_declined_method_copies_source_only(
        tmp_path, monkeypatch):
    import types

    import benchmarks.shift_bench as bench
    from didan_lite.model_selection import WeightChoice

    chosen = {"mmd": 0.3, "ida-oneway-floored": 0.0}
    trained = []

    def fake_choose(task, method, seed, config):
        return WeightChoice(method, [0.1, 0.3, 1.0], [0.30, 0.31, 0.40], chosen[method], seed, "source-1se",
                            threshold=0.33, baseline_score=0.30), {}

    def fake_run(task, method, seed, config):
        trained.append((method, seed, config.train.alignment_weight))
        return types.SimpleNamespace(target_uar=0.5 + seed % 10 / 100 + (method == "mmd") / 10, source_uar=0.7,
                                     extra={"source_fit_uar": 1.0}, proxy_a_distance=1.0, feature_rank=3.0,
                                     class_alignment=None, seconds=1.0)

    monkeypatch.setattr(bench, "choose_weight", fake_choose)
    monkeypatch.setattr(bench, "run_method", fake_run)
    monkeypatch.setattr(bench, "make_shift_pair", lambda name: ("source.csv", "target.csv"))
    monkeypatch.setattr(bench, "load_task", lambda *args, **kwargs: object())
    arguments = ["--shifts", "none", "--seeds", "801-802", "--methods", "ida-oneway-floored,source-only,mmd",
                 "--weight", "auto", "--no-oracle", "--out", str(tmp_path)]
    bench.main(arguments)
    assert sorted((method, seed) for method, seed, _ in trained) == [
        ("mmd", 801), ("mmd", 802), ("source-only", 801), ("source-only", 802)]  # the declined method: not trained
    assert all(weight == 0.3 for method, _, weight in trained if method == "mmd")
    record = json.loads((tmp_path / "none" / "runs.json").read_text())
    assert record["choices"]["mmd"]["chosen"] == 0.3 and record["choices"]["ida-oneway-floored"]["chosen"] == 0.0
    declined = {r["seed"]: r for r in record["rows"] if r["method"] == "ida-oneway-floored"}
    baseline = {r["seed"]: r for r in record["rows"] if r["method"] == "source-only"}
    assert set(declined) == {801, 802} and all(declined[s]["weight"] == 0.0 for s in declined)
    assert all(declined[s]["target_uar"] == baseline[s]["target_uar"] for s in declined)
    bench.summarise(tmp_path)
    assert "ida-oneway-floored at weight 0, chosen by the rule on seed 700" in (tmp_path / "results.md").read_text()
    with pytest.raises(SystemExit, match="also an evaluation seed"):
        bench.main([*arguments[:-2], "--selection-seed", "801", "--out", str(tmp_path)])


def test_a_file_of_another_backbone_is_refused_in_one_line_and_the_backbone_is_recorded(tmp_path, monkeypatch, capsys):
    import types

    import benchmarks.shift_bench as bench

    monkeypatch.setattr(bench, "make_shift_pair", lambda name: ("source.csv", "target.csv"))
    monkeypatch.setattr(bench, "load_task", lambda *args, **kwargs: object())
    monkeypatch.setattr(bench, "run_method", lambda task, method, seed, config: types.SimpleNamespace(
        target_uar=0.5, source_uar=0.7, extra={"source_fit_uar": 1.0}, proxy_a_distance=1.0, feature_rank=3.0,
        class_alignment=None, seconds=1.0))
    arguments = ["--shifts", "none", "--seeds", "801", "--methods", "source-only", "--no-oracle", "--out"]
    assert bench.main([*arguments, str(tmp_path / "new")]) == 0
    assert json.loads((tmp_path / "new" / "none" / "runs.json").read_text())["settings"] == {"norm": "batch"}
    (tmp_path / "old" / "none").mkdir(parents=True)  # written before the backbone was recorded: GroupNorm runs
    old = {"provenance": {"command": "c", "commit": "x", "date": "d", "machine": "m"}, "rows": [_row("source-only", 802, 0.5, None)]}
    (tmp_path / "old" / "none" / "runs.json").write_text(json.dumps(old))
    assert bench.main([*arguments, str(tmp_path / "old")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "'group' backbone, not the default 'batch'" in error and "runs.json" in error
    assert json.loads((tmp_path / "old" / "none" / "runs.json").read_text()) == old  # untouched
    bench.summarise(tmp_path / "new")
    assert "backbone batch" in (tmp_path / "new" / "results.md").read_text()


def _summarised(folder, shift: str, norm: str | None, contrasts: dict, seeds: list[int]) -> None:
    (folder / shift).mkdir(parents=True)
    runs = {"provenance": {}, "rows": [{"method": "source-only", "seed": seeds[0], "weight": None}],
            **({"settings": {"norm": norm}} if norm else {})}
    (folder / shift / "runs.json").write_text(json.dumps(runs))
    summary = {"means": {"source-only": 48.25, "oracle": 64.0}, "seeds": seeds, "contrasts": {
        name: {"n": len(seeds), "mean": mean, "low": low, "high": high,
               "verdict": "helps" if low > 0 else "hurts" if high < 0 else "no conclusion"}
        for name, (mean, low, high) in contrasts.items()}}
    (folder / "results.json").write_text(json.dumps({"provenance": {}, "shifts": {shift: summary}}))


def test_the_table_gathers_folders_in_order_with_backbone_seeds_and_verdict_words(tmp_path):
    from benchmarks.shift_table import table

    old, new = tmp_path / "old", tmp_path / "new"
    _summarised(old, "channel", None, {"ida - mmd": (2.0, -0.01, 4.0)}, [801, 802, 803, 805])
    _summarised(new, "label-shift", "batch", {"ida - mmd": (4.13, 1.46, 6.81), "mmd - source-only": (-2.4, -4.4, -0.3)},
                list(range(801, 811)))
    _summarised(tmp_path / "other", "speaker", "batch", {"ida - mmd": (float("nan"), float("nan"), float("nan"))}, [801])
    (tmp_path / "other" / "speaker" / "runs.json").unlink()
    table([str(old), f"{new}:label-shift", f"{tmp_path / 'other'}:speaker"], tmp_path)
    gathered = (tmp_path / "table.md").read_text().split("## The predictions")[0]
    rows = [line for line in gathered.splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith("| channel | group | 801-803, 805 | 48.2 | - | - | - | +2.0 [-0.01, +4.0] | - | 64.0 |")
    assert rows[1].startswith("| label-shift | batch | 801-810 | 48.2 | - | **-2.4 [-4.4, -0.3] hurts** | - | "
                              "**+4.1 [+1.5, +6.8] helps** |")
    assert rows[2].startswith("| speaker | unknown (no runs.json) | 801 | 48.2 | - | - | - | no conclusion | - | 64.0 |")
    assert len(rows) == 3
    assert "- `label-shift`: the channel shift, and half of the target neutral (alignable)" in (tmp_path / "table.md").read_text()
    with pytest.raises(InputError, match="has no results.json: summarise it first"):
        table([str(tmp_path / "absent")], tmp_path)
    with pytest.raises(InputError, match="has no shift 'band'; it has label-shift"):
        table([f"{new}:band"], tmp_path)


def test_a_prediction_holds_when_every_condition_does_and_is_not_measured_without_a_difference():
    from benchmarks.shift_table import prediction_outcome

    helps = {"mean": 2.4, "low": 0.4, "high": 4.4, "verdict": "helps"}
    unclear = {"mean": 2.97, "low": -1.7, "high": 7.6, "verdict": "no conclusion"}
    within_3_unclear = {"mean_between": [-3, 3], "verdict_in": ["no conclusion"]}
    assert prediction_outcome(within_3_unclear, unclear) == "held"  # the edge counts (inclusive)
    assert prediction_outcome(within_3_unclear, dict(unclear, mean=3.04)) == "failed"
    assert prediction_outcome(within_3_unclear, helps) == "failed"  # inside the range, but decided
    assert prediction_outcome({"mean_between": [0, None], "verdict_in": ["helps"]}, helps) == "held"
    assert prediction_outcome({"mean_between": [None, 0]}, helps) == "failed"
    assert prediction_outcome({"verdict_in": ["no conclusion", "hurts"]}, helps) == "failed"
    assert prediction_outcome({"verdict_in": ["helps"]}, None) == "not measured"
    assert prediction_outcome({"verdict_in": ["helps"]}, dict(helps, mean=float("nan"))) == "not measured"
    assert prediction_outcome({"verdict_in": ["hurts"]}, dict(helps, verdict="no verdict: not measured")) == "not measured"
    assert prediction_outcome({"verdict_in": ["helps"], "seeds": "811-820"}, helps, "801-810") == "not measured"
    assert prediction_outcome({"verdict_in": ["helps"], "seeds": "811-820"}, helps, "811-820") == "held"


def test_the_table_scores_each_folders_predictions_and_rejects_a_file_it_cannot_read(tmp_path):
    from benchmarks.shift_table import table

    folder, bare = tmp_path / "round" / "shifts", tmp_path / "bare"
    _summarised(folder, "channel", "batch", {"ida - mmd": (2.4, 0.4, 4.4), "mmd - source-only": (2.3, -1.7, 6.3)},
                list(range(801, 811)))
    _summarised(bare, "none", "batch", {}, [801, 802, 803])
    predictions = {"file": "../PREDICTION.md", "commit": "abc1234", "shifts": {"channel": [
        {"contrast": "ida - mmd", "text": "IDA - MMD within +-2, no conclusion", "mean_between": [-2, 2],
         "verdict_in": ["no conclusion"]},
        {"contrast": "mmd - source-only", "text": "MMD - SO: mean above 0", "mean_between": [0, None]},
        {"contrast": "ida - source-only", "text": "IDA - SO helps", "verdict_in": ["helps"]}]}}
    (folder / "predictions.json").write_text(json.dumps(predictions))
    table([str(folder), str(bare)], tmp_path)
    text = (tmp_path / "table.md").read_text()
    assert "| 64.0 | 1 of 3 held | `" in text
    assert "| 64.0 | - (no predictions.json) | `" in text
    scored = [line for line in text.split("## The predictions")[1].splitlines() if line.startswith("| channel")]
    assert scored[0].startswith("| channel | 801-810 | ida - mmd | IDA - MMD within +-2, no conclusion | "
                                "+2.40 [+0.40, +4.40] helps | failed | ")
    assert scored[0].endswith(f"`{tmp_path / 'round' / 'PREDICTION.md'}` (abc1234) |")  # the ../ resolved
    assert " | +2.30 [-1.70, +6.30] no conclusion | held | " in scored[1]
    assert " | - | not measured | " in scored[2]
    assert len(scored) == 3

    def refused(change, message):
        broken = json.loads(json.dumps(predictions))
        change(broken)
        (folder / "predictions.json").write_text(json.dumps(broken))
        with pytest.raises(InputError, match=message):
            table([str(folder)], tmp_path)

    first = lambda p: p["shifts"]["channel"][0]  # noqa: E731
    refused(lambda p: first(p).update(mean_between=[None, None], verdict_in=None),
            r"the prediction 'IDA - MMD within \+-2, no conclusion' on channel has no condition")
    refused(lambda p: first(p).update(contrast="ida-mmd"), "is on 'ida-mmd'; name one of adabn - source-only")
    refused(lambda p: first(p).update(verdict_in="no conclusion"), "has verdict_in 'no conclusion'; give a list of")
    refused(lambda p: first(p).update(verdict_in=["maybe"]), "has verdict_in \\['maybe'\\]")
    refused(lambda p: first(p).update(mean_between=[2, -2]), "has mean_between \\[2, -2\\]; give \\[low, high\\]")
    refused(lambda p: first(p).update(mean_between=[0]), "has mean_between \\[0\\]")
    refused(lambda p: first(p).update(seeds=[801, 810]), "has seeds \\[801, 810\\]")
    refused(lambda p: p["shifts"].update(band=[]), "predicts 'band', which .* lacks; it has channel")
    refused(lambda p: p.pop("commit"), "needs file, commit and shifts")


def _bench_runs(leads: dict[int, tuple[float, float]], heldout: float = 0.7) -> list[dict]:
    """IDA and MMD runs per seed with the given target UARs (fractions)."""
    return [{"method": method, "seed": seed, "weight": 0.1, "target_uar": uar, "source_uar": heldout}
            for seed, pair in leads.items() for method, uar in zip(("ida", "mmd"), pair)]


def test_a_lead_is_read_against_the_controls_on_the_seeds_both_ran_and_only_if_every_run_learned():
    from benchmarks.shift_table import beyond_control

    shift = _bench_runs({1: (0.60, 0.55), 2: (0.62, 0.57), 3: (0.58, 0.55), 4: (0.61, 0.56)})  # leads 5, 5, 3, 5
    control = _bench_runs({seed: (0.50, 0.49) for seed in (1, 2, 3, 4, 5)})  # 1 each; seed 5 has no partner
    found = beyond_control(shift, [control], 5)
    half = stats.t.ppf(0.975, 3) * 1.0 / 2  # differences 4, 4, 2, 4: sd 1
    assert found["n"] == 4 and found["mean"] == pytest.approx(3.5) and found["verdict"] == "helps"
    assert (found["low"], found["high"]) == pytest.approx((3.5 - half, 3.5 + half))
    assert found["seeds"] == [1, 2, 3, 4] and found["controls_used"] == [0]
    assert beyond_control(shift, [_bench_runs({9: (0.5, 0.5)})], 5) is None  # no seed in both
    unmeasured = [dict(r, source_uar=float("nan")) if (r["seed"], r["method"]) == (2, "mmd") else r for r in control]
    assert beyond_control(shift, [unmeasured], 5)["verdict"] == NOT_MEASURED
    unlearned = [dict(r, source_uar=0.3) if (r["seed"], r["method"]) == (3, "ida") else r for r in shift]
    found = beyond_control(unlearned, [control], 5)
    assert found["verdict"] == "no conclusion" and "did not learn" in found["reason"]
    other_weight = [dict(r, weight=0.3) if r["seed"] == 1 else r for r in control]  # seed 1 not alike: not paired
    split = [[r for r in other_weight if r["method"] == "ida"], other_weight]  # no seed's pair from two folders
    found = beyond_control(shift, split, 5)
    assert found["seeds"] == [2, 3, 4] and found["controls_used"] == [1]


def test_the_table_reads_each_rows_lead_against_the_control_and_scores_a_prediction_on_it(tmp_path):
    from benchmarks.shift_table import BEYOND_CONTROL, table

    shifted, control, noisy = tmp_path / "shifted", tmp_path / "control", tmp_path / "noisy"
    _summarised(shifted, "label-shift", "batch", {"ida - mmd": (4.5, 3.0, 6.0)}, [1, 2, 3, 4, 6])
    (shifted / "label-shift" / "runs.json").write_text(json.dumps({"rows": _bench_runs(
        {1: (0.60, 0.55), 2: (0.62, 0.57), 3: (0.58, 0.55), 4: (0.61, 0.56), 6: (0.6, 0.5)})}))
    _summarised(control, "none", "batch", {"ida - mmd": (1.0, 1.0, 1.0)}, [1, 2, 3, 4, 5])
    (control / "none" / "runs.json").write_text(json.dumps({"rows": _bench_runs({s: (0.50, 0.49) for s in range(1, 6)})}))
    _summarised(noisy, "class-snr", "batch", {}, [1, 2, 3])  # its own source: not read against the control
    (noisy / "class-snr" / "runs.json").write_text(json.dumps({"rows": _bench_runs({s: (0.7, 0.5) for s in (1, 2, 3)})}))
    (shifted / "predictions.json").write_text(json.dumps({"file": "P.md", "commit": "aaa1111", "shifts": {"label-shift": [
        {"contrast": BEYOND_CONTROL, "text": "beyond the control, +0.5 to +3", "mean_between": [0.5, 3.0],
         "file": "../later/P.md", "commit": "bbb2222"}]}}))
    group = tmp_path / "group"  # a control of another backbone, given first: never paired with BatchNorm rows
    _summarised(group, "none", None, {}, [1, 2, 3, 4, 5])
    (group / "none" / "runs.json").write_text(json.dumps({"rows": _bench_runs({s: (0.9, 0.1) for s in range(1, 6)})}))
    for folder in (shifted / "label-shift", control / "none", noisy / "class-snr"):
        record = json.loads((folder / "runs.json").read_text())
        (folder / "runs.json").write_text(json.dumps(dict(record, settings={"norm": "batch"})))
    table([str(group), str(shifted), str(noisy), str(control)], tmp_path)
    text = (tmp_path / "table.md").read_text()
    assert f"- `label-shift` (1-4, 6): 1-4 against `{control}`" in text
    rows = {line.split(" | ")[0][2:]: line for line in text.split("## The predictions")[0].splitlines()
            if line.startswith("| ") and not line.startswith("| shift")}
    assert "| **+4.5 [+3.0, +6.0] helps** | **+3.5 [+1.9, +5.1] helps** (4 seeds) | 64.0 | 0 of 1 held |" in rows["label-shift"]
    assert "| - | - | 64.0 | - (no predictions.json) |" in rows["class-snr"] and "| **+1.0 [+1.0, +1.0] helps** | - | 64.0 |" in rows["none"]
    scored = next(line for line in text.split("## The predictions")[1].splitlines() if line.startswith("| label-shift"))
    assert scored.startswith("| label-shift | 1-4, 6 |") and " | +3.50 [+1.91, +5.09] helps | failed | " in scored and scored.endswith(f"`{tmp_path / 'later' / 'P.md'}` (bbb2222) |")
    predictions = json.loads((shifted / "predictions.json").read_text())
    seeded = predictions["shifts"]["label-shift"][0]
    (shifted / "predictions.json").write_text(json.dumps(predictions | {"shifts": {"label-shift": [seeded | {"seeds": "1-4, 6"}]}}))
    table([str(shifted), str(control)], tmp_path)  # a prediction on all five seeds: the control paired four
    assert "| not measured |" in (tmp_path / "table.md").read_text()
    for broken, message in (
            (seeded | {"commit": 7}, "gives file and commit of its own; give both"),
            ({k: v for k, v in seeded.items() if k != "commit"}, "gives file of its own; give both")):
        (shifted / "predictions.json").write_text(json.dumps(predictions | {"shifts": {"label-shift": [broken]}}))
        with pytest.raises(InputError, match=message):
            table([str(shifted)], tmp_path)
    (control / "predictions.json").write_text(json.dumps({"file": "P.md", "commit": "c", "shifts": {"none": [seeded]}}))
    with pytest.raises(InputError, match="which none has none of"):
        table([str(control)], tmp_path)
    (control / "predictions.json").unlink()
    (shifted / "predictions.json").unlink()
    table([f"{shifted}:label-shift"], tmp_path)  # no control in the table: nothing to read against
    assert "| **+4.5 [+3.0, +6.0] helps** | - | 64.0 |" in (tmp_path / "table.md").read_text()
