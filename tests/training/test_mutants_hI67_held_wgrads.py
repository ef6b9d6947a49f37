"""hI67 mutation wave on hD66's deferred-wgrad store (`training.deferred_wgrad_memory.held_wgrad_bytes`): the held set
by hand on a model whose attention set can be the larger one.

hD66's test (Qwen3-30B-A3B, top 8, no shared expert) is decided by the routed experts' output gradients, so the
attention's SP re-gathered input, its operand bytes, the shared experts' set and the SP / TP condition of the
re-gather were not seen. Llama 4 Scout (its config: h 5,120, 40 q / 8 kv heads of 128, 16 experts of 8,192, top 1,
one shared expert of 8,192) at TP > 1 with SP has the attention set above the routed one.

By hand, per token, after Transformer Engine 2.14's stores (module/linear.py:899 `[inputmat_total, grad_output]`,
layernorm_linear.py:910 `[ln_out_total, grad_output]`, grouped_linear.py:485) and Megatron-Core 0.16.1's run order
(model_chunk_schedule_plan.py:231 the routed experts', :252 the attention's and shared experts'): the output gradient
of every linear at 2 bytes (bf16, or fp8 row- and column-wise), plus the column-parallel linears' input where TE
re-gathers it (`inputmat_total`: only under sequence parallelism at TP > 1, linear.py:380-382), at the recipe's
operand bytes; the peak is shared + max(attention, routed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training import deferred_wgrad_memory
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")
NEMO = load_stack("nemo-26.04")
MODEL = "llama4-scout"
H, QKV_OUT, F, TOP = 5120.0, (40 + 2 * 8) * 128.0, 8192.0, 1.0


def _stack(delay: bool, shared_overlap: bool = False) -> Stack:
    """nemo-26.04 with the combined 1F1B, the deferral on or off, no TP userbuffers (TE refuses the pair)."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": delay,
                                      "shared_expert_overlap": shared_overlap})
    return NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                   "pipeline_split_divisible": False, "tp_comm_overlap_fraction": 0.0,
                                   "tp_overlap_sm_fraction": 0.0})


def _held_per_token(tp: int, sp: bool, operand_bytes: float, shared_gathered: bool = True) -> float:
    # an output gradient element: bf16's 2 bytes; under fp8 TE keeps it row- and column-wise, 1 + 1 bytes, its scales
    # left out (the module's ASSUMPTION, `GRAD_OUTPUT_BYTES`, read here so that figure may move)
    grad = 2.0 if operand_bytes == 2.0 else deferred_wgrad_memory.GRAD_OUTPUT_BYTES
    gathered = sp and tp > 1
    inputs = H * operand_bytes if gathered else 0.0  # the SP re-gathered T x h input of a column-parallel linear
    attention = QKV_OUT / tp * grad + inputs + H * grad  # QKV (column), its output projection
    # the shared expert's FC1 (column, gate and up; under moe_shared_expert_overlap Megatron gathers its input
    # itself and the linear has no SP mode: TE holds its saved input, nothing more) and FC2
    shared = 2.0 * F / tp * grad + (inputs if shared_gathered else 0.0) + H * grad
    routed = TOP * (2.0 * F / tp * grad + H * grad)  # the routed experts' FC1 and FC2 (ETP = TP), top-1 copies
    return shared + max(attention, routed)


CASES = [(MODEL, {"tp": 2}, False, 4096.0 * _held_per_token(2, True, 2.0)),
         (MODEL, {"tp": 4}, False, 4096.0 * _held_per_token(4, True, 2.0)),
         (MODEL, {"tp": 2, "sequence_parallel": False}, False, 4096.0 * _held_per_token(2, False, 2.0)),
         (MODEL, {"tp": 2, "dtype": "fp8"}, False, 4096.0 * _held_per_token(2, True, 1.0)),
         (MODEL, {"tp": 2, "cp": 2}, False, 2048.0 * _held_per_token(2, True, 2.0)),  # a CP rank's 4,096 / 2 tokens
         (MODEL, {"tp": 2}, True, 4096.0 * _held_per_token(2, True, 2.0, shared_gathered=False)),
         ("llama4-maverick", {"tp": 2}, False, 4096.0 * _held_per_token(2, True, 2.0))]


@pytest.mark.parametrize(("model", "plan", "shared_overlap", "held"), CASES)
def test_the_held_set_by_hand(model: str, plan: dict[str, object], shared_overlap: bool, held: float) -> None:
    """TP 2 with SP, bf16: attention 27,648 B a token (the re-gathered input's 10,240 in it) over the routed 26,624,
    plus the shared 36,864; SP off: no re-gathered input, so the routed set decides; fp8: the inputs at 1 byte.
    Llama 4 Maverick: Scout's MoE layers (128 experts) between dense layers, whose set (attention 27,648, MLP
    2 x 16,384 / 2 x 2 + 10,240 + 10,240 = 53,248) is below: one layer's set is held at a time, the larger kind's."""
    grew = []
    for delay in (True, False):
        run = estimate_training(model, "dgx-h100-superpod", 64, pp=1, ep=8, seq_len=4096, global_batch=512,
                                micro_batch=1, stack=_stack(delay, shared_overlap), **plan)  # type: ignore[arg-type]
        grew.append(run.memory_breakdown_bytes.activations)
    assert grew[0] - grew[1] == pytest.approx(held, rel=1e-12)


def _rows() -> tuple[object, object]:
    shape = load_model(MODEL)
    rows = enumerate_plans(shape, 16, 4096, 64, ["bf16"], 8)
    return shape, rows.take(np.flatnonzero(valid_mask(shape, rows)))


def test_tp1_rows_with_sp_hold_no_gathered_input() -> None:
    """A search row at TP 1 carries sequence_parallel 1, but no TP group gathers anything: TE holds the saved input,
    already counted, so the set is the output gradients' alone (86,016 B a token)."""
    shape, rows = _rows()
    pick = np.flatnonzero((rows.tp == 1) & (rows.sequence_parallel == 1) & (rows.ep > 1) & (rows.pp == 1)  # type: ignore[attr-defined]
                          & (rows.cp == 1) & (rows.recompute == 0) & (rows.micro_batch == 1))[:3]  # type: ignore[attr-defined]
    assert len(pick)
    sub = rows.take(pick)  # type: ignore[attr-defined]
    on = memory_breakdown(shape, sub, _stack(True))["activations"]
    off = memory_breakdown(shape, sub, _stack(False))["activations"]
    assert np.all(on - off == 4096.0 * _held_per_token(1, True, 2.0))


def test_the_search_bound_adds_the_set_only_where_megatron_runs_the_overlap() -> None:
    """`memory_bound_terms`' upper bound: a row stands for its VP pairs, and Megatron-Core runs the combined 1F1B only
    at EP > 1 without full recompute (transformer_config.py:1855-1877): a full-recompute or EP 1 row holds nothing
    more than without the deferral, every other row more."""
    shape, rows = _rows()
    on = memory_bound_terms(shape, rows, _stack(True), "activations")["activations_high"]
    off = memory_bound_terms(shape, rows, _stack(False), "activations")["activations_high"]
    none = (rows.recompute == 2) | (rows.ep == 1)  # type: ignore[attr-defined]
    assert none.any() and (~none).any()
    assert np.array_equal(on[none], off[none]) and np.all(on[~none] > off[~none])


def test_a_dense_layer_whose_mlp_set_is_the_largest_decides(tmp_path: Path) -> None:
    """Llama 4 Maverick's config with its dense layers' MLP 4x wider (intermediate_size_mlp 65,536): a dense layer
    holds its attention's or its MLP's set (the MLP's stored at :231, dense FC1 and FC2 as the experts'), the MLP's
    2 x 65,536 / 2 x 2 + 10,240 (SP input) + 10,240 = 151,552 B a token, above the MoE layers' 64,512."""
    config = json.loads((Path(__file__).parents[2] / "src/infraplan/catalog/models/llama4-maverick.json").read_text())
    config["intermediate_size_mlp"] = 65536
    path = tmp_path / "wide-dense.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if k != "source"}), encoding="utf-8")
    grew = []
    for delay in (True, False):
        run = estimate_training(str(path), "dgx-h100-superpod", 64, tp=2, pp=1, ep=8, seq_len=4096,
                                global_batch=512, micro_batch=1, stack=_stack(delay))
        grew.append(run.memory_breakdown_bytes.activations)
    dense = 2.0 * 65536 / 2 * 2.0 + H * 2.0 + H * 2.0
    assert dense > _held_per_token(2, True, 2.0)
    assert grew[0] - grew[1] == pytest.approx(4096.0 * dense, rel=1e-12)
