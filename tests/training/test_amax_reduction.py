"""Per-tensor scales shared over TP: Transformer Engine's amax all-reduce under fp8 current scaling and NVFP4 with
sequence parallelism (`training.tp_quantised_collectives.amax_reductions`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Fp8Recipe, load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import one_plan_step_time, step_time
from infraplan.training.tp_quantised_collectives import AMAX_BYTES, amax_reductions

STACK = "nemo-26.04"  # fp8 current scaling


def _plan(dtype: Dtype, tp: int = 4, sequence_parallel: int = 1) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=1, dp=1, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=8,
                               seq_len=8192, recompute=0, zero=1, dtype=dtype, attention=0, order=0,
                               sequence_parallel=sequence_parallel, schedule=None).one_row


def test_counts_follow_the_column_and_row_parallel_modules() -> None:
    stack = load_stack(STACK)
    dense, moe, shared_moe = (load_model(m) for m in ("llama3-70b", "qwen3-235b-a22b", "deepseek-v3"))
    assert amax_reductions(dense, _plan(Dtype.FP8), stack)[:2] == (2.0, 2.0)  # QKV + FC1 / proj + FC2
    assert amax_reductions(moe, _plan(Dtype.FP8), stack)[:2] == (1.0, 1.0)  # routed experts: GroupedLinear, none
    assert amax_reductions(shared_moe, _plan(Dtype.FP8), stack)[:2] == (3.0, 2.0)  # MLA up-projections + shared


@pytest.mark.parametrize(("dtype", "recipe", "sequence_parallel", "runs"), [
    (Dtype.FP8, "current", 1, True), (Dtype.NVFP4, "current", 1, True),
    (Dtype.FP8, "delayed", 1, False), (Dtype.FP8, "blockwise", 1, False), (Dtype.MXFP8, "current", 1, False),
    (Dtype.BF16, "current", 1, False), (Dtype.FP8, "current", 0, False)])
def test_only_per_tensor_scales_on_sequence_shards_reduce(dtype: Dtype, recipe: str, sequence_parallel: int,
                                                         runs: bool) -> None:
    stack = load_stack(STACK).model_copy(update={"fp8": Fp8Recipe(recipe=recipe)})  # type: ignore[arg-type]
    assert bool(amax_reductions(load_model("llama3-70b"), _plan(dtype, 4, sequence_parallel), stack)[2]) is runs


def _tp_comm_s(recipe: str, tp: int) -> tuple[float, int]:
    clear_one_plan_memo()
    stack = load_stack(STACK).model_copy(update={"fp8": Fp8Recipe(recipe=recipe)})  # type: ignore[arg-type]
    result = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=tp, pp=1, seq_len=8192, global_batch=64,
                               micro_batch=1, dtype="fp8", recompute="full", stack=stack)
    return result.breakdown_s.tp_comm, result.config.micro_batches


def test_current_scaling_pays_four_small_all_reduces_per_layer_and_micro_batch_more_than_delayed() -> None:
    """Full recompute re-runs the forward's two; the delayed recipe's TP traffic is otherwise the same."""
    current, micro_batches = _tp_comm_s("current", 4)
    delayed, _ = _tp_comm_s("delayed", 4)
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(64).fabric
    one = collective_seconds(fabric, "all_reduce", AMAX_BYTES, 4, 1)
    layers = load_model("llama3-70b").num_layers
    assert one > 0.0
    assert current - delayed == pytest.approx((2 + 2 + 2) * one * layers * micro_batches, rel=1e-6)
    assert _tp_comm_s("current", 1)[0] == _tp_comm_s("delayed", 1)[0] == 0.0  # no TP group, no reduction


def test_the_search_grid_and_a_single_estimate_price_the_same_reductions() -> None:
    """The array path (a search's rows: dtypes x sequence parallelism) and one plan's floats agree to the bit."""
    shape, cluster = load_model("llama3-70b"), Cluster.resolve("dgx-h100-superpod")
    stack = load_stack(STACK)
    base = dict(tp=4, pp=2, dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=64, seq_len=8192, recompute=2,
                zero=1, attention=0, order=0)
    dtypes, sps = [int(Dtype.BF16), int(Dtype.FP8), int(Dtype.NVFP4), int(Dtype.FP8)], [1, 1, 1, 0]
    grid = step_time(shape, cluster, PlanArrays.build(**base, dtype=np.array(dtypes),  # type: ignore[arg-type]
                                                      sequence_parallel=np.array(sps)), stack)
    for i, (dtype, sp) in enumerate(zip(dtypes, sps, strict=True)):
        clear_one_plan_memo()
        one = one_plan_step_time(shape, cluster, PlanArrays.one_plan(**base, dtype=dtype, sequence_parallel=sp,
                                                                     etp=None), stack)
        assert one == {k: float(v[i]) for k, v in grid.items()}, (dtype, sp)
