"""Decode rows' absorbed MLA BMMs at the engine's measured kernel (`serving.mla_absorb`, the catalog's
`mla_absorb_bmm`); prefill tokens keep the grouped-GEMM pricing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import mla_absorb
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time, prefill_time

H200 = Cluster.resolve("hgx-h200")
TP8 = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)
DP8 = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)


def _costs(monkeypatch, dep: Deployment, model: str = "deepseek-v3"):
    shape = load_model(model)
    on = build_iteration_cost(shape, H200.accelerator, H200.fabric, dep)
    monkeypatch.setattr(mla_absorb, "MEASURED_ABSORB_BMM", False)
    off = build_iteration_cost(shape, H200.accelerator, H200.fabric, dep)
    monkeypatch.setattr(mla_absorb, "MEASURED_ABSORB_BMM", True)
    return on, off


def test_the_catalog_fit_reproduces_the_measured_bmms():
    # AIConfigurator 0.12.0 h200_sxm/mla_bmm/trtllm/1.3.0rc20/mla_bmm_perf.parquet, fp8 (us): (heads, tokens) ->
    # mla_gen_pre, mla_gen_post
    measured_us = {(16, 4): (7.5, 7.8), (16, 64): (8.6, 9.4), (128, 64): (21.7, 22.1)}
    fit = H200.accelerator.efficiency.mla_absorb_bmm["trtllm"]["fp8"]
    for (heads, tokens), (pre, post) in measured_us.items():
        t_us = (fit.fixed_s + fit.head_s * heads + fit.token_head_s * tokens * heads) * 1e6
        assert t_us == pytest.approx(pre, rel=0.12) and t_us == pytest.approx(post, rel=0.12)


def test_a_tp8_decode_step_at_four_rows_is_longer_by_the_fit_less_the_roofline(monkeypatch):
    v3 = load_model("deepseek-v3")
    on, off = _costs(monkeypatch, TP8)
    fit = H200.accelerator.efficiency.mla_absorb_bmm["trtllm"]["fp8"]
    heads, rows = v3.num_heads / 8, 4
    measured = fit.fixed_s + fit.head_s * heads + fit.token_head_s * rows * heads  # one BMM, one layer: ~7.5 us
    delta = float(decode_time(on, rows, 1536) - decode_time(off, rows, 1536))
    # two BMMs a layer over 61 layers, each the measured 7.5 us in place of the roofline's ~4.3 us launch + weights
    assert delta == pytest.approx(2 * v3.num_layers * (measured - 4.26e-6), rel=0.05)
    assert 0.3e-3 < delta < 0.5e-3
    # exactly: the difference of the two BMMs' decode-row pricings, fixed part once per decode iteration
    assert on.decode_fixed_s > off.decode_fixed_s
    assert on.body_s.tolist() == off.body_s.tolist()  # prefill tokens (the body) keep the grouped-GEMM pricing


def test_a_prefill_only_iteration_is_unchanged(monkeypatch):
    on, off = _costs(monkeypatch, TP8)
    for prompt in (128, 1024, 2048):
        assert float(prefill_time(on, 1, prompt)) == float(prefill_time(off, 1, prompt))
    assert on.prefill_fixed_s == off.prefill_fixed_s and on.pair_s == off.pair_s


def test_wider_attention_dp_heads_and_rows_pay_more(monkeypatch):
    on, off = _costs(monkeypatch, DP8)  # 128 local heads: 21.7 / 22.1 us measured at 64 tokens against ~7.5 us
    d4, d64 = (float(decode_time(on, b, 1536) - decode_time(off, b, 1536)) for b in (4, 64))
    assert 0.7e-3 < d4 < d64 < 2.2e-3


def test_sglang_runs_the_bmms_in_bf16_near_the_fp8_roofline(monkeypatch):
    v3 = load_model("deepseek-v3")
    assert mla_absorb.measured_fit(v3, H200.accelerator, "sglang", "fp8") == (
        H200.accelerator.efficiency.mla_absorb_bmm["sglang"]["bf16"])  # block-fp8 kv_b dequantised at load
    # against the roofline of fp8 weights: ~+0.1 us a BMM at 16 heads, ~-0.4 us at 128 heads and 16 rows (5.8 us)
    for dep, low, high in ((TP8, -0.05e-3, 0.05e-3), (DP8, -0.2e-3, -0.03e-3)):
        sglang = dataclasses.replace(dep, engine="sglang", stack="sglang-0.x")
        on, off = _costs(monkeypatch, sglang)
        assert low < float(decode_time(on, 16, 1536) - decode_time(off, 16, 1536)) < high


def test_only_measured_engines_and_mla_models_move(monkeypatch):
    dense = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)
    on, off = _costs(monkeypatch, dense, "llama3-70b")
    assert on.decode_fixed_s == off.decode_fixed_s and np.array_equal(on.head_s, off.head_s)
    assert mla_absorb.measured_fit(load_model("deepseek-v3"), H200.accelerator, "trtllm", "nvfp4") is None
