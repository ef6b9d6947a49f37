"""DeepSeek-R1's decode step on 8 x B200 (nvfp4, fp8 latent cache, attention DP 8 x EP 8) derived by hand (hH2,
session 75; validation/notes/inference_frontier_tried.md "Session 75 (hH2)").

From the HF config (61 layers, first 3 dense, 256 routed experts top-8 + 1 shared, expert width 2,048, hidden 7,168,
128 heads, kv_lora_rank 512 + rope 64) and the catalog's B200 (2,250 TF bf16 x attention fraction 0.44; 7.7 TB/s x
0.85), at MLPerf v5.1 H077's Little's-law batch (155 sequences per rank, 4,453 cached tokens):

* the absorbed MLA decode reads 576 B a cached token a layer but does 2 x (576 + 512) x 128 FLOPs on it: FLOP-bound,
  11.85 ms a step at 990 TF/s (the byte read is 3.6 ms);
* 1,240 tokens of the EP group pick 8 of 256 experts: an expert is missed with (1 - 8/256)^1240 ~ 1e-17, so every
  rank reads all 32 of its experts, 58 x 32 x 3 x 7,168 x 2,048 x 0.5625 B = 46 GB a step: 7.0 ms at 6.5 TB/s.

The model's parts are those figures, and its step is 0.52 of the v5.1 Server row's 66.5 ms TPOT, while the same
layout and precision's 2026 decode worker (AIConfigurator 0.12.0 silicon sample, Dynamo 0.8.1 TensorRT-LLM runtime,
cfg346: 137 sequences per rank, ISL 1,024 / OSL 1,024, 23.95 ms TPOT) runs faster than the model: the R1 gap is the
v5.1 engine's, not a term of the step.
"""

from __future__ import annotations

import pytest

from infraplan.validation.inference_frontier import load_frontier_cases
from infraplan.validation.step_components import decode_step_components

LAYERS, MOE_LAYERS, HEADS, LATENT, ROPE = 61, 58, 128, 512, 64
EXPERTS, TOP_K, EP, HIDDEN, EXPERT_WIDTH = 256, 8, 8, 7168, 2048
ATTENTION_RATE = 0.44 * 2250e12  # b200.yaml attention_max_fraction x the bf16 peak
HBM_RATE = 0.85 * 7.7e12  # b200.yaml memory_bandwidth_fraction x the HBM bandwidth
NVFP4_BYTES = 0.5 + 1 / 16  # 4-bit weights and one e4m3 scale per 16
MLPERF_TPOT_S, WORKER_TPOT_S = 66.5e-3, 23.95e-3  # H077's TPOT mean; cfg346's decode-worker TPOT


@pytest.fixture(scope="module")
def h077():
    data = load_frontier_cases()
    return next(c for c in data["cases"] if c["row"] == "H077"), data["engine"]


def test_the_r1_step_at_h077s_batch_is_the_hand_derivation(h077):
    case, engine = h077
    n, context = 155, 4453.0
    parts = decode_step_components(case, engine, n, context)
    attention_flops = 2 * (LATENT + ROPE + LATENT) * HEADS * LAYERS * n * context
    latent_read_s = (LATENT + ROPE) * LAYERS * n * context / (0.88 * 7.7e12)  # fp8 latent at kv_read_fraction 0.88
    assert parts["kv_reads"] == pytest.approx(attention_flops / ATTENTION_RATE, rel=0.01)
    assert parts["kv_reads"] > 3 * latent_read_s  # FLOP-bound, not a byte read
    group_tokens = n * EP
    assert (1 - TOP_K / EXPERTS) ** group_tokens < 1e-15  # every local expert is hit: all 32 are read
    weights = MOE_LAYERS * (EXPERTS / EP) * 3 * HIDDEN * EXPERT_WIDTH * NVFP4_BYTES
    assert 1.0 < parts["routed_experts"] / (weights / HBM_RATE) < 1.15  # activations and launches on top
    assert parts["tp_collectives"] == 0 and parts["ep_collectives"] > 0 and parts["dense_ffn"] > 0
    assert 0.45 < parts["total"] / MLPERF_TPOT_S < 0.56


def test_the_same_layouts_2026_decode_worker_is_faster_than_the_model_where_mlperf_is_slower(h077):
    """The model's step from the 2026 worker's point (137 a rank, 1,536 tokens) to H077's (155, 4,453) grows < 1.4x;
    the measured TPOT grows 2.8x: no step term of the model can be both (the v5.1 engine, a row input)."""
    case, engine = h077
    worker = decode_step_components(case, engine, 137, 1024 + 1024 / 2)["total"]
    mlperf = decode_step_components(case, engine, 155, 4453.0)["total"]
    assert worker / WORKER_TPOT_S > 1.0 and mlperf / MLPERF_TPOT_S < 0.56
    assert mlperf / worker < 1.4 < 2.5 < MLPERF_TPOT_S / WORKER_TPOT_S
