"""B->C and C->B end to end on the real EmoDB and CASIA copies (skipped where ../shared/corpora is absent)."""

from __future__ import annotations

import json

import pytest

from didan_lite.cli import main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One cache for both tasks, so the second reuses the first's spectrograms."""
    return tmp_path_factory.mktemp("didan-data")


@pytest.mark.corpora
@pytest.mark.slow
@pytest.mark.parametrize("task, source, target, n_target", [("B-C", "emodb", "casia", 1000), ("C-B", "casia", "emodb", 408)])
def test_paper_task_runs_on_the_real_copies(shared_corpora, data_dir, tmp_path, monkeypatch, capsys, task, source, target, n_target):
    monkeypatch.setenv("DIDAN_LITE_DATA", str(data_dir))
    out = tmp_path / task
    code = main(["compare", "--task", task, "--data-root", str(shared_corpora), "--methods", "opensmile-svm,source-only,ida",
                 "--seeds", "0", "--epochs", "1", "--out", str(out), "--no-figures", "--quiet"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["source"], metrics["target"]) == (source, target)
    assert metrics["class_names"] == ["anger", "fear", "happiness", "neutral", "sadness"]
    # all five shared emotions of the target: EmoDB 127+69+71+79+62, CASIA 5 x 200
    assert metrics["n_utterances"]["target"] == n_target
    assert metrics["skipped_files"] == []
    assert [r["method"] for r in metrics["runs"]] == ["opensmile-svm", "source-only", "ida"]
    for run in metrics["runs"]:  # every figure of the report, per method and seed
        for key in ("target_uar", "target_war", "source_heldout_uar", "proxy_a_distance", "feature_effective_rank", "seconds"):
            assert run[key] is not None, (run["method"], key)
    assert metrics["runs"][2]["alignment_weight"] == metrics["weight_selection"][0]["chosen"]
    assert "## Verdicts" in (out / "report.md").read_text()
