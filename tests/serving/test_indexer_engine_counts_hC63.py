"""DeepSeek-V3.2's indexer launches per engine family, and the draft layer's attention fixed time (hC, session 63).

* vLLM 0.12.0: each DeepGEMM logits call is two launches, its logits kernel and `smxx_clean_logits` (vLLM takes the
  prefill default `clean_logits=True`, vllm/utils/deep_gemm.py:243, and passes True in decode, :308; DeepGEMM as
  sgl-kernel 0.3.18.post2 bundles it: the op schemas and deep_gemm/include/deep_gemm/impls/smxx_clean_logits.cuh).
  So 5 a decode call, 6 a prefill call, 9 a mixed one (hQ62's 4 / 5 / 7 + a clean kernel a logits call).
* SGLang 0.5.6 (srt/layers/attention/nsa/nsa_indexer.py): 4 a decode call, 23 a prefill call (one prompt), and a
  mixed batch runs the prefill path for every row (forward_batch_info.py:163-168), so 23 too; its prologue runs 5
  element-wise kernels on the critical path in every phase, and wq_b's and wk's fp8 input casts each in a kernel of
  its own (`every_linear`).
* TensorRT-LLM (not readable) and any family not listed: vLLM's counts.
* The MTP draft layer's attention op is a target layer's: each draft forward pays the decode attention's fixed time
  (`decode_fixed_s` over 61 + K forwards), the draft over the prompt the prefill attention's launches.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import Elementwise
from infraplan.ops.sparse_attention import indexer_prologue_bytes
from infraplan.serving import decode_kernels, engine_kernels
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.sparse_decode import sparse_terms

CLUSTER = Cluster.resolve("hgx-h200")
V32, V3 = load_model("deepseek-v3.2"), load_model("deepseek-v3")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
LAUNCH = RATES.kernel_overhead_s
LAYERS = 61
STACKS = {"vllm": "vllm-0.x", "sglang": "sglang-0.x", "trtllm": "trtllm-0.x"}


def _dep(engine: str, k: int = 0, dtype: str = "fp8") -> Deployment:
    return Deployment(tp=1, ep=8, attention_dp=8, dtype=dtype, kv_dtype="fp8", engine=engine, stack=STACKS[engine],
                      max_batch=64, token_budget=8192, speculative_tokens=k, acceptance=0.85 if k else 0.0)


# (decode call, prefill call, mixed call) launches a layer forward
CALLS = {"vllm": (5.0, 6.0, 9.0), "sglang": (4.0, 23.0, 23.0), "trtllm": (5.0, 6.0, 9.0)}


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
@pytest.mark.parametrize("k", [0, 2])
def test_the_indexer_op_launches_per_engine_and_phase(engine: str, k: int) -> None:
    decode, prefill, mixed = CALLS[engine]
    kv_layers, prompt_layers = LAYERS + k, LAYERS + (1 if k else 0)
    terms = sparse_terms(V32, CLUSTER.accelerator, RATES, _dep(engine, k), LAYERS, kv_layers, prompt_layers)
    assert terms is not None
    assert terms.launches_s == pytest.approx(decode * LAUNCH * kv_layers, rel=1e-12)
    # the draft layer's pass over the prompt: SGLang runs it as DRAFT_EXTEND on the paged (decode) path (0.5.6
    # nsa_indexer.py:881-888; 0.5.9 :1070-1072), vLLM and the others as a prefill call
    draft_call, draft_mixed = (decode, decode) if engine == "sglang" else (prefill, mixed)
    draft = prompt_layers - LAYERS
    assert terms.prefill_launches_s == pytest.approx((prefill * LAYERS + draft_call * draft) * LAUNCH, rel=1e-12)
    got_mixed = terms.launches_s + terms.prefill_launches_s - terms.shared_launches_s
    assert got_mixed == pytest.approx((mixed * LAYERS + draft_mixed * draft + decode * (kv_layers - prompt_layers))
                                      * LAUNCH, rel=1e-12)


def test_an_sglang_mixed_iteration_pays_the_prefill_call_alone() -> None:
    """Through `IterationCost.time`: SGLang's mixed batch runs the ragged (prefill) path for every row, so its indexer
    launches are a prefill-only iteration's: the decode call's 4 x 61 are shared (vLLM shares the per-call 2 x 61)."""
    for engine, shared in (("sglang", 4.0), ("vllm", 2.0)):
        cost = build_iteration_cost(V32, CLUSTER.accelerator, CLUSTER.fabric, _dep(engine))
        assert cost.shared_fixed_s == pytest.approx(shared * LAUNCH * LAYERS, rel=1e-12)


def test_sglang_runs_its_own_prologue_and_casts_the_indexer_linears_inputs() -> None:
    """SGLang: 5 prologue launches and 2 more fp8 input casts (wq_b on the 1,536-wide q latent, wk on the 7,168-wide
    hidden state, 3 B an element) a V3.2 layer than a V3 one; none of the casts in bf16, none under vLLM's rule."""
    tokens = np.array([1.0, 64.0, 8192.0])
    elem = Elementwise("unused", 0.0, 0.0)
    dep = _dep("sglang")
    extra = (engine_kernels.elementwise_time(V32, RATES, dep, tokens, elem)
             - engine_kernels.elementwise_time(V3, RATES, dep, tokens, elem))
    prologue = engine_kernels.indexer_prologue_kernels(V32, "sglang")
    assert prologue == 5.0
    # vLLM's prologue bytes, every family (ASSUMPTION), and the two casts' bf16 read and fp8 write
    per_token = indexer_prologue_bytes(V32, 2.0) + (1536.0 + 7168.0) * 3.0
    assert extra == pytest.approx((prologue + 2.0) * LAUNCH + tokens * per_token / RATES.memory_bytes_per_s,
                                  rel=1e-9)
    casts = {(e, d): engine_kernels.activation_quant_kernels(V32, e, d, STACKS[e])
             - engine_kernels.activation_quant_kernels(V3, e, d, STACKS[e])
             for e in ("sglang", "vllm") for d in ("fp8", "bf16")}
    assert casts == pytest.approx({("sglang", "fp8"): 2.0, ("sglang", "bf16"): 0.0, ("vllm", "fp8"): 0.0,
                                   ("vllm", "bf16"): 0.0}, abs=1e-12)


def _growth(shape: TransformerShape, engine: str) -> tuple[float, float]:
    """(decode, prefill) fixed seconds K = 2 drafts add to an iteration (TP8)."""
    plain, drafted = (build_iteration_cost(shape, CLUSTER.accelerator, CLUSTER.fabric,
                                           dataclasses.replace(_dep(engine, k), tp=8, ep=1, attention_dp=1))
                      for k in (0, 2))
    return drafted.decode_fixed_s - plain.decode_fixed_s, drafted.prefill_fixed_s - plain.prefill_fixed_s


@pytest.mark.parametrize(("model", "engine"), [("llama3.1-8b", "vllm"), ("deepseek-v3", "trtllm"),
                                               ("deepseek-v3.2", "sglang")])
def test_each_draft_forward_pays_a_target_layers_attention_fixed_time(monkeypatch: pytest.MonkeyPatch, model: str,
                                                                      engine: str) -> None:
    """K = 2: the decode step's fixed time grows by 2 x the decode attention's fixed time a layer (a measured fit's
    where one applies: DeepSeek-V3's MLA on TensorRT-LLM, 15 us; the roofline's launches else) and the prefill's by
    one layer of the attention op's launches (the draft over the prompt), beyond what the indexer and the absorbed
    BMMs add (the same with the attention op's fixed time zeroed). Before hC63 neither grew: one launch a draft step
    sat in the head table."""
    shape = load_model(model)
    attn_s = decode_kernels.attention_terms(CLUSTER.accelerator, RATES, engine, "fp8", shape, STACKS[engine])[0]
    launch_s = engine_kernels.attention_launch_s(shape, RATES, engine, "fp8")
    assert attn_s > 0.0 and launch_s > 0.0
    grown = _growth(shape, engine)
    real = decode_kernels.attention_terms
    monkeypatch.setattr(decode_kernels, "attention_terms", lambda *a, **kw: (0.0, real(*a, **kw)[1]))
    monkeypatch.setattr(engine_kernels, "attention_launch_s", lambda *a, **kw: 0.0)
    rest = _growth(shape, engine)
    assert grown[0] - rest[0] == pytest.approx(2 * attn_s, rel=1e-9)
    assert grown[1] - rest[1] == pytest.approx(launch_s, rel=1e-9)
