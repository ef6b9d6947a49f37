"""hM75 mutants of session 75's `search --tokens` ranking (`planning.search_run`, hS75 / hL75) and
`reliability --plan`'s shrink unit (`planning.shrunk_plan.plan_reliability`)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.planning.search_run import RUN_RANKED_PLANS, ranked_note, run_ranked
from infraplan.planning.shrunk_plan import plan_reliability

DAY = 86_400.0


def _row(step: float) -> SimpleNamespace:
    return SimpleNamespace(step_time_s=step, beyond_published_mfu=False, low_memory_headroom=False)


def _price(days: dict[float, float]):
    def price(row: SimpleNamespace) -> SimpleNamespace:
        return SimpleNamespace(time_to_train_s=days[row.step_time_s] * DAY, goodput_with_repairs=0.9,
                               no_spare_policy="shrink")
    return price


def test_a_later_run_faster_by_under_one_part_in_a_billion_keeps_the_search_order() -> None:
    """run_ranked's docstring: runs within 1e-9 of each other keep the search's order (its float path against
    train's); #2 finishing 1e-12 sooner than #1 is such a tie, so #1 stays the best."""
    rows = [_row(1.0), _row(1.01)]
    order, _ = run_ranked(rows, _price({1.0: 10.0, 1.01: 10.0 * (1 - 1e-12)}), RUN_RANKED_PLANS)
    assert order == [0, 1]
    order, _ = run_ranked(rows, _price({1.0: 10.0, 1.01: 10.0 * (1 - 1e-6)}), RUN_RANKED_PLANS)
    assert order == [1, 0]  # a millionth sooner is no tie


def test_the_note_compares_the_best_run_with_the_search_firsts_own_run() -> None:
    """#3 (12.0 days) beats #1 (13.0) and #2 (12.5): the line says #3's 12 days against #1's 13, not #2's 12.5."""
    rows = [_row(1.0), _row(1.01), _row(1.02)]
    order, runs = run_ranked(rows, _price({1.0: 13.0, 1.01: 12.5, 1.02: 12.0}), RUN_RANKED_PLANS)
    assert order == [2, 1, 0]
    (line,) = ranked_note(rows, order, runs)
    assert "the search's #3 (+2.00% a step)" in line and "12 days against the search's #1's 13 " in line


def _search(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    capsys.readouterr()
    assert main(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "64", "--tokens", "1B", "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_run_ranked_count_is_the_runs_priced(capsys: pytest.CaptureFixture[str]) -> None:
    """Under --objective memory the runs do not rank the plans (one run, the best's); under time the first
    RUN_RANKED_PLANS are priced. run_ranked_count states how many were, not the limit."""
    assert _search(capsys, "--objective", "memory")["run_ranked_count"] == 1
    assert _search(capsys)["run_ranked_count"] == RUN_RANKED_PLANS


def test_the_plan_shrink_unit_folds_the_expert_group() -> None:
    """TP1 CP1 PP1 EP8 (ETP = TP): a replica is 1 GPU and an EP group of 8 folds over 8 replicas, so the plan sheds
    8 GPUs together (`plan_shrink_unit`, Megatron-Core: TP x CP x DP divisible by ETP x EP): --shrink-unit 1 is
    refused naming 8, --shrink-unit 8 passes that check (and meets the LoRA refusal next)."""
    estimate = SimpleNamespace(config=SimpleNamespace(tp=1, cp=1, pp=1, ep=8, etp=None, gpus=64),
                               trainable_params_count=1)
    with pytest.raises(InputError, match="the plan sheds 8 GPUs together"):
        plan_reliability(estimate, "dgx-h100-superpod", shrink_unit_gpus=1)
    with pytest.raises(InputError, match="--lora-rank"):
        plan_reliability(estimate, "dgx-h100-superpod", shrink_unit_gpus=8)
