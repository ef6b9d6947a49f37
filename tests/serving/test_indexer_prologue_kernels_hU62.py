"""DeepSeek-V3.2's indexer passes between its projections and its op, as vLLM 0.12.0's `Indexer.forward` runs them
(hU, session 62; model_executor/models/deepseek_v2.py:864-899): the key's LayerNorm + rope, the query's rope, the
query's fp8 cast (`torch.ops._C.per_token_group_fp8_quant`, an opaque op) and the head weights' scaling: 4 launches
a layer forward in every phase, and 58,752 B a token (64 heads x 128). Before, the model charged the indexer's three
GEMMs (`ops.mla_gemms`) and its op's kernels (`serving.sparse_decode`) but none of these: a DeepSeek-V3.2 layer's
element-wise passes were DeepSeek-V3's."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.ops.layer_records import Elementwise
from infraplan.ops.sparse_attention import indexer_prologue_bytes
from infraplan.serving import engine_kernels
from infraplan.serving.deployment import Deployment
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time, prefill_time

CLUSTER = Cluster.resolve("hgx-h200")
V32, V3 = load_model("deepseek-v3.2"), load_model("deepseek-v3")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
LAUNCH, BANDWIDTH = RATES.kernel_overhead_s, RATES.memory_bytes_per_s
# the README's deployment: attention DP 8 x EP 8, vLLM, fp8
DEP = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x",
                 max_batch=64, token_budget=8192)
LAYERS = 61
KERNELS = 4  # key norm + rope, query rope + concat, query fp8 cast, head-weight scaling
TOKEN_BYTES = (2 * 128 * 2  # the key read and written, bf16
               + 2 * 64 * 128 * 2  # the query rotated and concatenated
               + 64 * 128 * (2 + 1) + 64 * 4  # the query cast to fp8, a scale per 128
               + 64 * 2 + 2 * 64 * 4)  # the bf16 head weights and fp32 query scales read, fp32 weights written


def test_a_v32_layer_runs_four_more_element_wise_launches_than_v3s() -> None:
    """The same layer but the indexer: the element-wise passes differ by 4 launches and 58,752 B a token (fails on
    HEAD: the two were equal)."""
    assert indexer_prologue_bytes(V32, 2.0) == TOKEN_BYTES == 58752
    assert indexer_prologue_bytes(V3, 2.0) == 0.0
    tokens = np.array([1.0, 2.0, 8192.0])
    elem = Elementwise("unused", 0.0, 0.0)  # `layer_ops`' pass: unused where the engine's table applies
    extra = (engine_kernels.elementwise_time(V32, RATES, DEP, tokens, elem)
             - engine_kernels.elementwise_time(V3, RATES, DEP, tokens, elem))
    assert extra == pytest.approx(KERNELS * LAUNCH + tokens * TOKEN_BYTES / BANDWIDTH, rel=1e-9)
    for engine, kernels in (("vllm", KERNELS), ("sglang", 5.0), ("trtllm", KERNELS)):  # SGLang's own (hC63)
        assert engine_kernels.indexer_prologue_kernels(V32, engine) == kernels
        assert engine_kernels.indexer_prologue_kernels(V3, engine) == 0.0


@pytest.mark.parametrize(("k", "forwards"), [(0, LAYERS), (1, LAYERS + 1)])
def test_a_decode_step_pays_them_on_every_forward_of_a_layer_with_an_indexer(monkeypatch: pytest.MonkeyPatch,
                                                                            k: int, forwards: int) -> None:
    """Two decode rows: 61 x 4 launches a step (244 x 4 us = 0.976 ms); with an MTP draft the draft layer's forward
    (it holds an indexer) too: 62 x 4. The graph-replayed decode step pays each launch, as for every element-wise
    kernel of the engine's table."""
    dep = dataclasses.replace(DEP, speculative_tokens=k, acceptance=0.85 if k else 0.0)
    on = build_iteration_cost(V32, CLUSTER.accelerator, CLUSTER.fabric, dep)
    monkeypatch.setattr(engine_kernels, "INDEXER_PROLOGUE", False)
    off = build_iteration_cost(V32, CLUSTER.accelerator, CLUSTER.fabric, dep)
    rows, context = 2, 32768
    extra = float(decode_time(on, rows, context) - decode_time(off, rows, context))
    launches = forwards * KERNELS * LAUNCH
    assert launches <= extra <= launches + forwards * rows * (1 + k) * TOKEN_BYTES / BANDWIDTH * 1.000001
    assert extra > launches  # and their bytes
    if not k:
        assert extra == pytest.approx(launches + LAYERS * rows * TOKEN_BYTES / BANDWIDTH, rel=1e-9)


def test_a_prefill_pays_them_once_a_layer_and_their_bytes_per_prompt_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 2,048-token prompt: 61 x (4 launches + 2,048 x 58,752 B), with no stall (attention DP 1); DeepSeek-V3 (no
    indexer) does not move with the toggle."""
    dep = dataclasses.replace(DEP, ep=1, attention_dp=1)
    on = [build_iteration_cost(s, CLUSTER.accelerator, CLUSTER.fabric, dep) for s in (V32, V3)]
    monkeypatch.setattr(engine_kernels, "INDEXER_PROLOGUE", False)
    off = [build_iteration_cost(s, CLUSTER.accelerator, CLUSTER.fabric, dep) for s in (V32, V3)]
    prompt = 2048
    extra = [float(prefill_time(a, 1, prompt) - prefill_time(b, 1, prompt)) for a, b in zip(on, off, strict=True)]
    assert extra[0] == pytest.approx(LAYERS * (KERNELS * LAUNCH + prompt * TOKEN_BYTES / BANDWIDTH), rel=1e-9)
    assert extra[1] == 0.0


def test_the_indexer_projections_and_their_casts_are_priced_where_they_were() -> None:
    """What was already counted (pinned): wq_b (q latent 1,536 -> 64 x 128), wk (7,168 -> 128) and weights_proj
    (7,168 -> 64), deepseek_v2.py:825-842, are GEMMs of the serving layer (`ops.mla_gemms`), a launch each in
    `gemm_time`; their fp8 input casts are fused with the norms that feed them under vLLM's rule (`activation_quant:
    attention_output`): V3.2 launches no more casts than V3."""
    ops = layer_ops(V32, inference_layout(1, 8, 8, np.ones(1), 1))
    shapes = {(g.role, float(g.n), float(g.k)) for g in ops.gemms if g.role.startswith("indexer")}
    assert shapes == {("indexer_q", 8192.0, 1536.0), ("indexer_k", 128.0, 7168.0), ("indexer_weights", 64.0, 7168.0)}
    casts = [engine_kernels.activation_quant_kernels(s, "vllm", "fp8", "vllm-0.x", 1) for s in (V32, V3)]
    assert casts == [1.0, 1.0]
