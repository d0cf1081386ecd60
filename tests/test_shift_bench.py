"""The shift bench's summary: paired contrasts, and a method run at a second weight kept apart."""

from __future__ import annotations

import json

from benchmarks.shift_bench import summarise


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
