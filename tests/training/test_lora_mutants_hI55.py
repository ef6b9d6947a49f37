"""Hand mutants of `training.frozen_base` that survived session 55's tests (hI55, notes: product_review_tried.md):
each test below fails under the named mutant (checked by applying it) and passes on the landed code."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.errors import InputError
from infraplan.training.estimate import TrainingPoint, resolve_training
from infraplan.training.frozen_base import (
    frozen_layer_terms,
    lora_spec,
    with_frozen_layers,
)
from infraplan.training.frozen_traffic import frozen_end_price, frozen_traffic
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

PLAN = dict(model="llama2-70b", system="dgx-h100-superpod", gpus=8, tp=4, cp=2, seq_len=8192, global_batch=8,
            micro_batch=1, dtype="fp8", recompute="none", zero=1)


def _point(**changes: object) -> TrainingPoint:
    args = {**PLAN, **changes}
    return resolve_training(args.pop("model"), args.pop("system"), args.pop("gpus"), **args)  # type: ignore[arg-type]


def test_rank_up_to_the_hidden_size() -> None:
    """M1 (`rank <= hidden` as `<`): a rank of the hidden size is the docstring's top (1..h), one above refused."""
    shape = load_model("llama2-7b")
    assert lora_spec(shape, shape.hidden_size).rank == 4096
    with pytest.raises(InputError, match=r"1\.\.4096"):
        lora_spec(shape, shape.hidden_size + 1)


def _terms(recompute: str, paired: bool) -> tuple[dict[str, Any], dict[str, Any], tuple[float, float, float]]:
    point = _point(recompute=recompute)
    shape, row, stack = point.shape, point.plan.one_row, point.profile
    pricing = cluster_pricing(point.cluster, point.profile)
    spec = lora_spec(shape, 16)
    terms = {"compute_fwd": 1.0, "compute_bwd": 2.0, "tp_fwd": 0.25, "tp_bwd": 0.5,  # (hX55: tp_fwd)
             **({"compute_paired": 3.0} if paired else {})}
    out = with_frozen_layers(terms, shape, pricing.rates, row, pricing.precision_of(row),
                             stack.model_copy(update={"tp_async_backward": False}), spec, point.cluster.fabric)
    return terms, out, frozen_layer_terms(shape, pricing.rates, row, pricing.precision_of(row), stack, spec)


@pytest.mark.parametrize(("recompute", "rerun"), [("none", False), ("full", True)])
def test_full_recompute_reruns_the_adapters_forward(recompute: str, rerun: bool) -> None:
    """M4 (the re-run dropped): full recompute replays each layer's forward in its backward, the adapters' GEMMs
    with it; no recompute replays nothing."""
    terms, out, (skipped, fwd, bwd) = _terms(recompute, False)
    assert out["compute_fwd"] == terms["compute_fwd"] + fwd
    assert out["compute_bwd"] == pytest.approx(terms["compute_bwd"] - skipped + bwd + (fwd if rerun else 0.0))


@pytest.mark.parametrize("recompute", ["none", "full"])
def test_dualpipe_paired_chunk_is_both_phases(recompute: str) -> None:
    """M6 (DualPipe's paired chunk left as the full step's): the paired forward + backward chunk changes by the
    forward's adapters and the backward's change together."""
    terms, out, _ = _terms(recompute, True)
    change = (out["compute_fwd"] - terms["compute_fwd"]) + (out["compute_bwd"] - terms["compute_bwd"])
    assert out["compute_paired"] == pytest.approx(terms["compute_paired"] + change)
    assert "compute_paired" not in _terms(recompute, False)[1]


def _fake_price(stages: list[tuple[Any, ...]], *rest: Any) -> list[dict[str, Any]]:
    return [{"gather": s[0], "gather_layers": 10.0 * s[0], "scatter": s[0]} for s in stages]


@pytest.mark.parametrize("zero", [1, 3])
def test_end_stage_gathers_the_frozen_weights_under_zero3(zero: int) -> None:
    """M10 (the end stage's ZeRO-3 gathers on the adapters): an end stage reduces its adapters' gradients; under
    ZeRO-3 it still gathers its full parameters (the frozen weights), below ZeRO-3 its adapters'."""
    stages = [(1e9, 0.0, 20), (2e9, 0.0, 40)]
    priced = frozen_end_price(_fake_price, 1e5, zero)(stages)
    for (params, _, layers), got in zip(stages, priced, strict=True):
        assert got["scatter"] == 1e5 * layers
        assert got["gather"] == (params if zero >= 3 else 1e5 * layers)
        assert got["gather_layers"] == 10.0 * got["gather"]
    grid = frozen_end_price(_fake_price, 1e5, np.array([1, 3]))(  # a search grid: ZeRO-3's plans picked
        [(np.array([1e9, 1e9]), 0.0, np.array([20, 20]))])[0]
    assert list(grid["gather"]) == [2e6, 1e9] and list(grid["scatter"]) == [2e6, 2e6]


def test_grid_traffic_gathers_the_frozen_weights_under_zero3() -> None:
    """M9 (a grid's ZeRO-3 plans' gathers on the adapters): on a search grid, as on one plan, ZeRO-3 gathers the
    full frozen parameters and ZeRO 0-2 the adapters'."""
    shape = load_model("llama2-70b")
    plans = enumerate_plans(shape, 64, 4096, 128, ["bf16"], 8)
    plans = plans.take(np.flatnonzero(valid_mask(shape, plans))[:400])
    assert set(np.unique(plans.zero)) >= {1, 3}
    full = np.full(len(plans.zero), 7e9)

    def collectives(params: Any) -> dict[str, Any]:
        return {k: np.broadcast_to(params, full.shape) * 1.0 for k in
                ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers")}

    out = frozen_traffic({"params": full, "expert_params": 0.0 * full, "sharded": full / 8, "embedding_sync": full,
                          **collectives(full)}, shape, plans, lora_spec(shape, 16), collectives)
    z3 = plans.zero >= 3
    assert np.all(out["gather"][z3] == 7e9) and np.all(out["gather_layers"][z3] == 7e9)
    assert np.all(out["gather"][~z3] < 1e9) and np.all(out["scatter"] < 1e9)


def test_lora_model_flops_are_megatron_bridges() -> None:
    """M13 / M14 (attention 3x -> 2x, LM head 2x -> 3x): the MFU's FLOPs a token are Megatron-Bridge 0.6.0's LoRA
    count (training/utils/flop_utils.py:805-812): L h^2 (12 + 12 g / n + 18 f / h + 6 V / (L h)) x 2/3 for the
    frozen GEMMs and LM head, plus L h^2 x 12 s / h for the attention core (its avg_seqlen2 / tokens = s unpacked)."""
    from infraplan.training.estimate import estimate_training

    e = estimate_training(**{k: v for k, v in PLAN.items() if k not in ("model", "system", "gpus")},  # type: ignore[arg-type]
                          model="llama2-70b", system="dgx-h100-superpod", gpus=8, lora_rank=16)
    tokens = 8 * 8192
    per_token = e.model_tflops_per_gpu * 1e12 * 8 * e.step_time_s / tokens
    n_layers, h, heads, groups, ffn, vocab, s = 80, 8192, 64, 8, 28672, 32000, 8192
    bridge = (n_layers * h**2 * (12 + 12 * groups / heads + 18 * ffn / h + 6 * vocab / (n_layers * h)) * 2 / 3
              + n_layers * h**2 * 12 * s / h)
    assert per_token == pytest.approx(bridge, rel=1e-12)


def test_a_rest_that_is_no_whole_micro_batch_rounds_up() -> None:
    """M19 (the rest's micro-batches floored): 17 sequences over DP 2 x micro-batch 1 run 9 micro-batches a
    pipeline (the 17th sequence needs one), not 8: the evaluation of 17 is the 18's, above the 16's."""
    from infraplan.training.evaluation import evaluation_s, forward_batch_s

    point = _point(gpus=8, tp=4, cp=1, pp=1, global_batch=64)  # DP 2, 32 micro-batches a batch
    assert int(point.plan.one_row.dp) == 2
    assert evaluation_s(point, 17) == forward_batch_s(point, 9) == evaluation_s(point, 18)
    assert evaluation_s(point, 17) > evaluation_s(point, 16)
