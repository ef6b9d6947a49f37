"""vLLM's sm_100 MXFP4 x BF16 expert GEMMs priced W4A16 (`serving.trtllm_gen_moe` module docstring, "W4A16 GEMMs";
toggle `VLLM_MXFP4_BF16_GEMM`): fp4 weight bytes, bf16 activations, the bf16 tensor-core rate, where TensorRT-LLM's
and SGLang's MXFP4 x MXFP8 run at the 8-bit rate; Hopper's weight-only MXFP4 is the same under every engine.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.loader import load_accelerator
from infraplan.cluster import Cluster
from infraplan.serving import trtllm_gen_moe
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

OSS = load_model("gpt-oss-120b")


def test_vllm_native_mxfp4_runs_w4a16_at_the_bf16_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """B200 (a tcgen05 W4A16 GEMM: the bf16 fraction, not the catalog's mma.sync weight-only one): 2,250 TF x bf16
    0.62 = 1,395 TF, weights 0.53125 B, activations 2 B; TensorRT-LLM and SGLang keep 4,500 TF x fp8 0.57 = 2,565 TF
    with mxfp8 activations (1.03125 B)."""
    monkeypatch.setattr(trtllm_gen_moe, "VLLM_MXFP4_BF16_GEMM", True)
    b200 = load_accelerator("b200")
    vllm = serving_precision(b200, "mxfp4", engine="vllm")
    assert vllm.rate == pytest.approx(2250e12 * 0.62)
    assert (vllm.weight_bytes, vllm.act_bytes) == (DTYPE_BYTES["mxfp4"], 2.0)
    for engine in ("trtllm", "sglang"):
        other = serving_precision(b200, "mxfp4", engine=engine)
        assert other.rate == pytest.approx(4500e12 * 0.57)
        assert (other.weight_bytes, other.act_bytes) == (DTYPE_BYTES["mxfp4"], DTYPE_BYTES["mxfp8"])
    h200 = load_accelerator("h200")  # sm_90: weight-only W4A16 for every engine, the rule changes nothing
    assert serving_precision(h200, "mxfp4", engine="vllm") == serving_precision(h200, "mxfp4", engine="trtllm")
    assert serving_precision(b200, "nvfp4", engine="vllm") == serving_precision(b200, "nvfp4", engine="trtllm")


def test_off_every_engine_prices_native_mxfp4_at_the_8_bit_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trtllm_gen_moe, "VLLM_MXFP4_BF16_GEMM", False)
    b200 = load_accelerator("b200")
    assert serving_precision(b200, "mxfp4", engine="vllm") == serving_precision(b200, "mxfp4", engine="trtllm")


def _body_s(system: str, engine: str, tokens: int, monkeypatch: pytest.MonkeyPatch, on: bool) -> float:
    """Body seconds of an iteration of `tokens` tokens, GPT-OSS-120B TP8 MXFP4 on `system` under `engine`."""
    monkeypatch.setattr(trtllm_gen_moe, "VLLM_MXFP4_BF16_GEMM", on)
    cluster = Cluster.resolve(system)
    dep = Deployment(tp=8, dtype="mxfp4", kv_dtype="bf16", engine=engine, stack=f"{engine}-0.x", max_batch=64,
                     token_budget=8192)
    cost = build_iteration_cost(OSS, cluster.accelerator, cluster.fabric, dep)
    return float(np.asarray(cost.body_s)[tokens])


def test_vllm_b200_prefill_expert_gemms_slow_by_the_rate_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 8,192-token prefill under vLLM on a DGX B200: only the routed expert GEMMs move (attention projections, the
    router and the LM head are bf16 in this checkpoint), compute-bound there: longer by at most their 8-bit time x
    (2,565 / 1,395 - 1) and by more than nothing; TensorRT-LLM and an H200 do not move."""
    off, on = (_body_s("dgx-b200", "vllm", 8192, monkeypatch, v) for v in (False, True))
    assert on > off * 1.05
    assert on < off * (4500 * 0.57) / (2250 * 0.62)
    assert _body_s("dgx-b200", "trtllm", 8192, monkeypatch, True) == _body_s("dgx-b200", "trtllm", 8192,
                                                                              monkeypatch, False)
    assert _body_s("hgx-h200", "vllm", 8192, monkeypatch, True) == _body_s("hgx-h200", "vllm", 8192, monkeypatch,
                                                                            False)
