"""torchtitan's loss is PyTorch's F.cross_entropy, not Megatron's unfused vocab-parallel loss (hI58).

torchtitan 0.2.0 components/loss.py:19-23 runs `F.cross_entropy(pred.flatten(0, 1).float(), ...)`; at TP > 1 the
logits stay vocab-sharded and DTensor's loss_parallel ops run it (0.2.0 config/job_config.py:312, models/llama3/
infra/parallelize.py:174-175; torch distributed/tensor/parallel/loss.py). `cross_entropy_impl: torch` prices 48 B per
logit in 7 kernels at TP 1 and 76 B in 47 at TP > 1 (`training.head_time.TORCH_CROSS_ENTROPY_PASSES`); before,
torchtitan paid Megatron's unfused 52 B in 13 (`CROSS_ENTROPY_PASSES[False]`) at every TP. By hand, Llama 3 8B at
seq 4,096, one micro-batch: 4,096 x 128,256 / TP logits; each byte at the part's memory rate, each kernel its launch.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.head_time import CROSS_ENTROPY_PASSES, TORCH_CROSS_ENTROPY_PASSES, head_times
from infraplan.training.plan import PlanArrays

RATES = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")


def _head(stack_name: str, tp: int, arrays: bool = False) -> dict[str, float]:
    plan = PlanArrays.build(tp=tp, pp=1, dp=8 // tp, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
                            recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16, attention=Attention.FLASH,
                            order=RankOrder.TP_CP_DP_PP)
    out = head_times(load_model("llama3-8b"), RATES, plan if arrays else plan.one_row,
                     (RATES.matmul_flops_per_s, 2.0), load_stack(stack_name), 26e-6)
    return {k: float(v if not arrays else v[0]) for k, v in out.items()}


def _loss_s(passes: tuple[float, float], tp: int) -> float:
    logits = 4096 * 128256 / tp
    return passes[0] * logits / RATES.memory_bytes_per_s + passes[1] * RATES.kernel_overhead_s


@pytest.mark.parametrize("tp", [1, 2, 8])
def test_torchtitan_prices_torchs_loss(tp: int) -> None:
    assert load_stack("torchtitan").cross_entropy_impl == "torch"
    titan = _head("torchtitan", tp)
    megatron_loss = load_stack("torchtitan").model_copy(update={"cross_entropy_impl": "te"})  # unfused: 52 B / 13
    accumulate = titan["head_other"] - _loss_s(TORCH_CROSS_ENTROPY_PASSES[tp > 1], tp)  # its .grad add, unchanged
    before = head_times(load_model("llama3-8b"), RATES, PlanArrays.build(
        tp=tp, pp=1, dp=8 // tp, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
        recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16, attention=Attention.FLASH,
        order=RankOrder.TP_CP_DP_PP).one_row, (RATES.matmul_flops_per_s, 2.0), megatron_loss, 26e-6)
    assert float(before["head_other"]) == pytest.approx(accumulate + _loss_s(CROSS_ENTROPY_PASSES[False], tp),
                                                        rel=1e-12)
    kernels = TORCH_CROSS_ENTROPY_PASSES[tp > 1][1]
    assert titan["head_host_fwd"] + titan["head_host_bwd"] == pytest.approx(
        float(before["head_host_fwd"] + before["head_host_bwd"]) + (kernels - 13.0) * 26e-6, rel=1e-12)
    assert titan["head_tp"] == pytest.approx(float(before["head_tp"]), rel=1e-12)  # 3 loss all-reduces both ways


def test_the_array_path_agrees_and_megatron_stacks_keep_theirs() -> None:
    for tp in (1, 2):
        assert _head("torchtitan", tp, arrays=True) == pytest.approx(_head("torchtitan", tp), rel=1e-12)
    assert _head("torchtitan", 1)["head_other"] < _head("megatron-core-0.8", 1)["head_other"]  # 48 B vs 52 B
    assert _head("torchtitan", 2)["head_other"] > _head("megatron-core-0.8", 2)["head_other"]  # 76 B vs 52 B
    assert all(load_stack(n).cross_entropy_impl != "torch" for n in ("megatron-core-0.8", "nemo-26.04", "deepspeed"))
