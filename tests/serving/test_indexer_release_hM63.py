"""DeepSeek-V3.2's indexer launches keyed on the release a serving profile names (hM, session 63).

SGLang 0.5.9 (srt/layers/attention/nsa/nsa_indexer.py) against 0.5.6, per layer forward: the paged logits' schedule
is built once a step (nsa_backend.py:614-638), not a layer; a prefill gathers a sequence's keys and scales in one
Triton kernel (index_buf_accessor.py:623-628) and reads ks / ke from the step's metadata (:537); the head gate's
weights_proj runs in bf16, one compiled kernel after it in prefill (:242-249), and a captured decode scales it by the
query scales in two eager kernels (:989). So decode 4 + 5 = 9 (0.5.6: 5 + 4), prefill 4 + 11 = 15 and 1 a further
sequence (0.5.6: 28 and 11). sglang-0.x leaves it unset: the family's, 0.5.6, the release hC63 counted.
"""

from __future__ import annotations

import pydantic
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import engine_kernels, sparse_decode
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import serving_profile
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time, prefill_time

CLUSTER = Cluster.resolve("hgx-h200")
V32 = load_model("deepseek-v3.2")
LAUNCH = KernelRates.for_dtype(CLUSTER.accelerator, "bf16").kernel_overhead_s
LAYERS = 61
DEP = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x",
                 max_batch=64, token_budget=8192)


def test_the_shipped_profiles_name_their_release() -> None:
    # unset: the family's counted release (SGLang 0.5.6, vLLM 0.12.0)
    assert engine_kernels.indexer_release("sglang", "sglang-0.x") is None
    assert engine_kernels.indexer_release("vllm", "vllm-0.x") is None
    assert sparse_decode.indexer_calls("sglang", "sglang-0.5.6") == sparse_decode.indexer_calls("sglang")


def test_sglang_059_counts() -> None:
    calls = sparse_decode.indexer_calls("sglang", "sglang-0.5.9")
    assert (calls.decode, calls.prefill, calls.mixed, calls.per_sequence) == (5.0, 11.0, 11.0, 1.0)
    assert not calls.clean_decode
    assert engine_kernels.indexer_prologue_kernels(V32, "sglang", "sglang-0.5.9") == 4.0
    assert engine_kernels.indexer_prologue_kernels(V32, "sglang", "sglang-0.5.6") == 5.0


def test_a_profile_refuses_a_release_not_counted() -> None:
    profile = serving_profile("sglang-0.x")
    assert profile is not None
    fields = profile.model_dump()
    assert type(profile).model_validate({**fields, "dsa_indexer_release": "sglang-0.5.9"}).dsa_indexer_release
    with pytest.raises(pydantic.ValidationError):
        type(profile).model_validate({**fields, "dsa_indexer_release": "sglang-0.5.7"})


def test_059_decodes_as_many_launches_and_prefills_13_fewer(monkeypatch: pytest.MonkeyPatch) -> None:
    costs = {}
    for release in ("sglang-0.5.6", "sglang-0.5.9"):
        monkeypatch.setattr(engine_kernels, "indexer_release", lambda engine, stack, r=release: r)
        costs[release] = build_iteration_cost(V32, CLUSTER.accelerator, CLUSTER.fabric, DEP)
    old, new = costs["sglang-0.5.6"], costs["sglang-0.5.9"]
    assert float(decode_time(new, 16, 4096)) == pytest.approx(float(decode_time(old, 16, 4096)), rel=1e-12)
    saved = float(prefill_time(old, 1, 4096)) - float(prefill_time(new, 1, 4096))
    assert saved == pytest.approx(13 * LAYERS * LAUNCH, rel=1e-6)
    assert old.prefill_row_s - new.prefill_row_s == pytest.approx(10 * LAYERS * LAUNCH, rel=1e-12)
