"""Issue 18 (single estimate in microseconds): the one-plan memo (`training.one_plan_memo`) and the kept
plan verdicts of `plan_rules.check_single_plan` change no number, share rows between plans, stay bounded
and are read-only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training import layer_terms, one_plan_memo, step_time
from infraplan.training import plan_rules as plan_module
from infraplan.training.estimate import estimate_training, evaluate_plans, resolve_plan

# a dense plan, an MoE plan with EP and DeepEP-free dispatch, block recompute, fp8 and an unfused eager stack
CASES: list[tuple[str, str, int, dict[str, Any]]] = [
    ("llama3-405b", "meta-genai-roce-24k", 16384,
     dict(tp=8, pp=16, vpp=4, seq_len=8192, global_batch=2048, zero=3)),  # (VPP 7: 112 of 128 chunks, refused)
    ("mixtral-8x7b", "dgx-h100-superpod", 64, dict(tp=2, pp=2, ep=8, seq_len=4096, global_batch=256)),
    ("llama3-70b", "dgx-h100-superpod", 256,
     dict(tp=8, pp=4, vpp=2, seq_len=4096, global_batch=512, recompute="full", recompute_layers=2)),
    ("llama3-8b", "dgx-h100-superpod", 64, dict(tp=2, seq_len=4096, global_batch=256, dtype="fp8")),
    ("gpt3-175b", "dgx-h100-superpod", 1024,
     dict(tp=8, pp=8, seq_len=2048, global_batch=1536, stack="megatron-lm-2021", attention="unfused")),
]


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    one_plan_memo.clear_one_plan_memo()


@pytest.mark.parametrize(("model", "system", "gpus", "plan"), CASES)
def test_memoised_estimate_equals_a_fresh_one(model: str, system: str, gpus: int, plan: dict[str, Any]) -> None:
    fresh = estimate_training(model, Cluster._from_name(system), gpus, **plan)  # its own cluster: its own memo
    first = estimate_training(model, system, gpus, **plan)
    again = estimate_training(model, system, gpus, **plan)  # looked up
    assert first.model_dump_json() == fresh.model_dump_json() == again.model_dump_json()


def test_plans_sharing_layer_rows_price_the_layer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    priced: list[int] = []
    original = layer_terms.layer_times_but_ep

    def counting(*a: Any, **k: Any) -> Any:
        priced.append(len(a[3]))
        return original(*a, **k)

    monkeypatch.setattr(layer_terms, "layer_times_but_ep", counting)
    # global batch and DP change neither the layer row (LAYER_KEYS) nor, for the batch, the traffic row
    small = estimate_training("llama3-70b", "dgx-h100-superpod", 256, tp=8, pp=4, seq_len=4096, global_batch=512)
    large = estimate_training("llama3-70b", "dgx-h100-superpod", 256, tp=8, pp=4, seq_len=4096, global_batch=1024)
    wider = estimate_training("llama3-70b", "dgx-h100-superpod", 512, tp=8, pp=4, seq_len=4096, global_batch=1024)
    assert priced == [1]
    assert small.step_time_s < large.step_time_s and wider.step_time_s < large.step_time_s
    one_plan_memo.clear_one_plan_memo()
    estimate_training("llama3-70b", "dgx-h100-superpod", 256, tp=8, pp=4, seq_len=4096, global_batch=1024)
    assert priced == [1, 1]  # forgotten: priced again, to the same bits
    assert estimate_training("llama3-70b", "dgx-h100-superpod", 256, tp=8, pp=4, seq_len=4096,
                             global_batch=1024).model_dump_json() == large.model_dump_json()


def test_memoised_outputs_are_not_shared_and_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod")
    plan = resolve_plan(shape, cluster, 64, 2, 1, None, 1, 1, 1, 4096, 256, 1, "none", 1, "bf16")
    out = evaluate_plans(shape, cluster, plan)
    step_s = float(out["step_time_s"][0])
    out["step_time_s"][0] = 0.0  # the caller's own arrays: the memo keeps Python floats
    again = evaluate_plans(shape, cluster, plan)
    assert again is not out and again["step_time_s"] is not out["step_time_s"]
    assert again["step_time_s"][0] == step_s > 0.0 and again["fits"].dtype == np.bool_
    monkeypatch.setattr(one_plan_memo, "ONE_PLAN_MEMO_ROWS", 5)
    for batch in (128, 256, 512, 1024, 2048, 4096):
        p = resolve_plan(shape, cluster, 64, 2, 1, None, 1, 1, 1, 4096, batch, 1, "none", 1, "bf16")
        evaluate_plans(shape, cluster, p)
        assert one_plan_memo.kept_rows() <= 5


def test_a_grid_of_plans_bypasses_the_memo_and_matches_the_single_rows() -> None:
    shape, cluster = load_model("llama3-70b"), Cluster.resolve("dgx-h100-superpod")
    singles = [resolve_plan(shape, cluster, 256, tp, 4, None, 1, 1, 1, 4096, 512, 1, "none", 1, "bf16")
               for tp in (2, 4, 8)]
    grid = type(singles[0])(**{name: np.concatenate([getattr(p, name) for p in singles])
                               for name in one_plan_memo.PLAN_FIELDS})
    batch = evaluate_plans(shape, cluster, grid)
    assert batch["step_time_s"].flags.writeable  # arrays of a grid are the caller's
    for i, p in enumerate(singles):
        one = evaluate_plans(shape, cluster, p)
        assert all(one[k][0] == batch[k][i] for k in one if k != "fits") and one["fits"][0] == batch["fits"][i]


def test_kept_plan_verdicts_raise_the_same_first_rule() -> None:
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-h100-superpod")
    for _ in range(2):  # checked, then looked up
        with pytest.raises(InputError, match="attention heads"):
            resolve_plan(shape, cluster, 60, 3, 1, None, 1, 1, 1, 4096, 240, 1, "none", 1, "bf16")
    with pytest.raises(InputError, match="not divisible by DP"):
        resolve_plan(shape, cluster, 64, 2, 1, None, 1, 1, 1, 4096, 100, 1, "none", 1, "bf16")
    assert len(plan_module._CHECKED) == 2  # emptied by the fixture


def test_threads_sharing_a_small_memo_get_the_serial_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    batches = [256 * k for k in range(1, 9)]

    def run(batch: int) -> str:
        return estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=2, seq_len=4096,
                                 global_batch=batch).model_dump_json()

    serial = [run(b) for b in batches]
    one_plan_memo.clear_one_plan_memo()
    monkeypatch.setattr(one_plan_memo, "ONE_PLAN_MEMO_ROWS", 3)  # constant eviction while threads look up
    monkeypatch.setattr(plan_module, "_CHECKED_KEPT", 2)
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(run, batches * 4))
    assert threaded == serial * 4
    assert one_plan_memo.kept_rows() <= 3


def test_forgetting_plans_keeps_the_cluster_pricing_only_when_asked() -> None:
    """`clear_one_plan_memo(pricings=False)` (the single-estimate benchmark's plan never seen) forgets every row,
    plan and verdict but keeps the cluster and stack's pricing, which holds nothing of a plan."""
    cluster = Cluster.resolve("meta-genai-roce-24k").for_gpus(16384)
    stack = step_time.resolve_stack(None, "training")
    estimate_training("llama3-405b", cluster, 16384, tp=8, pp=16, vpp=8, seq_len=8192, global_batch=2048, zero=3)
    pricing = one_plan_memo.cluster_pricing(cluster, stack)
    assert one_plan_memo.kept_rows() > 0
    one_plan_memo.clear_one_plan_memo(pricings=False)
    assert one_plan_memo.kept_rows() == 0 and not plan_module._CHECKED
    assert one_plan_memo.cluster_pricing(cluster, stack) is pricing
    one_plan_memo.clear_one_plan_memo()
    assert one_plan_memo.cluster_pricing(cluster, stack) is not pricing
