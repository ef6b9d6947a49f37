"""hM8 (mutation wave 8): CPU activation offload's bounds and its step wiring by hand (training/activation_offload.py).

Megatron-Core offloads at most L - 1 of a stage's L layers (transformer_config.py:1137-1152) and refuses CUDA graphs
with it (:1722-1723). A micro-batch's layer holds micro_batch x seq_len / CP tokens' saved activations; the copies'
wait (`offload_exposed_s`: with L = 10, N = 5, a copy of C = 3 s, forward F = 1 s and backward B = 2 s per layer,
max(F + N C - (L - 1) F, 0) + max(B + N C - (L - 1) B, 0) = 7 + 0 s) is paid once per micro-batch.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.training.activation_offload import offloaded_layers, with_offload, with_offload_wait
from infraplan.training.enums import Dtype
from infraplan.training.plan import PlanArrays


def _plan(cp: int) -> PlanArrays:
    return PlanArrays.build(tp=1, pp=np.array([1]), dp=8, cp=cp, ep=1, vpp=1, micro_batch=1, global_batch=64,
                            seq_len=4096, recompute=0, zero=1, dtype=int(Dtype.BF16))


def test_a_stack_asking_for_every_layer_offloads_all_but_one() -> None:
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cpu_offload_layers": 80})
    assert list(offloaded_layers(stack, _plan(1), np.array([80.0]))) == [79.0]
    assert list(offloaded_layers(stack, _plan(1), np.array([100.0]))) == [80.0]


@pytest.mark.parametrize(("cp", "wait_s"), [(2, 7.0), (1, 36.0)])
def test_the_wait_is_paid_per_micro_batch_on_the_tokens_of_one_cp_rank(cp: int, wait_s: float) -> None:
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cpu_offload_layers": 5})
    zero = np.zeros(1)
    lt = {k: zero for k in ("other_fwd", "tp_fwd", "cp_fwd", "ep_fwd", "other_bwd", "tp_bwd", "cp_bwd", "ep_bwd")}
    lt = lt | {"compute_fwd": np.array([1.0]), "compute_bwd": np.array([2.0])}
    # 3 GB per layer at CP 2 (4,096 / 2 = 2,048 tokens of 3e9 / 2,048 B) over a 1 GB/s link: C = 3 s -> 7 s;
    # at CP 1 the 4,096 tokens copy for 6 s: max(1 + 30 - 9, 0) + max(2 + 30 - 18, 0) = 22 + 14 = 36 s
    out = with_offload_wait(_plan(cp), stack, 10, lt, 3e9 / 2048, 1e9,
                            {"other": np.array([0.5]), "step_time_s": np.array([100.0])})
    micro_batches = 64 // (1 * 8)
    assert float(out["other"][0]) == pytest.approx(0.5 + micro_batches * wait_s, rel=1e-12)
    assert float(out["step_time_s"][0]) == pytest.approx(100.0 + micro_batches * wait_s, rel=1e-12)


def test_offloading_turns_the_stacks_cuda_graphs_off_and_says_so() -> None:
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cuda_graphs": True})
    offloading, notes = with_offload(load_model("llama3-70b"), stack, 40, 1, "none")
    assert offloading.cpu_offload_layers == 40 and offloading.cuda_graphs is False
    assert any(n.startswith("CUDA graphs off") for n in notes)
