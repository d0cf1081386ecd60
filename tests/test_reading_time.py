"""Each teaching notebook can be read within a lab period (notebooks/reading_time.py states how it is counted)."""

import nbformat
import pytest

from conftest import load_script

reading = load_script("notebooks/reading_time.py")


def test_words_are_counted_in_markdown_and_code_cells_only(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title\n\nfour words of prose"),
                      nbformat.v4.new_code_cell("x = 1  # five words"),
                      nbformat.v4.new_raw_cell("not counted at all")]
    notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="outputs are not counted")]
    path = tmp_path / "99_tiny.ipynb"
    nbformat.write(notebook, path)
    time = reading.reading_time(path)
    assert (time.markdown_words, time.code_words) == (6, 6)
    assert time.minutes == pytest.approx(12 / reading.WORDS_PER_MINUTE)
    assert time.slow_minutes > time.minutes


def test_check_fails_on_a_notebook_over_the_budget(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("word " * int(reading.WORDS_PER_MINUTE * (reading.BUDGET_MINUTES + 1)))]
    path = tmp_path / "98_long.ipynb"
    nbformat.write(notebook, path)
    assert reading.main([str(path), "--check"]) == 1
    assert "over the 20-minute budget" in capsys.readouterr().err


@pytest.mark.parametrize("path", reading.teaching_notebooks(), ids=lambda p: p.stem)
def test_notebook_reads_within_a_lab_period(path):
    time = reading.reading_time(path)
    assert time.minutes <= reading.BUDGET_MINUTES, (
        f"{path.name}: {time.words} words, {time.minutes:.1f} min at {reading.WORDS_PER_MINUTE} words per minute; "
        f"cut it or move material to an appendix (budget {reading.BUDGET_MINUTES:g} min)")


def test_all_seven_teaching_notebooks_are_measured():
    assert [p.name[:2] for p in reading.teaching_notebooks()] == ["01", "02", "03", "04", "05", "06", "07"]
