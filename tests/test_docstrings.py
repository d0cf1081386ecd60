"""Module docstrings say what a module does and how to use it; the history behind it lives in docs/decisions/.

No module docstring of didan_lite cites a development round, an issue number or a result path
(``benchmarks/results/...``): those belong to ``docs/decisions/<decision>.md`` and the results index.
"""

from __future__ import annotations

import ast
import re

from conftest import REPO

HISTORY = re.compile(r"\bround\s*\d+|\bround\d|\bissue\s*#?\d+|\bissue\d|benchmarks/results", re.IGNORECASE)


def _citing() -> dict[str, list[str]]:
    found = {}
    for path in sorted((REPO / "didan_lite").rglob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        hits = HISTORY.findall(docstring)
        if hits:
            found[path.relative_to(REPO).as_posix()] = hits
    return found


def test_no_module_docstring_cites_a_round_an_issue_or_a_result_path():
    citing = _citing()
    assert citing == {}, f"move these to docs/decisions/: {citing}"


def test_every_decision_page_is_linked_from_the_index_and_named_in_the_code():
    pages = sorted((REPO / "docs" / "decisions").glob("*.md"))
    index = (REPO / "docs" / "decisions" / "README.md").read_text(encoding="utf-8")
    code = "\n".join(path.read_text(encoding="utf-8") for path in (REPO / "didan_lite").rglob("*.py"))
    for page in pages:
        if page.name != "README.md":
            assert f"({page.name})" in index, f"{page.name} is not in docs/decisions/README.md"
            assert f"docs/decisions/{page.name}" in code, f"no module names docs/decisions/{page.name}"


MEASUREMENT = re.compile(r"\d\s*%|\bseeds?\s+\d")
"""A percentage or a seed number: a measurement, which belongs to docs/decisions/ too."""


def _config_docstrings() -> dict[str, str]:
    """The class docstring and every attribute docstring of each ``*Config`` class of didan_lite, by dotted name."""
    found = {}
    for path in sorted((REPO / "didan_lite").rglob("*.py")):
        module = path.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ClassDef) and node.name.endswith("Config")):
                continue
            found[f"{module}.{node.name}"] = ast.get_docstring(node) or ""
            for field, text in zip(node.body, node.body[1:]):
                if isinstance(field, ast.AnnAssign) and isinstance(text, ast.Expr) and isinstance(text.value, ast.Constant) \
                        and isinstance(text.value.value, str):
                    found[f"{module}.{node.name}.{field.target.id}"] = text.value.value
    return found


def test_config_docstrings_say_what_a_setting_does_not_what_it_measured():
    docstrings = _config_docstrings()
    assert {"didan_lite.config.ExperimentConfig.features", "didan_lite.features.FeatureConfig.band_floor_db",
            "didan_lite.training.TrainConfig.alignment_weight"} <= set(docstrings)  # the scan sees attribute docstrings
    citing = {name: HISTORY.findall(text) + MEASUREMENT.findall(text) for name, text in docstrings.items()}
    citing = {name: hits for name, hits in citing.items() if hits}
    assert citing == {}, f"move the why and the numbers to docs/decisions/: {citing}"
