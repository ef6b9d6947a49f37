"""Deferred-wgrad leftovers (hD, session 66): TE's refusal of `delay_wgrad_compute` with TP userbuffers
(`tp_overlap.deferred_wgrad_userbuffers_refused`), the store's held tensors in activation memory
(`deferred_wgrad_memory.held_wgrad_bytes`), and one walk for TE's async dgrad window and the wgrad input re-gathers
(`sp_regather.column_parallel_terms`).

Sources: Transformer Engine 2.14 module/_common.py:212-216 (the store refuses `ub_bulk_wgrad`), module/linear.py
:888-899 (NotImplementedError with userbuffers; `wgrad_store.put([inputmat_total, grad_output], ...)`),
grouped_linear.py:485; megatron-core 0.16.1 extensions/transformer_engine.py:782-783,
models/common/model_chunk_schedule_plan.py:231, :252. On c65ddb0c the two behaviour checks fail (the plan is priced,
the memory has no such term) and with the toggles off they fail too.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Collective, Layout, layer_ops
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import larger, smaller
from infraplan.training import deferred_wgrad_memory, sp_regather, tp_overlap
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_kernels import collective_times
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan_rules import framework_refusals, valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # (tests patch the toggles)
NEMO = load_stack("nemo-26.04")
MODEL = "qwen3-30b-a3b"
SYSTEM = "dgx-h100-superpod"


def _stack(delay: bool = True, userbuffers: bool = True) -> Stack:
    """nemo-26.04 with the combined 1F1B, with or without the deferral, with or without its TP userbuffers."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": delay})
    update = {"moe": moe, "expert_parallel_layout": "ep-inside-dp", "pipeline_split_divisible": False}
    if not userbuffers:
        update |= {"tp_comm_overlap_fraction": 0.0, "tp_overlap_sm_fraction": 0.0}
    return NEMO.model_copy(update=update)


def _train(stack: Stack, tp: int = 2, **kw: object) -> object:
    return estimate_training(MODEL, SYSTEM, 64, tp=tp, pp=1, ep=8, seq_len=4096, global_batch=512, micro_batch=1,
                             dtype="bf16", stack=stack, **kw)  # type: ignore[arg-type]


def test_te_refuses_the_deferral_with_userbuffers() -> None:
    """TP2 with SP on a stack whose userbuffers run: TE refuses it (one line naming the assert); TP 1, SP off, the
    stack without userbuffers, or without the deferral, each runs. With the toggle off it is priced."""
    with pytest.raises(InputError, match=r"delay_wgrad_compute does not run with TP userbuffers.*_common\.py:212-216"):
        _train(_stack())
    for ok in (_train(_stack(), tp=1), _train(_stack(), sequence_parallel=False),
               _train(_stack(userbuffers=False)), _train(_stack(delay=False))):
        assert ok.step_time_s > 0.0  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tp_overlap, "DEFERRED_WGRAD_USERBUFFERS_REFUSED", False)
        clear_one_plan_memo()
        assert _train(_stack()).step_time_s > 0.0  # type: ignore[attr-defined]


def test_search_prunes_the_rows_per_vp_pair() -> None:
    """`search`'s rows (VP 1) stand for their VP pairs: a TP > 1 EP > 1 row without full recompute is pruned at any
    PP (Megatron-Core runs the EP overlap at PP > 1 only with VP), TP 1, EP 1 or full recompute rows are not; the
    MLA model (no userbuffers under Megatron-Core) is never pruned."""
    shape = load_model(MODEL)
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16"], 8)
    rows = rows.take(np.flatnonzero(valid_mask(shape, rows)))
    (bad, why), = [r for r in framework_refusals(shape, rows, _stack(), None, "search") if "userbuffers" in r[1]]
    expect = (rows.tp > 1) & (rows.ep > 1) & (rows.recompute != 2) & (rows.sequence_parallel == 1)
    assert bad.any() and (bad == expect).all() and ((rows.pp > 1) & bad).any()
    assert "search runs sequence parallelism" in why
    assert not framework_refusals(shape, rows, _stack(userbuffers=False), None, "search")[-1][0].any()
    mla = load_model("deepseek-v3")
    mla_rows = enumerate_plans(mla, 64, 4096, 512, ["bf16"], 8)
    assert not np.any(tp_overlap.deferred_wgrad_userbuffers_refused(mla, mla_rows, _stack(), True))


def _held_by_hand(tokens: float, tp: int, ep: int) -> float:
    """Qwen3-30B-A3B (h 2,048, 32 q heads / 4 kv heads of 128, 128 experts of 768, top 8), bf16, SP at TP `tp`,
    ETP = TP, EP `ep` inside DP: max(attention, routed experts) held bytes, written out from the shapes."""
    h, q, kv, f, experts, top = 2048.0, 32 * 128.0, 4 * 128.0, 768.0, 128.0, 8.0
    qkv = tokens * (q + 2 * kv) / tp * 2.0 + tokens * h * 2.0  # grad out + SP re-gathered input (bf16)
    proj = tokens * h * 2.0  # grad out (gathered under SP)
    routed = tokens * top * ep / experts * (experts / ep)  # tokens through the rank's experts
    experts_held = routed * (2.0 * f / tp) * 2.0 + routed * h * 2.0  # FC1's and FC2's grad outs
    return max(qkv + proj, experts_held)


def test_held_tensors_in_activation_memory() -> None:
    """A deferring plan's activations grow by one layer's held set, computed by hand; the stack without the
    deferral, a plan that does not run the combined 1F1B (full recompute) and the toggle off add nothing; the
    search's memory bound stays above; a grid of plans equals each plan alone."""
    stack, plain = _stack(userbuffers=False), _stack(delay=False, userbuffers=False)
    on, off = _train(stack), _train(plain)
    grew = on.memory_breakdown_bytes.activations - off.memory_breakdown_bytes.activations  # type: ignore[attr-defined]
    assert grew == pytest.approx(_held_by_hand(4096.0, 2, 8), rel=1e-12) and grew > 1e8
    full = _train(stack, recompute="full").memory_per_gpu_bytes  # type: ignore[attr-defined]
    assert full == _train(plain, recompute="full").memory_per_gpu_bytes  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(deferred_wgrad_memory, "HELD_WGRAD_TENSORS", False)
        clear_one_plan_memo()
        assert _train(stack).memory_per_gpu_bytes == off.memory_per_gpu_bytes  # type: ignore[attr-defined]
    shape = load_model(MODEL)
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16", "fp8"], 8)
    rows = rows.take(np.flatnonzero(valid_mask(shape, rows) & (rows.ep > 1))[:60])
    grid = memory_breakdown(shape, rows, stack)["activations"]
    alone = [float(memory_breakdown(shape, rows.take([i]), stack)["activations"][0]) for i in range(len(rows))]
    assert np.array_equal(grid, np.array(alone))
    high = memory_bound_terms(shape, rows, stack, "activations")["activations_high"]
    low = memory_bound_terms(shape, rows, stack, "activations")["activations_low"]
    assert np.all(high >= grid) and np.all(low <= grid)


def _old_window(fabric: Fabric, ops: object, times: list[tuple[object, object]], lay: Layout) -> object:
    """`tp_overlap.async_dgrad_window_s`' grid walk before hD66 (its own loop), for the bit-identity check."""
    roles, window = sp_regather.column_parallel_roles(lay), 0.0
    sp, tp = np.asarray(lay.sequence_parallel, dtype=bool), np.asarray(lay.tp, dtype=float)
    kinds = tuple((k, m) for k, m in (("reduce_scatter", sp), ("all_reduce", ~sp)) if m.any())
    for g, (_, bwd) in zip(ops.gemms, times, strict=True):  # type: ignore[attr-defined]
        if g.role in roles:
            records = tuple(Collective(k, "tp", g.m * g.k * ACT_BYTES, tp, 1, 1.0, m) for k, m in kinds)
            window = window + smaller(g.count * g.share * collective_times(fabric, records, "tp", False), 0.5 * bwd)
    return window


def _old_regather(fabric: Fabric, ops: object, times: list[tuple[object, object]], lay: Layout) -> object:
    """`sp_regather.regather_exposed_s`' grid walk before hD66, at ratio 1."""
    roles, exposed = sp_regather.column_parallel_roles(lay), 0.0
    sp, tp = np.asarray(lay.sequence_parallel, dtype=bool), np.asarray(lay.tp, dtype=float)
    for g, (_, bwd) in zip(ops.gemms, times, strict=True):  # type: ignore[attr-defined]
        if g.role in roles:
            record = Collective("all_gather", "tp", g.m * g.k * ACT_BYTES * 1.0, tp, 1, 1.0, sp)
            exposed = exposed + larger(g.count * g.share * collective_times(fabric, (record,), "tp", False)
                                       - 0.5 * bwd, 0.0)
    return exposed


@pytest.mark.parametrize("model", ["llama3-70b", "qwen3-30b-a3b", "deepseek-v3"])
def test_one_walk_is_the_two_walks_bit_for_bit(model: str) -> None:
    """The merged walk's two terms equal the two old loops' bits, on a grid (SP on and off, TP 1 to 8) and on each
    plan's float path (`async_dgrad_window_s` / `regather_exposed_s`, the one-plan shortcuts)."""
    fabric = Cluster.resolve(SYSTEM, purpose="LLM training").for_gpus(64).placed(64).fabric
    shape = load_model(model)
    tp, sp = np.array([1.0, 2.0, 4.0, 8.0, 2.0, 8.0]), np.array([True, True, True, True, False, False])
    lay = Layout(tokens=np.full(6, 4096.0), tp=tp, sequence_parallel=sp, seq_len=4096.0)
    ops = layer_ops(shape, lay)
    rng = np.random.default_rng(66)
    times = [(0.0, rng.uniform(0.0, 4e-4, 6)) for _ in ops.gemms]
    window, regather = sp_regather.column_parallel_terms(fabric, ops, times, lay, 1.0, False)
    assert np.array_equal(window, _old_window(fabric, ops, times, lay))
    assert np.array_equal(regather, _old_regather(fabric, ops, times, lay))
    for i in range(6):
        one = Layout(tokens=4096.0, tp=int(tp[i]), sequence_parallel=bool(sp[i]), seq_len=4096.0)
        one_ops = layer_ops(shape, one)
        one_times = [(0.0, float(t[1][i])) for t in times]
        w = tp_overlap.async_dgrad_window_s(fabric, one_ops, one_times, one, True)
        r = sp_regather.regather_exposed_s(fabric, one_ops, one_times, one, 1.0, True)
        assert (w, r) == sp_regather.column_parallel_terms(fabric, one_ops, one_times, one, 1.0, True)
        assert w == pytest.approx(float(window[i]), rel=1e-12, abs=1e-18)
        assert r == pytest.approx(float(regather[i]), rel=1e-12, abs=1e-18)
