"""Mutation wave 7 (hM7, session 37): training/rank_kind_bubbles.py's interleaved form with rank 0 the heaviest
(`interleaved_first_heaviest_s`, `_first_chunks`; hB4) on cases the earlier tests' random draws did not reach,
checked with exact fractions against the list schedule of torch's transcribed order; each test fails on a one-line
mutant the earlier tests let through (validation/notes/test_suite_cost_tried.md, "hM7 (session 37)")."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from test_interleaved_first_heaviest import _listed, _priced
from tests.training.conftest import TORCHTITAN_EVEN

from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import load_stack
from infraplan.training import exact_bubbles, rank_kind_bubbles
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.rank_kind_bubbles import interleaved_first_heaviest_s

INTERLEAVED = int(Schedule.INTERLEAVED)


def test_a_last_chunk_just_lighter_runs_p_plus_one_times_on_the_path() -> None:
    """p 4, v 2, m 12; a plain chunk F 3 / B 8 (c 11), the first F 6 / B 8 (x 3, y 0: rank 0 25 a micro-batch), the
    last F 3 / B 36/5 (e = -4/5). The list's step is 308 = 12 x 25 + 8: p c = 44 plus the form
    -(p - 1) x - p y - p f - f - b + (p + 1) e = -9 - 0 - 12 - 3 - 8 - 4 = -36 (the last chunk's pass on the
    path p + 1 times, not p: that would be 308.8)."""
    plain, first, last = (Fraction(3), Fraction(8)), (Fraction(6), Fraction(8)), (Fraction(3), Fraction(36, 5))
    assert _listed(4, 2, 12, plain, first, last) == 308
    assert _priced(4, 2, 12, plain, first, last) == pytest.approx(308.0, rel=1e-12)


def test_a_first_chunk_lighter_in_its_backward_is_outside_the_region() -> None:
    """Rank 0 = (v - 1) plain chunks + a first chunk heavier in its forward (x = 4 - 2 = 2) but lighter in its
    backward (y = (7.5 - 4) - 4 = -1/2): not this case (`_first_chunks`: 0 outside the region); at 8.5 (y 1/2) it
    applies. Arguments as the earlier not-applied test: p 4, v 2, m 8, plain rank 6 (F 2), last rank 7."""
    assert float(interleaved_first_heaviest_s(INTERLEAVED, 4, 2, 8, 7.5, 19.0, 4.0, 6.0, 2.0, 7.0)) == 0.0
    assert float(interleaved_first_heaviest_s(INTERLEAVED, 4, 2, 8, 8.5, 19.0, 4.0, 6.0, 2.0, 7.0)) != 0.0


GPT3 = stack_for_model(load_stack("nemo-26.04"), "gpt3-175b").model_copy(
    update={"pipeline_split_divisible": False})  # 96 layers on PP5 / PP7 below (hR44)


def _both_ways(gpus: int, pp: int, vpp: int, global_batch: int) -> tuple[float, float]:
    """gpt3-175b TP2 CP8 ZeRO-3 (rank 0, the embedding with CP, the heaviest): the bubble priced, and with the
    model's o / v alone."""
    args = dict(tp=2, pp=pp, vpp=vpp, cp=8, zero=3, stack=GPT3, seq_len=2048, global_batch=global_batch,
                micro_batch=1, dtype="bf16")
    priced = estimate_training("gpt3-175b", "dgx-h100-superpod", gpus, **args)  # type: ignore[arg-type]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "interleaved_first_heaviest_s", lambda *args: 0.0)
        clear_one_plan_memo()
        alone = estimate_training("gpt3-175b", "dgx-h100-superpod", gpus, **args)  # type: ignore[arg-type]
        clear_one_plan_memo()
    return priced.breakdown_s.pp_bubble, alone.breakdown_s.pp_bubble


def test_an_uneven_split_keeps_the_models_bubble() -> None:
    """96 layers on PP5 (20 a rank by the even split's ceil: 100 slots, not a split of whole ranks) or PP7: the
    form holds on an even split only (step_assembly: L' = p per), so o / v stays, though 20 / 4 and 14 / 2 are
    whole chunks; PP6 (16 a rank, 8 a chunk) is priced by it."""
    for gpus, pp, vpp, batch in ((960, 5, 4, 480), (960, 5, 2, 480), (1120, 7, 2, 560)):
        priced, alone = _both_ways(gpus, pp, vpp, batch)
        assert priced == alone, (pp, vpp)
    priced, alone = _both_ways(960, 6, 2, 480)
    assert priced != alone


@pytest.mark.parametrize(("gpus", "tp", "seq_len", "global_batch"), [(64, 8, 2048, 4), (32, 8, 1024, 2),
                                                                (64, 2, 8192, 16)])
def test_zb_h1_below_p_gives_the_heads_rank_the_stage_as_its_kind(gpus: int, tp: int, seq_len: int,
                                                                  global_batch: int) -> None:
    """llama3-8b PP4 torchtitan ZB-H1 at m 2 (the last rank, with the LM head, the heaviest): the kinds passed
    to `three_rank_kinds_s` have the last rank at the stage priced and none above it ("the heaviest of them
    `stage_s`"), also where the stage's exposed host time (the loss calls after the head) makes a layer-paced
    sum differ from it (short sequences at TP8; TP2 at 8,192 as hB3's test)."""
    seen: list[tuple[float, ...]] = []
    original = rank_kind_bubbles.three_rank_kinds_s

    def kinds(*args: Any) -> Any:
        seen.append(tuple(float(a) for a in args))
        return original(*args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exact_bubbles, "three_rank_kinds_s", kinds)
        clear_one_plan_memo()
        estimate_training("llama3-8b", "dgx-h100-superpod", gpus, stack=TORCHTITAN_EVEN, tp=tp, pp=4, seq_len=seq_len,
                          global_batch=global_batch, micro_batch=1, dtype="bf16", schedule="zb-h1")
        clear_one_plan_memo()
    (_, p, m, stage, _, first, _, middle, _, last), = seen
    assert (p, m) == (4.0, 2.0) and last == stage and max(first, middle) < stage
