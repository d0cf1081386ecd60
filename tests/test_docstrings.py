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
