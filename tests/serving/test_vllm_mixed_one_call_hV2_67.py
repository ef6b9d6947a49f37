"""vLLM's FlashAttention backend runs a mixed batch's attention as one call a layer (hV2, session 67).

vLLM picks FLASH_ATTN for a non-MLA model below compute capability 10 and FLASHINFER on 10.x (vllm 0.12.0
platforms/cuda.py:46-83; the same through 0.19.0). FLASH_ATTN runs one `flash_attn_varlen_func` over every token
of the batch (v1/attention/backends/flash_attn.py:642-708); FlashInfer splits prefill and decode tokens into two
wrappers (flashinfer.py:1198-1330), MLA into `forward_mha` / `forward_mqa`. Priced by `decode_kernels.mixed_shared_s`
(`IterationCost.shared_fixed_s`): a mixed iteration on FLASH_ATTN pays the decode attention op's fixed time a layer
once less. Hand figures: vLLM 0.12.0's measured H200 bf16 decode op, 13.6 us a layer (validation/data/stacks/
vllm-0.12.yaml `decode_attention`), x Qwen3-32B's 64 layers = 870.4 us; the shipped vllm-0.x profile's roofline op,
its core and one cache-append launch at 4 us (`engine_kernels.attention_launch_s`), x Llama 3.1 8B's 32 layers = 256 us.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import decode_kernels
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.validation.release_stacks import data_stack

H200, B200, A100 = (Cluster.resolve(n) for n in ("hgx-h200", "dgx-b200", "dgx-a100-superpod"))
LLAMA, QWEN, R1 = load_model("llama3.1-8b"), load_model("qwen3-32b"), load_model("deepseek-r1")
VLLM_012 = data_stack("vllm-0.12.yaml")


def _cost(model, cluster=H200, *, stack: str = "vllm-0.x", kv: str = "bf16", tp: int = 1, engine: str = "vllm"):
    dep = Deployment(tp=tp, ep=tp if model.is_moe else 1, dtype="bf16" if cluster is A100 else "fp8", kv_dtype=kv,
                     engine=engine, stack=stack, max_batch=64, token_budget=8192)
    return build_iteration_cost(model, cluster.accelerator, cluster.fabric, dep)


def _without_vllm(monkeypatch: pytest.MonkeyPatch, build):
    with monkeypatch.context() as m:
        m.setattr(decode_kernels, "ONE_CALL_ENGINES", frozenset({"sglang"}))
        return build()


def test_release_measured_op_is_paid_once_in_a_mixed_iteration(monkeypatch: pytest.MonkeyPatch) -> None:
    on = _cost(QWEN, stack=VLLM_012)
    off = _without_vllm(monkeypatch, lambda: _cost(QWEN, stack=VLLM_012))
    assert on.shared_fixed_s == pytest.approx(64 * 13.6e-6, rel=1e-12)  # 870.4 us
    assert off.shared_fixed_s == 0.0
    mixed = (4096, 8, 8 * 2000, 4096 * 4097 / 2.0)  # a 4,096-token chunk beside 8 decode rows
    assert float(off.time(*mixed) - on.time(*mixed)) == pytest.approx(64 * 13.6e-6, rel=1e-9)
    for alone in ((256, 0, 0, 256 * 257 / 2.0), (0, 8, 8 * 2000, 0.0)):  # prefill only, decode only: unchanged
        assert float(on.time(*alone)) == float(off.time(*alone))


def test_shipped_profile_pays_its_roofline_op_once() -> None:
    cost = _cost(LLAMA)
    assert cost.shared_fixed_s == pytest.approx(32 * 2 * 4e-6, rel=1e-12)  # 256 us
    assert cost.shared_fixed_s == pytest.approx(cost.decode_fixed_s, rel=1e-12)  # the whole decode op


@pytest.mark.parametrize(("model", "cluster", "kv", "tp", "why"), [
    (LLAMA, B200, "fp8", 1, "compute capability 10: FLASHINFER's prefill and decode wrappers"),
    (R1, H200, "fp8", 8, "MLA: forward_mha and forward_mqa"),
])
def test_two_call_backends_keep_both(model, cluster, kv: str, tp: int, why: str) -> None:
    assert _cost(model, cluster, kv=kv, tp=tp).shared_fixed_s == 0.0, why


def test_ampere_bf16_cache_runs_flash_attention_in_one_call() -> None:
    cost = _cost(LLAMA, A100)
    assert cost.shared_fixed_s == pytest.approx(cost.decode_fixed_s, rel=1e-12)
    assert cost.shared_fixed_s > 0.0


def test_trtllm_and_sglang_by_default_keep_both() -> None:
    for engine, stack in (("trtllm", "trtllm-0.x"), ("sglang", "sglang-0.x")):
        assert _cost(LLAMA, engine=engine, stack=stack).shared_fixed_s == 0.0
