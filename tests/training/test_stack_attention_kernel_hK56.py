"""The fused-attention kernel a training stack selects, priced at the part's rate of that kernel (hK, session 56).

On Hopper the catalog's attention_max_fraction 0.50 is cuDNN's fused attention (the lent H100's default SDPA ran
489-492 TF/s forward + backward, cuDNN's rate on the lent H200; Transformer Engine prefers cuDNN on sm90+). PyTorch's
flash backend (FlashAttention-2), which torchtitan 0.1.0 pins first below sm100, ran 0.55-0.61 of cuDNN's rate on
the same H200 calls (validation/calibration/h200_attention_sdpa.jsonl): h100-sxm / h200 / h800 carry
`attention_kernel_fraction: {fa2: 0.29}`, and a stack with `attention_kernel: fa2` is priced at it
(`training.attention_core.STACK_ATTENTION_KERNEL`). A100's 0.55 is FlashAttention-2's own rate: no entry, no move.
Before this change the stack and part fields did not exist and every stack ran at 0.50 on Hopper (checked: the
tests below fail on the base tree, AttributeError / the rate 494.5 TF/s).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training import attention_core
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo, cluster_pricing

CALIBRATION = Path(__file__).resolve().parents[2] / "validation" / "calibration"
PEAK = 989e12


@pytest.fixture(autouse=True)
def _fresh_pricing() -> Iterator[None]:
    clear_one_plan_memo()
    yield
    attention_core.STACK_ATTENTION_KERNEL = True
    clear_one_plan_memo()


def _attention_rate(system: str, stack: str) -> float:
    return cluster_pricing(Cluster.resolve(system).placed(8), load_stack(stack)).rates.attention_flops_per_s


def test_fa2_fraction_is_the_measured_flash_over_cudnn_rate() -> None:
    rows = [json.loads(line) for line in (CALIBRATION / "h200_attention_sdpa.jsonl").read_text().splitlines() if line]
    long_128 = [r["fwd_bwd_tflops"] for r in rows if r["head_dim"] == 128 and r["seq"] >= 8192]
    assert len(long_128) == 3
    ratio = sum(r["flash"] / r["cudnn"] for r in long_128) / len(long_128)
    assert ratio == pytest.approx(0.589, abs=0.001)
    for part in ("h100-sxm", "h200", "h800"):
        eff = load_accelerator(part).efficiency
        assert eff.attention_max_fraction == 0.50
        assert eff.attention_kernel_fraction == {"fa2": round(0.50 * ratio, 2)}
    assert load_accelerator("a100-80gb").efficiency.attention_kernel_fraction is None


def test_stacks_name_the_kernel_they_select() -> None:
    assert load_stack("torchtitan").attention_kernel == "fa2"
    assert load_stack("torchtitan").attention_kernel_source
    for stack in ("nemo-24.12", "nemo-26.04", "megatron-core-0.8", "meta-llama3", "deepspeed"):
        assert load_stack(stack).attention_kernel is None  # the part's measured kernel (cuDNN on Hopper)


def test_torchtitan_on_hopper_runs_flashattention2_rate() -> None:
    assert _attention_rate("dgx-h100-superpod", "torchtitan") == pytest.approx(0.29 * PEAK)
    assert _attention_rate("hgx-h200", "torchtitan") == pytest.approx(0.29 * PEAK)
    assert _attention_rate("dgx-h100-superpod", "nemo-24.12") == pytest.approx(0.50 * PEAK)
    # A100: FlashAttention-2 is the kernel its 0.55 was measured on
    assert _attention_rate("dgx-a100-superpod", "torchtitan") == pytest.approx(0.55 * 312e12)
    attention_core.STACK_ATTENTION_KERNEL = False
    clear_one_plan_memo()
    assert _attention_rate("dgx-h100-superpod", "torchtitan") == pytest.approx(0.50 * PEAK)


def test_a_step_is_slower_by_the_attention_core_alone() -> None:
    kw = dict(tp=1, seq_len=8192, global_batch=64, micro_batch=1, stack="torchtitan")
    on = estimate_training("llama3-8b", "dgx-h100-superpod", 8, **kw)  # type: ignore[arg-type]
    attention_core.STACK_ATTENTION_KERNEL = False
    clear_one_plan_memo()
    off = estimate_training("llama3-8b", "dgx-h100-superpod", 8, **kw)  # type: ignore[arg-type]
    # Llama 3 8B at 8,192 tokens: the compute term 5.394 -> 6.138 s (the attention core at 0.29 of peak, not
    # 0.50), every other term the same; the step 7.509 -> 8.253 s (+9.9 %)
    assert on.step_time_s > off.step_time_s * 1.05
    assert on.breakdown_s.compute > off.breakdown_s.compute * 1.10
    assert (on.breakdown_s.other, on.breakdown_s.dp_comm_exposed) == (off.breakdown_s.other,
                                                                       off.breakdown_s.dp_comm_exposed)
    a100_on = estimate_training("llama3-8b", "dgx-a100-superpod", 8, **kw)  # type: ignore[arg-type]
    attention_core.STACK_ATTENTION_KERNEL = True
    clear_one_plan_memo()
    assert estimate_training("llama3-8b", "dgx-a100-superpod", 8, **kw).step_time_s == a100_on.step_time_s  # type: ignore[arg-type]


def test_a_named_kernel_needs_its_source() -> None:
    from infraplan.catalog.stack_framework_rules import FrameworkRules

    with pytest.raises(ValueError, match="attention_kernel needs attention_kernel_source"):
        FrameworkRules(attention_kernel="fa2")
    assert FrameworkRules(attention_kernel="fa2", attention_kernel_source="x").attention_kernel == "fa2"
