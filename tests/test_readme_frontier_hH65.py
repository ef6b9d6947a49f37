"""Issue 13's "done when": `train deepseek-v3 --system gb200-nvl72-superpod ...`, `search` with EP on NVL72 and
`serve deepseek-r1` with wide EP are documented in the README (hH, session 65). The README had the `train` line
only; the `search` and wide-EP `serve` lines lived in docs/usage.md and docs/serving.md. They are now among the
README's representative lines (each is a docs page's line too, `test_user_docs_hM64`, so it runs once)."""

from __future__ import annotations

import shlex

from tests.cli import readme_examples
from tests.user_docs import README


def _readme_commands() -> list[list[str]]:
    return [shlex.split(command) for _, command, commented in readme_examples.command_lines(README) if not commented]


def _option(words: list[str], name: str) -> str | None:
    return words[words.index(name) + 1] if name in words else None


def test_the_readme_trains_and_searches_deepseek_v3_on_nvl72_racks() -> None:
    commands = _readme_commands()
    train = [w for w in commands if w[:2] == ["train", "deepseek-v3"] and "nvl72" in (_option(w, "--system") or "")]
    search = [w for w in commands if w[:2] == ["search", "deepseek-v3"] and "nvl72" in (_option(w, "--system") or "")]
    assert train and int(_option(train[0], "--ep") or 1) > 1
    assert search  # the search's grid holds EP (its notes say where the best EP group's all-to-all runs)


def test_the_readme_serves_deepseek_r1_with_wide_ep() -> None:
    serve = [w for w in _readme_commands() if w[:2] == ["serve", "deepseek-r1"]]
    assert serve, "no `serve deepseek-r1` line in the README"
    words = serve[0]
    assert "nvl72" in (_option(words, "--system") or "")
    assert int(_option(words, "--ep") or 1) == int(_option(words, "--attention-dp") or 0) > 8  # wide EP over the rack
