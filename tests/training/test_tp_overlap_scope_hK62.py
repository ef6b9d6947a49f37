"""Which TP collectives a stack's userbuffer overlap hides (hK, session 62; `training.tp_overlap`).

Transformer Engine's userbuffers run only the SP all-gathers / reduce-scatters of the TE linears Megatron-Core builds
with a userbuffer name (qkv, proj, fc1, fc2: megatron-core 0.16.1 extensions/transformer_engine.py:531-576): the
attention's pair, a dense FFN's and a shared expert's. Not the MoE dispatcher's all-gather / reduce-scatter of the
routed copies over expert TP (transformer/moe/token_dispatcher.py:691-701, :774-783: Megatron's own
`gather_from_sequence_parallel_region`, tensor_parallel/mappings.py:114-193), nor the shared expert's pair under
`moe_shared_expert_overlap` (its linears' userbuffer flags cleared, shared_experts.py:92-101). nemo-26.04 hides 0.8
of the TP time it may hide; a copy with the overlap 0 gives the whole TP time. Forward terms (the backward's
reference would take TE's async dgrad path, which a stack with userbuffers does not run). Checked failing before: the
ETP pair and the shared pair were hidden with the rest (0.8 of the whole forward TP time)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.ops.precision import recipe
from infraplan.training import tp_overlap
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.layer_kernels import collective_times
from infraplan.training.layer_layout import layer_layout
from infraplan.training.layer_time import layer_times_but_ep
from infraplan.training.plan import PlanArrays

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggle)
NEMO = load_stack("nemo-26.04")
F = NEMO.tp_comm_overlap_fraction  # 0.8


def _f(x: object) -> float:
    """One plan's float, of a Python number or a one-element array."""
    return float(np.ravel(np.asarray(x))[0])


def _without_overlap(stack: Stack) -> Stack:
    return stack.model_copy(update={"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0})


def _with_moe(stack: Stack, **moe: object) -> Stack:
    return stack.model_copy(update={"moe": stack.moe.model_copy(update=moe)})


def _plan(one: bool, **over: int) -> PlanArrays:
    fields = dict(tp=4, pp=1, dp=4, cp=1, ep=4, etp=None, vpp=1, micro_batch=1, global_batch=64, seq_len=4096,
                  recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.BF16), attention=0,
                  order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=1)
    fields.update(over)
    plan = PlanArrays.one_plan(**fields)  # type: ignore[arg-type]
    return plan.one_row if one else plan


def _forward_tp(model: str, stack: Stack, plan: PlanArrays) -> tuple[float, float, dict]:
    """(forward TP seconds of one layer with the stack's overlap, without it, the layer's terms with it)."""
    shape = load_model(model)
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    on, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, stack)
    off, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, _without_overlap(stack))
    return _f(on["tp_fwd"]), _f(off["tp_fwd"]), on


@pytest.mark.parametrize("one", [True, False])
def test_the_expert_tp_gathers_stay_exposed(one: bool) -> None:
    """Mixtral 8x7B at TP4, folded to EP4 x ETP2 (16 H100 in two nodes): the attention's T x h pair over TP 4 and
    the dispatcher's gather / scatter of the received copies over ETP 2. Only the former is hidden (0.8 of it)."""
    plan = _plan(one, etp=2)
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    lay = layer_layout(plan, False, NEMO, KernelRates.for_dtype(cluster.accelerator, "bf16").fp8_gemm_layouts)
    etp_records = tuple(c for c in layer_ops(shape, lay).collectives_fwd if c.role == "tp" and _f(c.group) == 2.0)
    assert len(etp_records) == 2 and all(c.outside_te == 1.0 for c in etp_records)
    etp_pair = _f(collective_times(cluster.fabric, etp_records, "tp", one))
    on, off, _ = _forward_tp("mixtral-8x7b", NEMO, plan)
    assert 0.0 < etp_pair < off
    assert off - on == pytest.approx(F * (off - etp_pair), rel=1e-9)  # before hK62: F * off
    with pytest.MonkeyPatch.context() as patch:  # the toggle off: the share of every TP record, as before
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", False)
        before, _, _ = _forward_tp("mixtral-8x7b", NEMO, plan)
    assert off - before == pytest.approx(F * off, rel=1e-9)


@pytest.mark.parametrize("one", [True, False])
def test_the_shared_pair_under_the_overlap_stays_exposed(one: bool) -> None:
    """Llama 4 Scout at TP4 EP4 ETP1 (folded): with `moe_shared_expert_overlap` the shared expert's pair is Megatron's
    (the layer's `shared_pair_*` terms), hidden by the side stream only (`training.shared_expert_side`), not by the
    userbuffers; without it the shared linears are TE's fc1 / fc2 and the whole T x h time is the userbuffers'."""
    plan = _plan(one, etp=1)
    shared = _with_moe(NEMO, shared_expert_overlap=True)
    on, off, terms = _forward_tp("llama4-scout", shared, plan)
    pair = _f(terms["shared_pair_first"]) + _f(terms["shared_pair_last"])
    assert 0.0 < pair < off
    assert off - on == pytest.approx(F * (off - pair), rel=1e-9)  # before hK62: F * off
    plain_on, plain_off, _ = _forward_tp("llama4-scout", NEMO, plan)
    assert plain_off - plain_on == pytest.approx(F * plain_off, rel=1e-9)  # the TE shared expert: all hidden


def test_a_dense_model_and_the_flex_dispatchers_routed_pair() -> None:
    """A dense layer's FFN pair is TE's fc1 / fc2: Llama 3 8B's whole forward TP time is the userbuffers'. A routed
    layer without a shared expert under the flex dispatcher (no expert-TP gather priced, `ops.layer`): the FFN half of
    its T x h pair is not a TE linear's, so half the pair stays exposed."""
    plan = _plan(True)
    on, off, _ = _forward_tp("llama3-8b", NEMO, plan)
    assert off - on == pytest.approx(F * off, rel=1e-9)
    flex = _with_moe(NEMO, flex_backend="deepep")
    on, off, _ = _forward_tp("mixtral-8x7b", flex, plan)
    assert off - on == pytest.approx(F * off / 2.0, rel=1e-9)  # before hK62: F * off


@pytest.mark.parametrize("recompute", [Recompute.NONE, Recompute.FULL])
def test_backward_keeps_the_expert_tp_pair_and_its_rerun_exposed(recompute: Recompute) -> None:
    """The backward's ETP pair (the gradients' gather / scatter) is exposed too, and under full recompute also the
    re-run forward's: against the hiding of every record (the toggle off), the exposed backward TP time grows by
    0.8 of one ETP pair, two under full recompute."""
    plan = _plan(True, etp=2, recompute=int(recompute))
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    lay = layer_layout(plan, False, NEMO, rates.fp8_gemm_layouts)
    etp_pair = collective_times(cluster.fabric, tuple(c for c in layer_ops(shape, lay).collectives_bwd
                                                      if c.role == "tp" and c.group == 2), "tp", True)
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    now, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, NEMO)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", False)
        every, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, NEMO)
    pairs = 2.0 if recompute == Recompute.FULL else 1.0
    assert _f(now["tp_bwd"]) - _f(every["tp_bwd"]) == pytest.approx(F * pairs * _f(etp_pair), rel=1e-9)


def test_without_userbuffers_te_async_path_leaves_the_dispatchers_scatter() -> None:
    """The stack with its overlap at 0 runs TE's async dgrad path (`tp_async_backward`: each column-parallel
    linear's reduce-scatter under its wgrad GEMM): TE's linears' only. The backward's reduce-scatter over expert TP
    (the gradient of the dispatcher's gather, Megatron's synchronous call) stays exposed whole: against hiding every
    record (the toggle off), the backward TP time grows by that reduce-scatter under the pooled window (hD65's
    `PER_LINEAR_WINDOW` off); per linear (hD65) the window is the linears' own, so the scatter is exposed either way."""
    stack = _without_overlap(NEMO)
    assert stack.tp_async_backward
    plan = _plan(True, etp=2)
    shape, cluster = load_model("mixtral-8x7b"), Cluster.resolve("dgx-h100-superpod").for_gpus(16)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    lay = layer_layout(plan, False, stack, rates.fp8_gemm_layouts)
    scatter = collective_times(cluster.fabric, tuple(c for c in layer_ops(shape, lay).collectives_bwd
                                                     if c.role == "tp" and c.group == 2
                                                     and c.kind == "reduce_scatter"), "tp", True)
    bf16 = recipe("bf16")
    precision = (bf16.gemm_flops_per_s(cluster.accelerator), bf16.operand_bytes)
    with pytest.MonkeyPatch.context() as patch:
        per_linear, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, stack)
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", False)
        assert layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, stack)[0]["tp_bwd"] == (
            per_linear["tp_bwd"])
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", True)
        patch.setattr(tp_overlap, "PER_LINEAR_WINDOW", False)
        now, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, stack)
        patch.setattr(tp_overlap, "TE_LINEARS_ONLY", False)
        every, _ = layer_times_but_ep(shape, rates, cluster.fabric, plan, precision, 0.0, stack)
    assert _f(scatter) > 0.0
    assert _f(now["tp_bwd"]) - _f(every["tp_bwd"]) == pytest.approx(_f(scatter), rel=1e-9)
