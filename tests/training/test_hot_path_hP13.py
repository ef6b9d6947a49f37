"""Work a never-seen single estimate no longer does (hP13, session 38), each with the bits it had.

* `dp_collectives_memo.one_plan_dp_collectives`: a plan's DP collectives kept in `ops.params.PLAN_SHAPE_COUNTS`
  under every input they read, so plans that differ only in the sequence length (the benchmark's) price them
  once; a patched collective switch is part of the key.
* `layer_recipe.one_plan_terms`: a one-row plan's precision terms (its dtype, the stack, the fp8 GEMM layouts),
  kept per stack, are what the array path's calls give, and `_layout` builds the same Layout from them.
* `PlanArrays` has no `__getattr__` (its one-element arrays are `_LazyOnePlan`'s), so a `one_row`'s attribute
  reads skip CPython's lookup hook.
* training/estimate.py split by what it models (plan_outputs.py, plan_resolution.py), names re-exported.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from tests.training.conftest import any_split

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network import collective_efficiency
from infraplan.training import dp_collectives_memo, estimate, layer_recipe, layer_time, plan_outputs, plan_resolution
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays

ARGS = dict(tp=8, pp=16, vpp=7, global_batch=2048, zero=3, stack=any_split("llama3-405b"))  # 112 of 128 (hR44)


def _estimate(seq_len: int) -> str:
    return estimate.estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, seq_len=seq_len,
                                      **ARGS).to_json()  # type: ignore[arg-type]


def test_dp_collectives_are_priced_once_for_plans_of_other_sequence_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_one_plan_memo()
    fresh = {s: _estimate(s) for s in (8192, 4096)}  # each priced with every memo emptied before it
    clear_one_plan_memo()
    _estimate(8192)
    calls: list[int] = []
    real = dp_collectives_memo.dp_collectives

    def counted(*args: object) -> object:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dp_collectives_memo, "dp_collectives", counted)
    clear_one_plan_memo(pricings=False)  # the benchmark's never-seen plan: its rows forgotten
    assert _estimate(4096) == fresh[4096] and not calls  # DP collectives kept: they read no sequence length
    clear_one_plan_memo()
    assert _estimate(4096) == fresh[4096] and calls == [1, 1, 1]  # emptied with the pricings (the traffic's, the
    # heaviest middle stage's on its own 8 layers, hT40, and the end stages' with 7 of the 8 layers: their own, hD5)
    clear_one_plan_memo(pricings=False)
    estimate.estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, seq_len=4096,
                               **{**ARGS, "zero": 1})  # type: ignore[arg-type]
    assert calls == [1] * 6  # another ZeRO stage: its own collectives


def test_kept_dp_collectives_follow_a_patched_collective_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = load_model("llama3-405b")
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(16384).placed(16384)
    row = PlanArrays.one_plan(tp=8, pp=16, dp=128, cp=1, ep=1, etp=None, vpp=7, micro_batch=1, global_batch=2048,
                              seq_len=8192, recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16,
                              attention=Attention.FLASH, order=RankOrder.TP_CP_PP_DP, sequence_parallel=1).one_row
    clear_one_plan_memo()
    kept = dp_collectives_memo.one_plan_dp_collectives(shape, cluster.fabric, row, 3.2e9, 0.0, 4.0)
    assert kept == dp_collectives_memo.dp_collectives(shape, cluster.fabric, row, 3.2e9, 0.0, 4.0, 0)
    assert dp_collectives_memo.one_plan_dp_collectives(shape, cluster.fabric, row, 3.2e9, 0.0, 4.0) is kept
    monkeypatch.setattr(collective_efficiency, "NCCL_NET_STEP_LATENCY_S", 1.0)  # (read by the ring's latency)
    patched = dp_collectives_memo.one_plan_dp_collectives(shape, cluster.fabric, row, 3.2e9, 0.0, 4.0)
    assert patched["allreduce"] > kept["allreduce"]
    assert patched == dp_collectives_memo.dp_collectives(shape, cluster.fabric, row, 3.2e9, 0.0, 4.0, 0)


def _row(dtype: Dtype) -> PlanArrays:
    return PlanArrays.one_plan(tp=4, pp=1, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=4096, recompute=Recompute.NONE, zero=1, dtype=dtype,
                               attention=Attention.FLASH, order=RankOrder.TP_CP_PP_DP, sequence_parallel=1)


@pytest.mark.parametrize("stack", ["nemo-26.04", "deepseek-v3", "torchtitan", "megatron-core-0.8"])
def test_one_plan_terms_are_the_array_paths(stack: str) -> None:
    profile = load_stack(stack)
    clear_one_plan_memo()
    for dtype in Dtype:
        plan = _row(dtype)
        for layouts in (("tn",), ("tn", "nn", "nt")):
            for fp8 in (True, False):
                layout_terms, layer = layer_recipe.one_plan_terms(plan.one_row, fp8, profile, layouts)
                assert layer_recipe.one_plan_terms(plan.one_row, fp8, profile, layouts)[1] is layer  # kept
                array = layer_time.layer_layout(plan, np.array([fp8]), profile, layouts)  # the array path's layout
                one = layer_time.layer_layout(plan.one_row, fp8, profile, layouts)
                for f in dataclasses.fields(one):
                    a, b = getattr(one, f.name), getattr(array, f.name)
                    if f.name == "unfused_elementwise":  # the stack's op names (hK52), not a per-plan number
                        assert a == b, (dtype, f.name)
                        continue
                    assert np.ravel(a)[0] == np.ravel(b)[0], (dtype, f.name)
                share = float(np.ravel(layer_recipe.bf16_layer_share(plan, profile))[0])
                assert layout_terms[0] == share and layer[0] == (share if fp8 else 0.0)
                cast = float(np.ravel(layer_recipe.cast_bytes_per_element(plan, profile, layouts))[0])
                assert layer[3] == max(cast, 1e-9)
                assert all(type(v) in (float, int, bool, str, type(None), tuple) for v in (*layout_terms, *layer))


def test_plan_arrays_have_no_lookup_hook() -> None:
    assert "__getattr__" not in vars(PlanArrays) and not hasattr(PlanArrays, "__getattr__")
    plan = _row(Dtype.BF16)
    assert type(plan.one_row) is PlanArrays and plan.one_row.tp == 4
    assert int(plan.tp[0]) == 4 and plan.is_one  # the lazy plan still makes its arrays on first read


def test_estimate_module_is_split_and_reexports() -> None:
    here = Path(estimate.__file__).parent
    for name in ("estimate.py", "plan_outputs.py", "plan_resolution.py", "layer_time.py", "layer_recipe.py"):
        assert len((here / name).read_text().splitlines()) <= 400, name
    for name in ("evaluate_plans", "one_plan_outputs", "plan_memory", "peak_flops", "model_tflops_per_gpu",
                 "MEMORY_TERMS"):
        assert getattr(estimate, name) is getattr(plan_outputs, name)
    for name in ("resolve_plan", "auto_recompute", "default_virtual_stages", "RECOMPUTE_AUTO"):
        assert getattr(estimate, name) is getattr(plan_resolution, name)
    assert set(estimate.__all__) <= set(vars(estimate))
