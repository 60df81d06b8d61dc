"""The docs' promises that code can check: generated figures match their source, sizes hold."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_what_the_summary_generates():
    from sparsepix.tools.readme import BEGIN, END, block

    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    assert readme[start:end] == block(ROOT / "benchmarks/results/kodak/summary.csv")


def test_replacing_the_block_keeps_the_rest():
    from sparsepix.tools.readme import BEGIN, END, replace_block

    text = f"intro\n{BEGIN}\nold\n{END}\noutro\n"
    assert replace_block(text, f"{BEGIN}\nnew\n{END}") == f"intro\n{BEGIN}\nnew\n{END}\noutro\n"
    with pytest.raises(SystemExit, match="markers"):
        replace_block("no block here", "x")


@pytest.mark.parametrize(
    "path, limit",
    [("README.md", 6_000), ("docs/DECISIONS.md", 25_000), ("docs/ARCHITECTURE.md", 8_000)]
    + [(f"docs/models/{p.name}", 5_000) for p in sorted((ROOT / "docs/models").glob("*.md"))],
)
def test_docs_stay_short(path, limit):
    assert (ROOT / path).stat().st_size <= limit


def test_html_report_renders_bold_and_code(tmp_path):
    from sparsepix.benchmarks.report import _html

    page = _html("**Where it stands** with `natural`.", tmp_path, "t")
    assert "<strong>Where it stands</strong>" in page and "<code>natural</code>" in page
    assert "**" not in page
    assert "pre-wrap" in page  # a long command wraps instead of scrolling the page sideways


def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {})
    assert (tmp_path / "astronaut.spx").is_file() and (tmp_path / "astronaut.png").is_file()
