"""`train` without `--order` numbers ranks as its stack's framework does (`Stack.rank_order`): Megatron-Core's
RankGenerator default tp-cp-ep-dp-pp (PP outermost) on the Megatron / NeMo stacks, the Llama 3 paper's
[TP, CP, PP, DP] on meta-llama3, DeepSpeed's pipe-outermost topology (tp-cp-dp-pp, hK session 54: the row was
`("deepspeed", DEFAULT_RANK_ORDER)` while the stack stated none), tp-cp-pp-dp on a stack that states none
(torchtitan)."""

from __future__ import annotations

import pytest
from tests.training.conftest import any_split

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import DEFAULT_RANK_ORDER, estimate_training

DSV3 = dict(tp=1, pp=8, ep=64, seq_len=4096, global_batch=4096, dtype="fp8")


@pytest.mark.parametrize(("stack", "order"), [("nemo-26.04", "tp-cp-dp-pp"), ("megatron-core-0.8", "tp-cp-dp-pp"),
                                              ("meta-llama3", "tp-cp-pp-dp"), ("deepspeed", "tp-cp-dp-pp"),
                                              ("torchtitan", DEFAULT_RANK_ORDER)])
def test_the_default_order_is_the_stacks(stack: str, order: str) -> None:
    assert (load_stack(stack).rank_order or DEFAULT_RANK_ORDER) == order
    r = estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=2, global_batch=256, stack=stack)
    assert r.config.order == order


def test_megatron_order_keeps_each_ep_group_in_its_rack_and_an_explicit_order_still_wins() -> None:
    """DeepSeek-V3 EP64 on 512 GB200 (64 GPUs per rack as NeMo's launcher places them): PP outermost keeps each
    EP group's 64 ranks together; DP outermost spreads them over the racks, a slower plan the user did not ask for."""
    default = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 512, stack=any_split("deepseek-v3"),
                                **DSV3)  # type: ignore[arg-type]  # (61 layers on PP8: any split, hR44)
    inside_dp = load_stack("nemo-26.04").model_copy(update={"expert_parallel_layout": "ep-inside-dp",  # (0.16 refuses
                                                            "pipeline_split_divisible": False})
    # EP64 x ETP 1 != TP x CP under tp-cp-pp-dp at PP > 1: the layout of megatron-core <= 0.9 runs it, hE3)
    llama = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 512, order="tp-cp-pp-dp", stack=inside_dp,
                              **DSV3)  # type: ignore[arg-type]
    assert default.config.order == "tp-cp-dp-pp" and llama.config.order == "tp-cp-pp-dp"
    assert default.tokens_per_s_per_gpu > 1.3 * llama.tokens_per_s_per_gpu


def test_a_stack_file_states_where_its_order_comes_from() -> None:
    from infraplan.catalog.stacks import Stack

    base = load_stack("nemo-26.04").model_dump()
    with pytest.raises(ValueError, match="rank_order needs rank_order_source"):
        Stack(**{**base, "rank_order": "tp-cp-dp-pp", "rank_order_source": None})
