"""torchtitan runs torch.distributed.pipelining's schedules as torch orders them, under torch's micro-batch rules;
and `train` prices the ZeRO stage a stack runs by default when none is asked.

torch 2.13.0 torch/distributed/pipelining/schedules.py is transcribed below (Schedule1F1B, ScheduleInterleaved1F1B,
ScheduleInterleavedZeroBubble: the order each rank issues its passes in) and list-scheduled at unit pass costs: the
model's bubble and activations in flight are that order's at every micro-batch count torch accepts (p 2-6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.errors import InputError
from infraplan.training import schedules
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import plan_violations, valid_mask
from infraplan.training.schedule_models import PIPELINE_SCHEDULES, round_size
from infraplan.training.stack_limits import default_zero, micro_batch_rules
from infraplan.training.stage_split import interleaved_chunks, one_f_one_b_chunks

Op = tuple[str, int, int]  # (pass F / B / I / W, global stage, micro-batch)
SHAPE = load_model("llama3-8b")
KW: dict[str, Any] = dict(tp=2, pp=4, seq_len=4096)


def _torch_1f1b_order(p: int, m: int, rank: int) -> list[Op]:
    """Schedule1F1B._step_microbatches (:1026-1177): min(m, p - rank) warm-up forwards, then one backward and one
    forward alternately (1B1F) while forwards remain, then the remaining backwards; refused below p (:1020)."""
    if m < p:
        raise ValueError("Number of microbatches must be greater than or equal to the number of stages")
    warm = min(m, p - rank)
    ops = [("F", rank, k) for k in range(warm)]
    f, b = warm, 0
    while True:
        ops.append(("B", rank, b))
        b += 1
        if f == m:
            break
        ops.append(("F", rank, f))
        f += 1
    return ops + [("B", rank, k) for k in range(b, m)]


def _torch_looped_order(p: int, v: int, m: int, rank: int, zero_bubble: bool) -> list[Op]:
    """ScheduleInterleaved1F1B (:2891-3004; zero_bubble False) and ScheduleInterleavedZeroBubble (:3007-3117,
    without the idle slots `_add_bubbles_to_actions` inserts) through `_get_warmup_ops` (:2872-2888) and
    `_get_1f1b_rank_ops` (:2735-2869); rounds of m // max(1, m // p) micro-batches, m a multiple of the rounds."""
    rounds = max(1, m // p)
    per_round = m // rounds
    if m % rounds:
        raise ValueError("requires the number of microbatches to be a multiple of the number of rounds")
    warm = min((v - 1) * per_round + (1 if zero_bubble else 2) * (p - 1 - rank), m * v)
    steady, cool = m * v - warm, warm

    def forward_stage(step: int) -> int:
        return ((step // per_round) % v) * p + rank

    def backward_stage(step: int) -> int:
        return (v - 1 - ((step - warm) // per_round) % v) * p + rank

    counts: dict[tuple[str, int], int] = {}

    def take(kind: str, stage: int) -> Op:
        k = counts.get((kind, stage), 0)
        counts[(kind, stage)] = k + 1
        return kind, stage, k

    ops: list[Op] = []
    backward_steps: list[int] = []
    weights = 0
    back = "I" if zero_bubble else "B"
    for step in range(warm + steady + cool):
        if step < warm + steady:
            ops.append(take("F", forward_stage(step)))
        if step >= warm:
            ops.append(take(back, backward_stage(step)))
            backward_steps.append(step)
            if zero_bubble and step - warm >= rank:  # num_1f1b_microbatches = rank
                ops.append(take("W", backward_stage(backward_steps[weights])))
                weights += 1
    while zero_bubble and weights < len(backward_steps):
        ops.append(take("W", backward_stage(backward_steps[weights])))
        weights += 1
    return ops


def list_schedule(orders: list[list[Op]], stages: int, cost: Callable[[str, int], Any]) -> Any:
    """The makespan of the orders list-scheduled, each pass `cost(kind, stage)` long (floats or exact Fractions):
    F waits for the previous stage's F, B / I for the next stage's (the last stage's for its own F), W for its own I;
    a rank runs its passes in the order given (torch drops idle slots)."""
    done: dict[Op, Any] = {}
    nxt, free = [0] * len(orders), [0 * cost("F", 0)] * len(orders)
    while any(nxt[r] < len(o) for r, o in enumerate(orders)):
        moved = False
        for r, order in enumerate(orders):
            while nxt[r] < len(order):
                kind, s, j = order[nxt[r]]
                dep: Op | None
                if kind == "F":
                    dep = ("F", s - 1, j) if s else None
                elif kind == "W":
                    dep = ("I", s, j)
                else:
                    dep = (kind, s + 1, j) if s < stages - 1 else ("F", s, j)
                if dep is not None and dep not in done:
                    break
                done[(kind, s, j)] = free[r] = max(free[r], done[dep] if dep else free[r]) + cost(kind, s)
                nxt[r], moved = nxt[r] + 1, True
        assert moved, "the transcribed order deadlocked"
    return max(free)


def _makespan(orders: list[list[Op]], stages: int) -> float:
    """`list_schedule` with every pass one unit."""
    return float(list_schedule(orders, stages, lambda kind, stage: 1.0))


def _accepted(order: Callable[..., list[Op]], *args: object) -> bool:
    try:
        order(*args)
    except ValueError:
        return False
    return True


def test_torch_1f1b_is_megatrons_order_from_p_micro_batches() -> None:
    model = PIPELINE_SCHEDULES[Schedule.ONE_F_ONE_B]
    for p in range(2, 7):
        assert not _accepted(_torch_1f1b_order, p, p - 1, 0)
        for m in range(p, 3 * p + 2):
            measured = _makespan([_torch_1f1b_order(p, m, r) for r in range(p)], p) - 2.0 * m
            assert float(model.bubble(p, 1, m, 2.0)) == pytest.approx(measured), (p, m)
            _same_stage_kinds(p, m, [_torch_1f1b_order(p, m, r) for r in range(p)])


@pytest.mark.parametrize("v", [2, 3])
def test_torch_interleaved_bubble_is_the_models_at_every_count_torch_accepts(v: int) -> None:
    """m < p (the wave) and m not a multiple of p (m = 10 at p = 4: rounds of 5) included; a chunk pass is one
    unit, so a stage's micro-batch is 2 v."""
    model, beyond_megatron = PIPELINE_SCHEDULES[Schedule.INTERLEAVED], 0
    for p in range(2, 7):
        for m in range(1, 3 * p + 2):
            if not _accepted(_torch_looped_order, p, v, m, 0, False):
                assert m % max(1, m // p) != 0
                continue
            beyond_megatron += m < p or m % p != 0
            orders = [_torch_looped_order(p, v, m, r, False) for r in range(p)]
            measured = _makespan(orders, p * v) - 2.0 * v * m
            assert float(model.bubble(p, v, m, 2.0 * v)) == pytest.approx(measured), (p, v, m)
    assert beyond_megatron > 20


def test_torch_interleaved_zero_bubble_at_one_stage_per_rank_is_zb_h1() -> None:
    model = PIPELINE_SCHEDULES[Schedule.ZB_H1]
    for p in range(2, 7):
        for m in range(1, 3 * p + 2):
            if not _accepted(_torch_looped_order, p, 1, m, 0, True):
                continue
            orders = [_torch_looped_order(p, 1, m, r, True) for r in range(p)]
            measured = _makespan(orders, p) - 3.0 * m  # F, I, W one unit each
            assert float(model.bubble(p, 1, m, 3.0)) == pytest.approx(measured), (p, m)
            _same_stage_kinds(p, m, orders)


def _same_stage_kinds(p: int, m: int, orders: list[list[Op]]) -> None:
    """`one_f_one_b_chunks` (first, second, last stage's micro-batches in flight) = the order's peaks."""
    first, _, second, last, _ = one_f_one_b_chunks(p, 1, m)
    assert (first, last) == (_peak(orders[0], 0)[0], _peak(orders[p - 1], p - 1)[0]), (p, m)
    assert p < 3 or second == _peak(orders[1], 1)[0], (p, m)


def _peak(order: list[Op], chunk: int) -> tuple[int, int]:
    """Chunk activations a rank holds at its peak (a forward adds one, its B / I frees it) and, of the moments at
    that peak, the fewest of `chunk`'s."""
    live: set[tuple[int, int]] = set()
    best, fewest = -1, 0
    for kind, s, j in order:
        if kind == "F":
            live.add((s, j))
        elif kind in ("B", "I"):
            live.discard((s, j))
        held = sum(1 for stage, _ in live if stage == chunk)
        if len(live) > best:
            best, fewest = len(live), held
        elif len(live) == best:
            fewest = min(fewest, held)
    return best, fewest


def test_interleaved_activations_follow_torchs_rounds_and_stay_megatrons_at_multiples_of_p() -> None:
    """Rounds of g = m // max(1, m // p) micro-batches: the warm-up (v - 1) g + 2 (p - 1 - rank); g = p wherever
    m is a multiple of p, so Megatron's counts there do not move."""
    for v in (2, 3):
        for p in range(3, 7):
            for m in range(1, 3 * p + 2):
                if m % max(1, m // p):
                    continue
                orders = [_torch_looped_order(p, v, m, r, False) for r in range(p)]
                first, first_chunk, second, last, last_chunk = interleaved_chunks(p, v, m)
                assert (first, second, last) == (_peak(orders[0], 0)[0], _peak(orders[1], 1)[0],
                                                 _peak(orders[p - 1], p * v - 1)[0]), (p, v, m)
                assert last_chunk == _peak(orders[p - 1], p * v - 1)[1]
                assert float(schedules.in_flight_micro_batches(np.array([Schedule.INTERLEAVED]), p, v, m)[0]) == \
                    pytest.approx(first / v)
    assert round_size(4, 10) == 5 and round_size(4, 8) == 4 and round_size(4, 3) == 3
    assert interleaved_chunks(4, 2, 8)[0] == 11 and interleaved_chunks(4, 2, 10)[0] == 12  # 2 * 3 + 5 + 1


def _plan(**kw: object) -> PlanArrays:
    cols: dict[str, Any] = dict(tp=2, pp=4, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=256, seq_len=4096,
                                recompute=0, zero=2, dtype=0)
    cols.update(kw)
    return PlanArrays.build(**cols)


def test_a_stack_names_whose_micro_batch_rules_its_schedules_keep() -> None:
    assert micro_batch_rules(load_stack("torchtitan")) == "torch"
    assert micro_batch_rules(load_stack("nemo-26.04")) == "megatron"
    assert micro_batch_rules(load_stack("deepspeed")) == "megatron"  # none named: the schedules' own (1F1B: any m)
    few = _plan(global_batch=8 * 2)  # 2 micro-batches on 4 stages, 1F1B
    assert valid_mask(SHAPE, few).all() and not valid_mask(SHAPE, few, rules="torch").any()
    reasons = [why for bad, why in plan_violations(SHAPE, few, rules="torch") if bad[0]]
    assert len(reasons) == 1 and "at least PP micro-batches" in reasons[0] and "Schedule1F1B" in reasons[0]
    for m, megatron, torch in [(3, False, True), (6, False, True), (8, True, True), (9, False, False),
                               (10, False, True), (11, False, False), (12, True, True)]:
        inter = _plan(vpp=2, global_batch=8 * m)
        assert bool(valid_mask(SHAPE, inter)[0]) is megatron, m
        assert bool(valid_mask(SHAPE, inter, rules="torch")[0]) is torch, m
        zb = _plan(schedule=Schedule.ZB_H1, global_batch=8 * m)
        assert bool(valid_mask(SHAPE, zb, rules="torch")[0]) is torch, m
        assert valid_mask(SHAPE, zb).all()  # Megatron's rule set: ZB-H1 takes any m
    zbv = _plan(vpp=2, schedule=Schedule.ZB_V, global_batch=8 * 3)
    assert valid_mask(SHAPE, zbv, rules="torch").all()


def test_train_refuses_and_prices_by_the_stacks_rules() -> None:
    with pytest.raises(InputError, match="at least PP micro-batches"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, global_batch=2, stack="torchtitan", **KW)
    assert estimate_training("llama3-8b", "dgx-h100-superpod", 8, global_batch=2, **KW).config.micro_batches == 2
    with pytest.raises(InputError, match="multiple of PP"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, vpp=2, global_batch=10, **KW)
    ten = estimate_training("llama3-8b", "dgx-h100-superpod", 8, vpp=2, global_batch=10, stack="torchtitan", **KW)
    eight = estimate_training("llama3-8b", "dgx-h100-superpod", 8, vpp=2, global_batch=8, stack="torchtitan", **KW)
    assert ten.config.micro_batches == 10 and ten.config.schedule == "interleaved"
    # rounds of 5: 12 chunks in flight on the first stage against 11 at 8 micro-batches
    assert ten.memory_breakdown_bytes.activations > eight.memory_breakdown_bytes.activations
    with pytest.raises(InputError, match="multiple of its rounds"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, vpp=2, global_batch=9, stack="torchtitan", **KW)


def test_search_under_torchtitan_keeps_torchs_rules() -> None:
    """6 sequences on 16 GPUs: 3 or 6 micro-batches. torch runs interleaving at 3 on 2 stages (Megatron does not)
    and refuses 1F1B at 3 on 4 stages (Megatron runs it)."""
    from infraplan.training.search import search_plans

    seen = {}
    for stack in ("torchtitan", "nemo-26.04"):
        # top 400: CP plans, their state sharded over DP x CP (hE, session 38), fill more of the first 200 by memory
        found = search_plans("llama3-8b", "dgx-h100-superpod", 16, 4096, 6, dtype="bf16", top=400, stack=stack,
                             objective="memory")
        seen[stack] = {(c.pp, c.schedule, c.micro_batches) for c in (p.config for p in found.top) if c.pp > 1}
        for pp, schedule, m in seen[stack]:
            rules = micro_batch_rules(load_stack(stack))
            code = np.array([Schedule.parse(schedule, "schedule")])
            assert not any(bad[0] for bad, _ in schedules.schedule_violations(code, pp, 2 if schedule in (
                "interleaved", "zb-v") else 1, m, rules)), (stack, pp, schedule, m)
    assert (2, "interleaved", 3) in seen["torchtitan"] and (2, "interleaved", 3) not in seen["nemo-26.04"]
    assert (4, "1f1b", 3) in seen["nemo-26.04"] and (4, "1f1b", 3) not in seen["torchtitan"]


def test_train_without_zero_prices_the_stacks_default_and_says_so() -> None:
    titan = estimate_training("llama3-8b", "dgx-h100-superpod", 8, global_batch=64, stack="torchtitan", **KW)
    assert titan.config.zero == 2  # FSDP2 does not reshard after forward with PP
    assert any("no --zero: ZeRO-2" in n and "torchtitan" in n for n in titan.notes)
    assert not any("ZeRO outside the stack" in n for n in titan.notes)
    flat = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=8, seq_len=4096, global_batch=64,
                             stack="torchtitan")
    assert flat.config.zero == 3
    nemo = estimate_training("llama3-8b", "dgx-h100-superpod", 8, global_batch=64, **KW)
    assert nemo.config.zero == 1 and not any("no --zero" in n for n in nemo.notes)  # as before: said by its config
    assert estimate_training("llama3-8b", "dgx-h100-superpod", 8, global_batch=64, stack="deepspeed",
                             tp=2, pp=4, seq_len=4096).config.zero == 0
    asked = estimate_training("llama3-8b", "dgx-h100-superpod", 8, global_batch=64, stack="torchtitan", zero=3, **KW)
    assert asked.config.zero == 3 and not any("no --zero" in n for n in asked.notes)
    for name in ("torchtitan", "deepspeed", "deepseek-v3", "megatron-core-0.8", "megatron-lm-2021",
                 "megatron-lm-2022", "meta-llama3", "nemo-23.05", "nemo-24.12", "nemo-26.04"):
        stack = load_stack(name)  # every shipped training stack names its defaults, each a stage it runs
        for pp, runs in ((1, stack.zero_stages), (4, stack.pipeline_zero_stages)):
            stage, note = default_zero(stack, pp)
            assert runs is not None and stage in runs, name
            assert (note is None) if stage == 1 else (f"ZeRO-{stage}" in (note or "") and "_source" in (note or ""))


def test_a_stack_default_zero_needs_a_source_and_a_stage_the_stack_runs() -> None:
    base = load_stack("torchtitan").model_dump()
    with pytest.raises(ValueError, match="default_zero needs default_zero_source"):
        Stack.model_validate({**base, "default_zero_source": None})
    with pytest.raises(ValueError, match="pipeline_default_zero 1 is not among pipeline_zero_stages"):
        Stack.model_validate({**base, "pipeline_default_zero": 1})
    unnamed = Stack.model_validate({**base, "default_zero": None, "default_zero_source": None})
    assert default_zero(unnamed, 1) == (1, "no --zero: ZeRO-1 (stack torchtitan names no default_zero; --zero sets "
                                           "the stage)")


def test_the_cli_and_web_leave_zero_to_the_stack() -> None:
    from typer.testing import CliRunner

    from infraplan.cli.main import app
    from infraplan.web.requests import TrainRequest

    args = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--pp", "4", "--tp", "2",
            "--seq-len", "4096", "--global-batch", "64", "--stack", "torchtitan", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert '"zero": 2' in out.output
    request = TrainRequest.model_validate({"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8,
                                           "seq_len": 4096, "global_batch": 64})
    assert request.zero is None and "--zero" not in request.cli()


def test_torchtitan_runs_1f1b_unless_asked_to_interleave() -> None:
    """torchtitan 0.3.0's default schedule is 1F1B with one stage per rank (config/configs.py:203, :210): without
    --vpp it is not interleaved as a NeMo recipe would be."""
    kw: dict[str, Any] = dict(tp=2, pp=4, seq_len=4096, global_batch=64, vpp=None)
    titan = estimate_training("llama3-8b", "dgx-h100-superpod", 8, stack="torchtitan", **kw)
    nemo = estimate_training("llama3-8b", "dgx-h100-superpod", 8, **kw)
    assert (titan.config.vpp, titan.config.schedule) == (1, "1f1b")
    assert not any("virtual stages" in n for n in titan.notes)
    assert (nemo.config.vpp, nemo.config.schedule) == (4, "interleaved")
    asked = estimate_training("llama3-8b", "dgx-h100-superpod", 8, stack="torchtitan", schedule="interleaved", **kw)
    assert asked.config.vpp == 4  # asked to interleave: the chooser's chunks
