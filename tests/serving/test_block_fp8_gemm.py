"""A release's measured block-fp8 plain GEMM at small M as a floor under the roofline (`serving.release_tables`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.ops.layer import Gemm, layer_ops
from infraplan.serving import release_tables
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time, prefill_time
from infraplan.validation.release_stacks import data_stack

H200 = Cluster.resolve("hgx-h200")
RELEASE = data_stack("trtllm-1.2.0rc6.yaml")
TP8 = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=9216, stack=RELEASE)


def _fit():
    profile = load_stack(RELEASE).serving
    assert profile is not None
    return profile.fp8_block_gemm["h200"]


def test_the_fit_reproduces_the_releases_measured_gemms() -> None:
    # AIConfigurator 0.7.0 h200_sxm/trtllm/1.2.0rc5/gemm_perf.txt, fp8_block, M = 4 (us): (N, K) -> latency
    measured_us = {(512, 7168): 12.8, (3072, 1536): 6.6, (7168, 2048): 8.8, (7168, 256): 5.1, (2048, 7168): 14.0}
    for (n, k), t_us in measured_us.items():
        g = Gemm(role="qkv_down", m=np.array([4.0]), n=n, k=k)
        assert float(release_tables.floor_s(_fit(), H200.accelerator, g, 132)[0]) * 1e6 == pytest.approx(t_us, rel=0.1)


def test_the_wave_form_reproduces_the_releases_large_m_gemms() -> None:
    # the same table, M = 8,192 (us): (N, K) -> latency; the roofline's shared gate-up (512 x 7,168) is 51 us
    measured_us = {(512, 7168): 153.4, (7168, 2048): 263.7, (3072, 1536): 107.5, (7168, 256): 95.7}
    for (n, k), t_us in measured_us.items():
        g = Gemm(role="shared_up", m=np.array([8192.0]), n=n, k=k)
        assert float(release_tables.floor_s(_fit(), H200.accelerator, g, 132)[0]) * 1e6 == pytest.approx(t_us, rel=0.1)


def test_the_floor_skips_the_router_grouped_gemms_and_empty_batches() -> None:
    ops = layer_ops(load_model("deepseek-v3"), inference_layout(8, 8, 1, np.array([0.0, 4.0])))
    floors: dict[str, np.ndarray] = {}
    for g in ops.gemms:  # a record per layer kind (routed and dense layers), `count` their share of the layers
        floors[g.role] = floors.get(g.role, 0.0) + release_tables.floor_s(_fit(), H200.accelerator, g, 132)
    assert not floors["router"].any() and not floors["expert_up"].any() and not floors["q_absorb"].any()
    assert floors["qkv_down"][0] == 0.0 and floors["qkv_down"][1] > 13e-6 * 0.95  # DeepSeek's 2,112 x 7,168 q_a / kv_a


def test_decode_steps_and_long_prefills_lengthen(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = load_model("deepseek-v3")
    costs = {}
    for on, waves in ((True, True), (True, False), (False, False)):
        monkeypatch.setattr(release_tables, "RELEASE_BLOCK_FP8_GEMM", on)
        monkeypatch.setattr(release_tables, "LARGE_M_WAVES", waves)
        costs[on, waves] = build_iteration_cost(shape, H200.accelerator, H200.fabric, TP8)
    step = {key: float(decode_time(c, 4, 1536)) for key, c in costs.items()}
    prompt = {key: float(prefill_time(c, 1, 8192)) for key, c in costs.items()}
    assert 0.7e-3 < step[True, False] - step[False, False] < 1.0e-3  # ~6 us a layer: q_a / kv_a, shared gate-up
    assert step[True, True] == pytest.approx(step[True, False])  # the wave form from M = 512 only
    assert prompt[True, False] == pytest.approx(prompt[False, False])  # the small-M floor never binds at 8k
    assert 15e-3 < prompt[True, True] - prompt[True, False] < 25e-3  # +20 ms of a 0.26 s TP8 prompt
    # the shipped profile (no release fit), a model not released block-scaled and bf16 weights are untouched
    assert release_tables.release_fit(H200.accelerator, "trtllm-0.x", "fp8", True) is None
    assert release_tables.release_fit(H200.accelerator, RELEASE, "fp8", False) is None
    assert release_tables.release_fit(H200.accelerator, RELEASE, "bf16", True) is None
