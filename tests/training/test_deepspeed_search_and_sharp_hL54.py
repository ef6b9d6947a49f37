"""DeepSpeed's all-reduced ZeRO-1/2 gradients (`Stack.grad_reduce_all_reduce`, hK54) on every path that prices DP
traffic, and what `--sharp` says of them (hL, session 54 review).

1. One answer: `search` prices its grids (`step_traffic.pipeline_and_dp_traffic` / `dp_collectives_once`, the end
   stages' one pass) and `train` one plan (`step_time._one_plan_dp_collectives`, its end stages' `EndStageTraffic`);
   every plan the search lists under the deepspeed stack is `train`'s step time (the search re-prices its best
   plans, more than `FEW_PLANS` of them as one array: the grid's path). Checked by hand
   mutants (the flag dropped on one path): the grid's traffic (pipeline_and_dp_traffic) or its end stages
   (dp_collectives_once / step_time's grid lambda) without it put llama3-70b TP4 PP4 DP16 ZeRO-1 at 21.58 s in the
   search where `train` says 21.06 s; the one-plan end stages without it put `train` at 20.88 s. hK54's tests price
   one plan only, so each of those mutants passed them.
2. `--sharp` with DeepSpeed: its ZeRO-1/2 gradient all-reduce runs on the CollNet fabric (`network.sharp.
   collnet_fabric`), so SHARP shortens it (llama3-70b on 256 H100, TP4 PP4 DP16 ZeRO-1: DP exposure 0.270 ->
   0.186 s), while the note said "ZeRO 1 reduce-scatters and all-gathers over DP: IB SHARP would send no fewer bytes
   per NIC, so they are priced without it". Failed before the fix at the note's words (checked on the base tree)."""

from __future__ import annotations

import pytest

from infraplan.training.collnet import sharp_note
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

SEARCH = ("llama3-70b", "dgx-a100-superpod", 256, 4096, 512)


def test_search_lists_trains_step_times_under_deepspeed() -> None:
    # (more than `search_rows.FEW_PLANS`: the listed plans are priced again as one array, the grid's path)
    found = search_plans(*SEARCH, dtype="bf16", top=24, stack="deepspeed")
    assert len(found.top) == 24
    piped_zero1 = 0
    for row in found.top:
        c = row.config
        one = estimate_training(SEARCH[0], SEARCH[1], SEARCH[2], tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep,
                                vpp=c.vpp, seq_len=c.seq_len, global_batch=c.global_batch, micro_batch=c.micro_batch,
                                recompute=c.recompute, zero=c.zero, dtype=c.dtype, attention=c.attention,
                                order=c.order, sequence_parallel=c.sequence_parallel, schedule=c.schedule,
                                stack="deepspeed", etp=c.etp, zero_shard=c.zero_shard)
        assert one.step_time_s == pytest.approx(row.step_time_s, rel=1e-12), c
        assert one.breakdown_s.dp_comm_exposed == pytest.approx(row.breakdown_s.dp_comm_exposed, rel=1e-12, abs=0)
        piped_zero1 += c.pp > 1 and c.zero == 1 and row.breakdown_s.dp_comm_exposed > 0.1
    assert piped_zero1 >= 2  # (the all-reduce is exposed after DeepSpeed's pipeline: the flag moves these plans)


PLAN = dict(tp=4, pp=4, dp=16, seq_len=4096, global_batch=512, micro_batch=1, zero=1, stack="deepspeed")


def test_sharp_shortens_deepspeeds_zero1_all_reduce_and_says_so() -> None:
    plain = estimate_training("llama3-70b", "dgx-h100-superpod", 256, **PLAN)
    sharp = estimate_training("llama3-70b", "dgx-h100-superpod", 256, **PLAN, sharp=True)
    assert sharp.breakdown_s.dp_comm_exposed < 0.8 * plain.breakdown_s.dp_comm_exposed
    said = [n for n in sharp.notes if n.startswith("--sharp:")]
    assert said == ["--sharp: ZeRO 1's DP gradient all-reduce (the stack's grad_reduce_all_reduce) reduces in the "
                    "switches (IB SHARP, NCCL CollNet); its parameter all-gather is priced without it "
                    "(`network.sharp`)"]


def test_a_reduce_scattering_stack_keeps_its_note() -> None:
    """Guard: ZeRO 1-3 of a stack that reduce-scatters, and ZeRO-3 of DeepSpeed (stage3.py reduce-scatters)."""
    for zero in (1, 2, 3):
        assert sharp_note(zero).startswith(f"--sharp: ZeRO {zero} reduce-scatters and all-gathers over DP")
    assert sharp_note(3, True).startswith("--sharp: ZeRO 3 reduce-scatters and all-gathers over DP")
    assert sharp_note(0, True) == sharp_note(0)


def test_search_sharp_names_deepspeeds_zero12_plans() -> None:
    from infraplan.catalog.stacks import load_stack
    from infraplan.training.collnet import SEARCH_SHARP_NOTE, search_sharp_note

    assert search_sharp_note(load_stack("nemo-26.04")) == SEARCH_SHARP_NOTE
    note = search_sharp_note(load_stack("deepspeed"))
    assert "ZeRO 1/2's" in note and "reduces in the switches" in note
    found = search_plans("llama3-70b", "dgx-h100-superpod", 256, 4096, 512, dtype="bf16", top=1,
                         stack="deepspeed", sharp=True)
    assert found.best is not None and found.best.config.zero == 1
    assert note in found.notes and sharp_note(1, True) in found.notes  # (and `train`'s of the best plan)


def test_a_deepspeed_file_with_nccl_collnet_says_the_same() -> None:
    from infraplan.catalog.stacks import load_stack
    from infraplan.cluster import Cluster
    from infraplan.training.collnet import stack_collnet_notes

    profile = load_stack("deepspeed").model_copy(update={"nccl_collnet": True})
    (said,) = stack_collnet_notes(profile, Cluster.resolve("dgx-h100-superpod"), 1)
    assert said == sharp_note(1, True).replace("--sharp:", "stack deepspeed (nccl_collnet):", 1)
