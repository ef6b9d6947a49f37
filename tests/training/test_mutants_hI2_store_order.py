"""hI2 (session 68): hD68's plain linear's fresh wgrad while its store runs (`training.deferred_wgrad_memory`
`_held`, `_run_peak`, `DW_ORDER`) on DeepSeek-V3 with one expert a token, TP 2 with SP, EP 64 (4 local experts),
128 GPUs, seq 4,096, bf16, deferred, gradient accumulation fusion off. Held tensors (bf16, T = 4,096 tokens): a
linear's output gradient T x n and, under SP, its gathered input T x k; its fresh wgrad k x n. A store run peaks at
max over its modules, in `backward_dw` order, of (the held tensors from that module on + its wgrad):

* the 3 dense layers' MLP store, fc2 (9,216 -> 7,168) then fc1 (7,168 -> 2 x 18,432 / 2) (transformer/mlp.py:270-272):
  at fc1, its output gradient and gathered input and its wgrad, 4,096 x 18,432 x 2 + 4,096 x 7,168 x 2
  + 7,168 x 18,432 x 2 = 473,956,352 B (fc1 first: 532.7 MB);
* without the dense layers, the routed layer's shared expert + attention store, shared experts first (fc2, fc1), then
  MLA's kv up, kv down, q down, q up, proj (multi_latent_attention.py:946-967): every held tensor, 453,246,976 B, +
  the shared fc2's wgrad 1,024 x 7,168 x 2 = 14,680,064: 467,927,040 B (the shared fc1 first: 482.6 MB);
* without a shared expert too, kv up first: the attention's 319,029,248 B + kv up's 512 x 16,384 x 2 = 16,777,216:
  335,806,464 B (q down first: 341.0 MB).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training.deferred_wgrad_memory import held_wgrad_bytes
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")
NEMO = load_stack("nemo-26.04")


def _stack() -> Stack:
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": True})
    return NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                   "pipeline_split_divisible": False, "tp_comm_overlap_fraction": 0.0,
                                   "tp_overlap_sm_fraction": 0.0, "gradient_accumulation_fusion": False,
                                   "mtp_num_layers": 0})


def _plan(shape: object) -> PlanArrays:
    rows = enumerate_plans(shape, 128, 4096, 512, ["bf16"], 8)  # type: ignore[arg-type]
    keep = (valid_mask(shape, rows) & (rows.tp == 2) & (rows.ep == 64) & (rows.pp == 1) & (rows.cp == 1)  # type: ignore[arg-type]
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.sequence_parallel == 1) & (rows.zero == 1))
    return rows.take(np.flatnonzero(keep)[:1])


@pytest.mark.parametrize(("update", "peak"), [
    ({}, 4096 * 18432 * 2 + 4096 * 7168 * 2 + 7168 * 18432 * 2),
    ({"num_dense_layers": 0}, 453_246_976 + 1024 * 7168 * 2),
    ({"num_dense_layers": 0, "shared_ffn_hidden_size": 0}, 319_029_248 + 512 * 16384 * 2),
])
def test_each_store_run_peaks_at_its_first_plain_linear(update: dict[str, int], peak: int) -> None:
    shape = load_model("deepseek-v3").model_copy(update={"experts_per_token": 1, **update})
    assert float(held_wgrad_bytes(shape, _plan(shape), _stack())[0]) == pytest.approx(peak, rel=1e-12)
