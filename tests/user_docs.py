"""The user documentation the tests read: README.md (the overview) and the pages of docs/ it links (hM, session 64).

README.md keeps what a planner needs on a screen or two (what the tool answers, set-up, a short command list, the
validation set table, the speed table, the architecture); each detailed section lives in its own page of docs/,
moved verbatim. A test that checks a claim reads the file where the claim lives (`doc_path`) or, where it only
needs the claim said somewhere, the joined text (`user_docs_text`); `tests/cli/readme_examples.py` runs the command
lines of every file `user_docs()` lists.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# the pages in the README's order; a page docs/ holds that is not listed here fails `user_docs`
PAGES = ("usage", "modelling", "validation", "network", "serving", "custom-silicon", "facility", "planning", "web",
         "sweeps", "python-api", "speed")


def doc_path(name: str) -> Path:
    """README.md for "README", else docs/NAME.md (a page that exists)."""
    if name == "README":
        return README
    if name not in PAGES:
        raise ValueError(f"no user doc page {name!r}: one of README, {', '.join(PAGES)}")
    return DOCS / f"{name}.md"


def user_docs() -> list[Path]:
    """README.md, then every page of docs/ in `PAGES` order; every docs/*.md must be one of them."""
    unlisted = sorted(path.stem for path in DOCS.glob("*.md") if path.stem not in PAGES)
    if unlisted:
        raise ValueError(f"docs/ pages not in tests/user_docs.py PAGES: {', '.join(unlisted)}")
    return [README, *(doc_path(name) for name in PAGES)]


def user_docs_text() -> str:
    """README.md and docs/*.md joined, in `user_docs` order (one blank line between files)."""
    return "\n\n".join(path.read_text(encoding="utf-8") for path in user_docs())


def relative(path: Path) -> str:
    """README.md or docs/NAME.md: a doc's name in a test message."""
    return path.relative_to(ROOT).as_posix()
