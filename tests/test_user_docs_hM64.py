"""README.md is the overview a planner reads on a screen or two; the detail lives in docs/, one page a section (hM,
session 64). The README was 2,226 lines (250 KB) before: its sections moved verbatim into docs/*.md, and the tests
that check a claim read the page where it now lives (`tests/user_docs.py`)."""

from __future__ import annotations

import re
import shlex

import pytest
from tests.cli import readme_examples
from tests.user_docs import DOCS, PAGES, README, doc_path, relative, user_docs, user_docs_text

README_MAX_LINES = 350  # the brief's aim: what it answers, set-up, ~15 commands, the two tables, the tree, the links


def test_the_readme_is_an_overview() -> None:
    text = README.read_text()
    assert len(text.splitlines()) <= README_MAX_LINES
    headings = re.findall(r"^## (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M)
    assert headings == ["Usage", "Validation today", "Speed", "Documentation", "Architecture"]
    assert "make demo" in text and "make test" in text


def test_the_readme_links_every_page_and_every_link_resolves() -> None:
    """Each docs/ page is linked from the README; every relative link of every user doc names a file that exists."""
    readme = README.read_text()
    assert {f"docs/{page}.md" for page in PAGES} <= set(re.findall(r"\]\((docs/[a-z-]+\.md)\)", readme))
    for doc in user_docs():
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if not target.startswith(("http://", "https://")):
                assert (doc.parent / target).resolve().exists(), f"{relative(doc)}: link to {target}"


def test_each_page_is_one_section_with_its_title() -> None:
    titles = {page: doc_path(page).read_text().splitlines()[0] for page in PAGES}
    assert titles["usage"] == "# Usage" and titles["validation"] == "# Validation today"
    assert all(title.startswith("# ") for title in titles.values())
    assert sorted(path.stem for path in DOCS.glob("*.md")) == sorted(PAGES)


def test_the_readme_short_list_covers_the_commands_and_repeats_the_full_lists_lines() -> None:
    """The README's ~15 representative lines name the main commands, and each is a line of a docs page too (the
    full list there explains it), so `readme_examples` runs it once."""
    own = readme_examples.examples([README])
    assert 15 <= len(readme_examples.command_lines(README)) <= 30
    names = {shlex.split(line)[1] for line in own}
    assert names >= {"train", "search", "serve", "serve-plan", "network", "collective", "facility", "campus",
                     "reliability", "validate", "catalog", "schema", "recsys", "fleet-mix", "plan", "compare", "sweep",
                     "results"}
    pages = set(readme_examples.examples([doc_path(page) for page in PAGES]))
    assert [line for line in own if line not in pages] == []
    assert len(readme_examples.examples()) == len(pages)  # the README adds no line of its own to run


def test_user_docs_refuses_a_page_it_does_not_list(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    (tmp_path / "usage.md").write_text("# Usage\n")
    (tmp_path / "extra.md").write_text("# Extra\n")
    monkeypatch.setattr("tests.user_docs.DOCS", tmp_path)
    with pytest.raises(ValueError, match="extra"):
        user_docs()
    with pytest.raises(ValueError, match="no user doc page"):
        doc_path("extra")


def test_the_joined_text_holds_every_file_once_in_order() -> None:
    text = user_docs_text()
    starts = [text.index(path.read_text()) for path in user_docs()]
    assert starts == sorted(starts) and starts[0] == 0
