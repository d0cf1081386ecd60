"""benchmarks/paired_grid.py: resume (a second invocation trains nothing), the weight chosen by the library's
rule and stored, the channel's task name, and the summary of round 9's folders through didan_lite.verdicts.

Tiny tone corpora and one epoch of the fast preset: this checks the script, not the methods.
"""

from __future__ import annotations

import importlib

import json
import shutil

import numpy as np
import pytest
from scipy import stats

from conftest import REPO

from didan_lite.reference import read_reference

ROUND9 = REPO / "benchmarks" / "results" / "round9"


@pytest.fixture
def grid(tone_corpora, tmp_path, monkeypatch):
    """The script as a module, its task reading the tone corpora, its caches under ``tmp_path``."""
    module = importlib.import_module("benchmarks.paired_grid")
    source, target = tone_corpora
    monkeypatch.setattr(module, "task_manifests", lambda task, root: (source, target, None))
    monkeypatch.setenv("DIDAN_LITE_DATA", str(tmp_path / "data"))
    return module


def _forbid_training(module, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("trained again")

    for name in ("_train", "choose_weight", "cross_validate", "run_classical"):
        monkeypatch.setattr(module, name, refuse)


def test_a_second_invocation_trains_nothing_and_reuses_the_selection(grid, tmp_path, monkeypatch):
    out = tmp_path / "out"
    argv = ["--task", "tones", "--fast", "--epochs", "1", "--methods", "source-only,mmd", "--seeds", "3,4",
            "--weights", '{"mmd": "auto"}', "--out", str(out)]
    assert grid.main(argv) == 0
    first_text = (out / "grid.json").read_text()
    first = json.loads(first_text)
    selection = json.loads((out / "selection.json").read_text())
    mmd = selection["mmd"]
    assert mmd["weight"] in (0.0, 0.1, 1.0) and mmd["reason"]
    assert set(mmd["candidate_heldout_source_uar"]) == {"0", "0.1", "1"}  # weight 0: source-only's selection runs
    assert mmd["heldout_source_uar"] == mmd["candidate_heldout_source_uar"][f"{mmd['weight']:g}"]
    assert mmd["protocol"]["selection_seed"] == 3 and first["selection"]["mmd"]["weight"] == mmd["weight"]
    assert [(r["method"], r["seed"]) for r in first["rows"]] == [("source-only", 3), ("mmd", 3), ("source-only", 4), ("mmd", 4)]
    assert all(r["alignment_weight"] == mmd["weight"] for r in first["rows"] if r["method"] == "mmd")
    # the selection seed's run of the chosen weight is the selection's own (fast mode: no refit, loaded from its checkpoint)
    assert next(r for r in first["rows"] if r["method"] == "mmd")["source_heldout_uar"] == mmd["heldout_source_uar"]
    assert all(r["class_alignment"] is not None and r["task"] == "tones" for r in first["rows"])

    _forbid_training(grid, monkeypatch)
    assert grid.main(argv) == 0
    assert (out / "grid.json").read_text() == first_text  # nothing new to record
    assert grid.main([*argv[:-6], "--seeds", "4", *argv[-4:]]) == 0  # a later first seed keeps the stored selection

    assert grid.main(["--summarise", str(out), "--out", str(tmp_path / "s")]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert results["weight_selection"]["tones"]["mmd@rule"]["weight"] == mmd["weight"]  # chosen by the rule: named so
    assert results["verdicts"]["mmd@rule"]["tones"]["n_pairs"] == 2
    assert f"- tones mmd@rule: **{mmd['weight']:g}** (0: " in (tmp_path / "s" / "results.md").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert [(r["method"], r["seed"]) for r in metrics["runs"]] == [(r["method"], r["seed"]) for r in first["rows"]]


def test_a_new_seed_trains_only_its_own_runs(grid, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    base = ["--task", "tones", "--fast", "--epochs", "1", "--methods", "source-only", "--out", str(out)]
    assert grid.main([*base, "--seeds", "5"]) == 0
    trained = []
    train = grid._train
    monkeypatch.setattr(grid, "_train", lambda task, method, seed, *a, **k: trained.append(seed) or train(task, method, seed, *a, **k))
    assert grid.main([*base, "--seeds", "5,6"]) == 0
    assert trained == [6]
    rows = json.loads((out / "grid.json").read_text())["rows"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["seed"] for r in rows] == [5, 6] and [r["seed"] for r in metrics["runs"]] == [5, 6]
    other = tmp_path / "other"  # a new folder that counts the first one's rows as done
    capsys.readouterr()
    assert grid.main([*base[:-1], str(other), "--seeds", "5,6,7", "--done-in", str(out), "--plan"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "would train tones source-only seed 7 weight -"
    assert trained == [6] and not (other / "grid.json").exists()
    assert grid.main([*base[:-1], str(other), "--seeds", "5,6,7", "--done-in", str(out)]) == 0
    assert trained == [6, 7] and [r["seed"] for r in json.loads((other / "grid.json").read_text())["rows"]] == [7]


def test_the_channel_names_the_task_and_a_folder_holds_one_task(grid, tmp_path, monkeypatch):
    channels = []
    monkeypatch.setattr(grid, "rerecorded", lambda manifest, channel: channels.append(channel) or manifest)
    out = tmp_path / "out"
    argv = ["--task", "B-C", "--fast", "--epochs", "1", "--methods", "source-only", "--seeds", "1", "--out", str(out)]
    assert grid.main([*argv, "--target-channel", "telephone"]) == 0
    (row,) = json.loads((out / "grid.json").read_text())["rows"]
    assert (row["task"], row["channel"], channels) == ("B-C+telephone", "telephone", ["telephone"])
    assert grid.main(argv) == 2  # the same folder for the task without the channel: refused, nothing lost


@pytest.mark.parametrize("weights", ["{mmd: 0.1}", '{"mmd": -1}', '{"nope": 0.1}', '{"mmd": "sometimes"}'])
def test_bad_weights_are_one_error_line(grid, tmp_path, capsys, weights):
    argv = ["--task", "tones", "--methods", "source-only,mmd", "--weights", weights, "--out", str(tmp_path / "o")]
    assert grid.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--weights" in err[0]


def test_a_folder_in_use_is_refused(grid, tmp_path, capsys):
    from didan_lite.folders import hold_folder

    with hold_folder(tmp_path / "o"):
        assert grid.main(["--task", "tones", "--methods", "source-only", "--out", str(tmp_path / "o")]) == 2
    assert "in use by another run" in capsys.readouterr().err


def _differences(rows, task, method):
    by = {(r["seed"], r["method"]): r["target_uar"] for r in rows if r["task"] == task}
    return [100 * (by[(s, method)] - by[(s, "source-only")]) for (s, m) in by if m == method and (s, "source-only") in by]


@pytest.mark.skipif(not (ROUND9 / "B-C" / "grid.json").is_file(), reason="round 9's grid is not in this checkout")
def test_round9_summarises_and_an_extra_folder_counts_each_run_once(grid, tmp_path):
    folders = [ROUND9 / name for name in ("B-C", "C-B", "B-C-adabn", "C-B-adabn")]
    bc = json.loads((ROUND9 / "B-C" / "grid.json").read_text())
    extra = tmp_path / "B-C-710"
    extra.mkdir()
    new = {"task": "B-C", "method": "mmd", "seed": 710, "target_uar": 0.5, "source_heldout_uar": float("nan"),
           "proxy_a_distance": 1.0, "feature_effective_rank": 3.0, "seconds": 1.0, "alignment_weight": 0.1,
           "trained_on": "all source speakers", "class_alignment": 0.4, "channel": None}
    duplicate = {**bc["rows"][0], "target_uar": 0.0}  # the same (task, method, seed) as round 9's first row
    (extra / "grid.json").write_text(json.dumps({**{k: bc[k] for k in ("command", "commit", "date", "machine", "elapsed_s")},
                                                 "rows": [duplicate, new]}))
    shutil.copy(ROUND9 / "B-C" / "metrics.json", extra / "metrics.json")
    heldout = ["--heldout", str(ROUND9 / "selection_heldout.json")]
    assert grid.main(["--summarise", *map(str, folders), str(extra), "--out", str(tmp_path / "s"), *heldout]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    rows = results["rows"]
    stored = [row for f in folders for row in json.loads((f / "grid.json").read_text())["rows"]]
    with_network = [row for row in stored if row["method"] == "adabn" and "target_uar_source_statistics" in row]
    assert with_network and len(rows) == len(stored) + 1 + len(with_network)  # + one batchnorm row per such adabn run
    assert len(results["dropped_duplicates"]) == 1 and "B-C/source-only/701" in results["dropped_duplicates"][0]
    for task in ("B-C", "C-B"):
        diffs = _differences(rows, task, "ida")
        mean, half = np.mean(diffs), stats.t.ppf(0.975, len(diffs) - 1) * np.std(diffs, ddof=1) / np.sqrt(len(diffs))
        record = results["verdicts"]["ida"][task]
        assert record["n_pairs"] == len(diffs) and record["mean_difference"] == pytest.approx(mean)
        assert (record["ci_low"], record["ci_high"]) == pytest.approx((mean - half, mean + half))
    assert results["verdicts"]["mmd"]["B-C"]["n_pairs"] == len(_differences(rows, "B-C", "mmd")) == 10
    assert results["verdicts"]["mmd"]["pooled"]["n_pairs"] == 10 + len(_differences(rows, "C-B", "mmd"))
    assert grid.main(["--summarise", *map(str, folders), "--out", str(tmp_path / "p"), "--pool", "C-B"]) == 0
    pooled = json.loads((tmp_path / "p" / "results.json").read_text())["verdicts"]["ida"]
    assert pooled["pooled"] == pooled["C-B"]
    assert grid.main(["--summarise", *map(str, folders), "--out", str(tmp_path / "p"), "--pool", "B-E"]) == 2
    table = (tmp_path / "s" / "results.md").read_text()
    line = next(row for row in table.splitlines() if row.startswith("| B-C | mmd | 10 |"))
    assert "† (9) / 40.0 (1) |" in line  # round 9's figure and the library's kept apart, with their counts


def test_full_mode_refits_and_fills_the_heldout_column_from_the_selection(grid, tmp_path):
    out = tmp_path / "out"
    argv = ["--task", "tones", "--epochs", "1", "--methods", "source-only,mmd", "--seeds", "2", "--weights", "auto",
            "--out", str(out)]
    assert grid.main(argv) == 0
    payload = json.loads((out / "grid.json").read_text())
    selection = payload["selection"]
    assert set(selection) == {"source-only", "mmd"} and selection["mmd"]["weight"] in (0.0, 0.1, 0.3, 1.0)
    assert selection["mmd"]["candidate_heldout_source_uar"]["0"] == pytest.approx(selection["source-only"]["heldout_source_uar"])
    for row in payload["rows"]:
        assert row["trained_on"] == "all source speakers"
        assert row["source_heldout_uar"] == selection[row["method"]]["heldout_source_uar"]
        assert "speaker folds" in row["source_heldout_from"]


def test_seeds_take_lists_and_ranges_and_bad_paths_are_one_line(grid, tmp_path, capsys):
    assert grid.parse_seeds("701-703,705,702") == [701, 702, 703, 705]
    for bad in ("701-", "70a", "705-701", ""):
        with pytest.raises(grid.InputError):
            grid.parse_seeds(bad)
    assert grid.main(["--summarise", str(tmp_path / "no-such-task"), "--out", str(tmp_path / "out")]) == 2
    assert "no-such-task" in capsys.readouterr().err
    assert grid.main(["--task", "synthetic", "--heldout", str(tmp_path / "typo.json"), "--out", str(tmp_path / "o"),
                      "--plan"]) == 2
    assert "typo.json does not exist" in capsys.readouterr().err


def test_rows_of_a_weight_chosen_by_the_rule_stand_beside_the_fixed_weight_rows(grid, tmp_path):
    def row(method, seed, uar, weight):
        return {"task": "B-C", "n_classes": 5, "method": method, "seed": seed, "target_uar": uar,
                "source_heldout_uar": 0.6, "proxy_a_distance": 1.0, "feature_effective_rank": 3.0, "seconds": 1.0,
                "alignment_weight": weight, "trained_on": "all source speakers", "class_alignment": 0.4, "channel": None}

    provenance = {"command": "c", "commit": "x", "date": "d", "machine": "m", "elapsed_s": 1.0}
    fixed, ruled = tmp_path / "fixed", tmp_path / "rule"
    fixed.mkdir(), ruled.mkdir()
    seeds = (1, 2, 3)
    (fixed / "grid.json").write_text(json.dumps({**provenance, "rows": [row("source-only", s, 0.40, None) for s in seeds]
                                                 + [row("ida", s, 0.41, 0.1) for s in seeds]}))
    choice = {"protocol": {"task": "B-C"}, "weight": 0.3, "reason": "the rule", "choice": {},
              "candidate_heldout_source_uar": {"0": 0.6, "0.3": 0.61}}
    (ruled / "grid.json").write_text(json.dumps({**provenance, "selection": {"ida": choice},
                                                 "rows": [row("ida", s, 0.45 + 0.01 * s, 0.3) for s in seeds]}))
    assert grid.main(["--summarise", str(fixed), str(ruled), "--out", str(tmp_path / "s")]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert not results["dropped_duplicates"]
    assert results["verdicts"]["ida"]["B-C"]["mean_difference"] == pytest.approx(1.0)
    assert results["verdicts"]["ida@rule"]["B-C"]["mean_difference"] == pytest.approx(7.0)
    assert "- B-C ida@rule: **0.3**" in (tmp_path / "s" / "results.md").read_text()


def test_adabn_runs_give_the_network_row_and_the_contrasts_pair_methods_with_each_other(grid, tmp_path):
    def row(method, seed, uar, **extra):
        return {"task": "C-B", "n_classes": 5, "method": method, "seed": seed, "target_uar": uar,
                "source_heldout_uar": 0.5, "proxy_a_distance": 1.0, "feature_effective_rank": 3.0, "seconds": 1.0,
                "alignment_weight": None, "trained_on": "all source speakers", "class_alignment": 0.4, "channel": None,
                "source_fit_uar": 0.9, **extra}

    provenance = {"command": "c", "commit": "x", "date": "d", "machine": "m", "elapsed_s": 1.0}
    folder = tmp_path / "C-B"
    folder.mkdir()
    seeds = (1, 2, 3, 4)
    rows = ([row("source-only", s, 0.40 + 0.02 * s) for s in seeds]
            + [row("adabn", s, 0.44 + 0.01 * s, target_uar_source_statistics=0.50 + 0.01 * s) for s in seeds]
            + [row("mmd", s, 0.41 + 0.02 * s, alignment_weight=0.1) for s in seeds]
            + [row("ida", s, 0.43 + 0.02 * s + 0.01 * (s % 2), alignment_weight=0.1) for s in seeds])
    (folder / "grid.json").write_text(json.dumps({**provenance, "rows": rows}))
    assert grid.main(["--summarise", str(folder), "--out", str(tmp_path / "s")]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    network = [r for r in results["rows"] if r["method"] == "batchnorm"]
    assert [r["target_uar"] for r in network] == pytest.approx([0.50 + 0.01 * s for s in seeds])
    assert results["verdicts"]["batchnorm"]["C-B"]["mean_difference"] == pytest.approx(np.mean([10 - s for s in seeds]))
    step = results["contrasts"]["adabn - batchnorm"]["C-B"]
    assert step["n_pairs"] == 4 and step["mean_difference"] == pytest.approx(-6.0)  # the same network, one run each
    assert step["ci_low"] == pytest.approx(-6.0) and step["verdict"] == "hurts" and step["paired_sd"] == pytest.approx(0)
    versus = results["contrasts"]["ida - mmd"]["C-B"]
    assert versus["mean_difference"] == pytest.approx(np.mean([2 + (s % 2) for s in seeds]))
    assert "ida-spread - ida" not in results["contrasts"]  # a contrast is printed only where both methods ran
    table = (tmp_path / "s" / "results.md").read_text()
    assert "| C-B | source-only | 4 | 45.0 ± 2.6 | 50.0 | 90.0 |" in table
    assert "| ida | +3.5 [+2.6, +4.4] (n=4, paired sd 0.6," in table


def test_the_batchnorm_backbone_gives_the_adabn_row_and_a_folder_keeps_one_backbone(grid, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--task", "tones", "--fast", "--epochs", "1", "--methods", "source-only,mmd", "--seeds", "3,4",
            "--weights", '{"mmd": 0.1}', "--out", str(out)]
    assert grid.main([*argv, "--norm", "batch"]) == 0
    written = json.loads((out / "grid.json").read_text())
    assert written["settings"]["norm"] == "batch"
    assert all(r["target_uar_target_statistics"] is not None for r in written["rows"])  # only a BatchNorm net has them
    capsys.readouterr()
    assert grid.main([*argv, "--norm", "group"]) == 2  # the same folder on another backbone: refused, nothing lost
    assert "'batch' backbone, not 'group'" in capsys.readouterr().err
    assert json.loads((out / "grid.json").read_text()) == written

    assert grid.main(["--summarise", str(out), "--out", str(tmp_path / "s")]) == 0
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    so = {r["seed"]: r for r in results["rows"] if r["method"] == "source-only"}
    adapted = {r["seed"]: r for r in results["rows"] if r["method"] == "adabn"}
    assert sorted(adapted) == [3, 4]  # one derived row per source-only run, none from mmd's
    for seed, row in adapted.items():
        assert row["target_uar"] == so[seed]["target_uar_target_statistics"]
        assert so[seed]["target_uar"] == so[seed]["target_uar_source_statistics"]  # source-only keeps its own statistics
    assert results["verdicts"]["adabn"]["tones"]["n_pairs"] == 2

    make_reference = importlib.import_module("benchmarks.make_reference").main  # the folder as a shipped reference
    assert make_reference([str(out), "--task", "tones", "--out", str(tmp_path / "ref")]) == 0
    reference = read_reference(tmp_path / "ref" / "tones.json")
    assert reference.provenance["mode"] == "fast" and reference.provenance["command"] == written["command"]
    runs = reference.runs.set_index(["method", "seed"])
    assert sorted(runs.index) == [(m, s) for m in ("adabn", "mmd", "source-only") for s in (3, 4)]
    for seed in (3, 4):
        assert runs.loc[("adabn", seed), "target_uar"] == so[seed]["target_uar_target_statistics"]
    own = {(r["method"], r["seed"]): r["source_heldout_uar"] for r in written["rows"]}  # as the grid measured them
    for (method, seed), value in runs["source_heldout_uar"].items():
        assert value == own[("source-only" if method == "adabn" else method, seed)]
    unmeasured = tmp_path / "unmeasured"  # runs without a held-out figure take it from --heldout
    shutil.copytree(out, unmeasured)
    stripped = {**written, "rows": [{**r, "source_heldout_uar": None} for r in written["rows"]]}
    (unmeasured / "grid.json").write_text(json.dumps(stripped))
    heldout = tmp_path / "heldout.json"
    heldout.write_text(json.dumps({"tones": {"source-only": 0.61, "mmd": 0.62}}))
    assert make_reference([str(unmeasured), "--task", "tones", "--heldout", str(heldout), "--out", str(tmp_path / "r2")]) == 0
    filled = read_reference(tmp_path / "r2" / "tones.json").runs.groupby("method")["source_heldout_uar"].unique()
    assert {m: list(v) for m, v in filled.items()} == {"adabn": [0.61], "mmd": [0.62], "source-only": [0.61]}

    group = tmp_path / "group"
    assert grid.main([*argv[:-1], str(group), "--norm", "group"]) == 0
    rows = json.loads((group / "grid.json").read_text())["rows"]
    assert all(r.get("target_uar_target_statistics") is None for r in rows)  # only a BatchNorm network has them

    masked = tmp_path / "masked"  # masked source batches are another backbone: a folder of their own, summarised apart
    assert grid.main([*argv[:-1], str(masked), "--norm", "batch", "--spec-masks"]) == 0
    assert json.loads((masked / "grid.json").read_text())["settings"]["spec_masks"] == {
        "freq_masks": 2, "max_bins": 8, "time_masks": 2, "max_frames": 12}
    capsys.readouterr()
    for args in ([*argv[:-1], str(masked), "--norm", "batch"], [*argv[:-1], str(out), "--norm", "batch", "--spec-masks"]):
        assert grid.main(args) == 2
        assert "backbone, not 'batch" in capsys.readouterr().err
    assert grid.main(["--summarise", str(out), str(masked), "--out", str(tmp_path / "mixed")]) == 2
    message = capsys.readouterr().err
    assert "different backbones ('batch' in" in message and "'batch+spec-masks' in" in message

    legacy = tmp_path / "legacy"  # a folder written before --norm existed ran GroupNorm, the default of its time
    shutil.copytree(group, legacy)
    old = json.loads((legacy / "grid.json").read_text())
    old["settings"].pop("norm")
    (legacy / "grid.json").write_text(json.dumps(old))
    capsys.readouterr()
    for args in ([*argv[:-1], str(legacy), "--norm", "batch"], [*argv[:-1], str(tmp_path / "new"), "--done-in", str(legacy)]):
        assert grid.main(args) == 2  # BatchNorm runs are never added to it, nor counted as done by it
        assert "'group' backbone, not 'batch'" in capsys.readouterr().err
    assert json.loads((legacy / "grid.json").read_text()) == old

    bad = tmp_path / "bad.json"
    for args, message in (([str(out), str(group)], "different backbones"), ([str(out), "--task", "other"], "not other"),
                          ([str(tmp_path)], "without grid.json")):
        assert make_reference([*args, *(["--task", "tones"] if "--task" not in args else []),
                               "--out", str(tmp_path / "r3")]) == 2
        assert message in capsys.readouterr().err
    bad.write_text(json.dumps({"tones": {"mmd": "high"}}))
    assert make_reference([str(out), "--task", "tones", "--heldout", str(bad), "--out", str(tmp_path / "r3")]) == 2
    assert "'tones' 'mmd' is 'high'" in capsys.readouterr().err and not (tmp_path / "r3").exists()
