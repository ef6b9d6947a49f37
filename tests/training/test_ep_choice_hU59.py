"""hU59 (session 59): an MoE search's answer says why its best plan runs its EP (`training.ep_choice`): the best plan
of the other kind (EP 1 against EP > 1) in the best plan's precision, its step time against the best's and the
breakdown rows that differ most. hF59: Mixtral 8x7B on 64 B200 answered EP 1, 2.4 % ahead of EP 8, and no line said
why. At the base tree `PlanSearchResult` had no `ep_choice` (every test here fails: AttributeError / ImportError)."""

from __future__ import annotations

import re

import pytest

from infraplan.training import ep_choice as ep_choice_module
from infraplan.training.search import search_plans

MIXTRAL = ("mixtral-8x7b", "dgx-b200", 64, 4096, 256)


def test_mixtral_says_why_ep_1_with_the_best_ep_8_plan_and_the_terms_that_differ() -> None:
    result = search_plans(*MIXTRAL)
    assert result.best is not None and result.best.config.ep == 1
    other = next(r for r in result.top if r.config.ep > 1)  # the answer's own EP 8 plan (#5 of the top 5)
    line = result.ep_choice
    assert line is not None and line.startswith("why EP 1: the best plan with EP > 1, ")
    assert f"EP{other.config.ep} " in line and f"{other.step_time_s:.4g} s a step" in line
    gap = other.step_time_s / result.best.step_time_s - 1
    assert f"{gap:.1%} slower" in line and 0.01 < gap < 0.04  # hF59's 2.4 %
    # the three rows that differ most, with the sign of (other - best): EP 8's all-to-all is the largest
    terms = re.findall(r"(\w+) ([+-][\d,.]+) ms", line.split(": ", 2)[2])
    assert terms[0][0] == "ep_comm" and terms[0][1].startswith("+") and len(terms) == 3
    assert "smaller than this answer's error band" in line


def test_the_other_kinds_best_comes_from_a_second_search_when_the_top_has_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With --top 1 the answer holds no EP 8 plan: the line's plan is the best of a search of EP > 1 alone, the
    same plan the wider answer lists."""
    seen: list[str] = []
    real = ep_choice_module.ep_choice

    def spy(shape, rows, search_other):  # type: ignore[no-untyped-def]
        def counted(mask, dtype):  # type: ignore[no-untyped-def]
            seen.append(dtype)
            return search_other(mask, dtype)
        return real(shape, rows, counted)

    monkeypatch.setattr("infraplan.training.search.ep_choice", spy)
    one = search_plans(*MIXTRAL, top=1)
    assert seen == ["fp8"] and one.ep_choice == search_plans(*MIXTRAL).ep_choice


def test_a_dense_model_has_no_ep_line() -> None:
    assert search_plans("llama3-8b", "dgx-h100-superpod", 8, 2048, 8, top=2).ep_choice is None


def test_without_the_second_search_the_line_says_the_top_holds_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ep_choice_module, "SECOND_SEARCH", False)
    assert search_plans(*MIXTRAL, top=1).ep_choice == "why EP 1: none of the 1 best plans runs EP > 1 (--top more)"
    assert search_plans(*MIXTRAL).ep_choice.startswith("why EP 1: the best plan with EP > 1, ")  # type: ignore[union-attr]
