"""DeepGEMM's clean kernel in DeepSeek-V3.2's decode indexer: its bytes (hM, session 63).

vLLM 0.12.0 calls the paged MQA logits with `clean_logits=True` (vllm/utils/deep_gemm.py:308) and gets a logits
tensor of [B * next_n, max_model_len] (:294); `smxx_clean_logits` (sgl-kernel 0.3.18.post2
deep_gemm/include/deep_gemm/impls/smxx_clean_logits.cuh:20-63) writes a 4 B -inf to every entry of a row outside its
[ks, ke) key range and reads none. So a decode query writes 4 B x (max_model_len - context) a layer forward:
4 B x max_seq_len x query layers on the row term and -4 B x query layers on the cached-token term, over the memory
rate. SGLang 0.5.6 passes `clean_logits=False` (nsa_indexer.py:318-327): nothing.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import sparse_decode, speculative
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time

CLUSTER = Cluster.resolve("hgx-h200")
V32 = load_model("deepseek-v3.2")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
LAYERS = 61
STACKS = {"vllm": "vllm-0.x", "sglang": "sglang-0.x", "trtllm": "trtllm-0.x"}


def _dep(engine: str, k: int = 0) -> Deployment:
    return Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine=engine, stack=STACKS[engine],
                      max_batch=64, token_budget=8192, speculative_tokens=k, acceptance=0.85 if k else 0.0)


def _terms(engine: str, k: int, clean: bool, monkeypatch: pytest.MonkeyPatch) -> sparse_decode.SparseTerms:
    monkeypatch.setattr(sparse_decode, "CLEAN_KERNEL_PRICED", clean)
    terms = sparse_decode.sparse_terms(V32, CLUSTER.accelerator, RATES, _dep(engine, k), LAYERS, LAYERS + k,
                                       LAYERS + (1 if k else 0))
    assert terms is not None
    return terms


@pytest.mark.parametrize("engine", ["vllm", "trtllm"])
@pytest.mark.parametrize("k", [0, 1])
def test_a_decode_query_writes_its_row_past_the_context(engine: str, k: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    on, off = _terms(engine, k, True, monkeypatch), _terms(engine, k, False, monkeypatch)
    query_layers = speculative.decode_query_layers(_dep(engine, k), LAYERS)
    per_query_layer = 4.0 / RATES.memory_bytes_per_s
    assert V32.max_seq_len == 163_840  # 4,096 x the YaRN factor 40: vLLM's default max_model_len
    assert on.row_s - off.row_s == pytest.approx(per_query_layer * 163_840 * query_layers, rel=1e-9)
    assert off.token_s - on.token_s == pytest.approx(per_query_layer * query_layers, rel=1e-9, abs=0)
    # 655,360 B a query layer at an empty context: 61 layers on H200 ~ 9.5 us a row, nothing at max_model_len
    empty, full = on.row_s - off.row_s, (on.row_s - off.row_s) - (off.token_s - on.token_s) * 163_840
    assert 5e-6 < empty / (1 + k) < 15e-6
    assert full == pytest.approx(0.0, abs=1e-15)
    assert (on.pair_s, on.prefill_token_s, on.launches_s) == (off.pair_s, off.prefill_token_s, off.launches_s)


def test_sglang_passes_clean_logits_false(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _terms("sglang", 0, True, monkeypatch) == _terms("sglang", 0, False, monkeypatch)


def test_a_vllm_decode_step_pays_it_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the iteration cost: 16 rows at a 2,048-token context pay 16 x 4 B x (163,840 - 2,048) x 61."""
    steps = {}
    for clean in (True, False):
        monkeypatch.setattr(sparse_decode, "CLEAN_KERNEL_PRICED", clean)
        cost = build_iteration_cost(V32, CLUSTER.accelerator, CLUSTER.fabric, _dep("vllm"))
        steps[clean] = float(decode_time(cost, 16, 2048))
    want = 16 * 4.0 * (163_840 - 2048) * LAYERS / RATES.memory_bytes_per_s
    assert steps[True] - steps[False] == pytest.approx(want, rel=1e-6)
