"""docs/python-api.md cannot rot: its code blocks run as written, in order, in one namespace (hK66).

The default run leaves out the blocks the page says are slow (`run_validation`, ~45 s; `plan_fleet`, ~10 s), which
`pytest -m slow` runs with the rest. Each public name of `infraplan.__all__` has a block that calls it, and the
README's Documentation table links the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import infraplan

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "python-api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
SLOW_CALLS = ("run_validation(", "plan_fleet(")


def _run(blocks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the page's paths are the repository's (examples/...)
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"{PAGE.name} block {number}", "exec"), namespace)  # noqa: S102 (our own page)


def test_the_pages_blocks_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _run([b for b in BLOCKS if not any(call in b for call in SLOW_CALLS)], monkeypatch)
    out = capsys.readouterr().out
    assert "Invalid value for '--top': 0: must be greater than or equal to 1" in out  # the last block's comment


@pytest.mark.slow
def test_every_block_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    _run(BLOCKS, monkeypatch)


def test_every_public_name_has_an_example() -> None:
    code = "\n".join(BLOCKS)
    missing = [n for n in infraplan.__all__ if n != "__version__" and f"infraplan.{n}" not in code]
    assert missing == []
    assert len([b for b in BLOCKS if any(call in b for call in SLOW_CALLS)]) == 2  # only those two are left out


def test_the_readme_links_the_page() -> None:
    assert "| [docs/python-api.md](docs/python-api.md) |" in (ROOT / "README.md").read_text()
