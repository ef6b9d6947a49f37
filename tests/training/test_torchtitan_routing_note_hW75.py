"""torchtitan's MoE routing note names torchtitan's own switch, not Megatron-Core's (hW75).

`train qwen3-30b-a3b ... --stack torchtitan` said "MoE routing priced force-balanced (Megatron-Core
moe_router_force_load_balancing, as NeMo's MoE benchmarks run ...)" (session 74's walk): the pricing (each EP rank the
mean tokens) is the same assumption on every stack, the words were Megatron's. torchtitan 0.3.0 forces balance with
`debug.moe_force_load_balance` (round-robin, config/configs.py:365-366, models/common/moe.py:225-242) and otherwise
routes with an auxiliary-loss-free expert bias (`load_balance_coeff` 1e-3). The first test failed at 8ca6f706."""

from __future__ import annotations

from infraplan.catalog.moe_routing import MoeRouting
from infraplan.catalog.stacks import load_stack
from infraplan.training import estimate_training

PLAN = {"gpus": 16, "tp": 1, "ep": 16, "seq_len": 4096, "global_batch": 64}


def _routing(stack: str) -> list[str]:
    est = estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", stack=stack, **PLAN)  # type: ignore[arg-type]
    return [n for n in est.notes if n.startswith("MoE routing")]


def test_torchtitan_names_its_own_force_balance_switch_and_default_router() -> None:
    (line,) = _routing("torchtitan")
    assert "debug.moe_force_load_balance" in line and "load_balance_coeff" in line
    assert "Megatron" not in line and "moe_router_force_load_balancing" not in line
    assert "moe.load_imbalance" in line  # how to price a learned router's spread, as on the other stacks


def test_megatron_stacks_keep_megatrons_words_and_the_step_is_unchanged() -> None:
    (line,) = _routing("nemo-26.04")
    assert "moe_router_force_load_balancing" in line
    a = estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", stack="torchtitan", **PLAN)  # type: ignore[arg-type]
    assert a.step_time_s > 0 and a.notes  # the note is words alone: the stack's moe block keeps its defaults
    moe = load_stack("torchtitan").moe
    assert moe.model_copy(update={"balanced_routing_note": ""}) == MoeRouting()
