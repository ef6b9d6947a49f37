"""The busiest GPU's routed experts where EP does not divide them (`serving.expert_slots`, hW2)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.serving import expert_slots, routed_experts
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

R1 = load_model("deepseek-r1")  # 256 routed experts, top-8, h 7168, expert width 2048 (gate + up fused: 4096)
H, UP = 7168.0, 4096.0
TOKENS = 64.0  # per rank: 64 x 8 x EP routed copies hit every expert (P(missed) = (1 - 8/256)^(64 EP) < 1e-9)
HUGE_RATE = 1e30  # FLOP/s: the GEMM is its bytes alone
ROUTED_SHARE = 58.0 / 61.0  # the mean layer's record: 58 routed of R1's 61 layers (3 dense first)


def _expert_up_s(ep: int) -> tuple[float, KernelRates]:
    """Seconds of DeepSeek-R1's routed up GEMM on one GPU of a wide-EP replica (TP 1, attention DP = EP), bf16,
    at an unbounded matmul rate: the launch plus the bytes read and written."""
    acc = Cluster.resolve("gb200-nvl72").accelerator
    rates = replace(KernelRates.for_dtype(acc, "bf16"), matmul_flops_per_s=HUGE_RATE)
    ops = layer_ops(R1, inference_layout(1, ep, ep, np.array([TOKENS])))
    (up,) = [g for g in ops.gemms if g.role == "expert_up"]
    assert float(np.ravel(up.n)[0]) == UP and float(np.ravel(up.k)[0]) == H
    seconds = routed_experts.layer_gemm_time(rates, up, 2.0, HUGE_RATE, R1.num_experts / ep)
    return float(np.ravel(seconds)[0]), rates


def test_ep72_prices_the_busiest_gpus_four_experts_weights() -> None:
    """EP 72 over 256 experts: 40 GPUs hold 4 experts, 32 hold 3 (mean 3.56). The busiest GPU reads 4 experts'
    weights, 4 x 7168 x 4096 x 2 B = 234.9 MB, and runs their 4 x 144 rows (64 x 8 x 72 / 256 = 144 tokens per
    expert); before, 3.56 experts' weights (208.8 MB) and 512 rows."""
    seconds, rates = _expert_up_s(72)
    per_expert_rows = TOKENS * 8.0 * 72.0 / 256.0
    assert per_expert_rows == 144.0
    weight_bytes = 4.0 * H * UP * 2.0
    assert weight_bytes == pytest.approx(234.88e6, rel=1e-4)
    act_bytes = 4.0 * per_expert_rows * (H + UP) * 2.0
    hand = ROUTED_SHARE * (rates.kernel_overhead_s + (weight_bytes + act_bytes) / rates.memory_bytes_per_s)
    assert seconds == pytest.approx(hand, rel=1e-9)
    mean = ROUTED_SHARE * (rates.kernel_overhead_s + (256.0 / 72.0) * (H * UP + per_expert_rows * (H + UP)) * 2.0
                           / rates.memory_bytes_per_s)
    assert seconds > 1.1 * mean  # 4 / 3.56 = 1.125 of the mean GPU's bytes


def test_ep8_divides_and_is_priced_on_its_32_experts_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """EP 8 divides 256: 32 experts per GPU, the hand bytes; and the whole iteration table is bit-identical with
    the busiest-rank rule off."""
    seconds, rates = _expert_up_s(8)
    per_expert_rows = TOKENS * 8.0 * 8.0 / 256.0
    hand = ROUTED_SHARE * (rates.kernel_overhead_s + 32.0 * (H * UP + per_expert_rows * (H + UP)) * 2.0
                           / rates.memory_bytes_per_s)
    assert seconds == pytest.approx(hand, rel=1e-6)  # 1e-7 of the experts missed at 4,096 routed copies
    cluster = Cluster.resolve("gb200-nvl72")
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", max_batch=64, token_budget=2048)
    on = build_iteration_cost(R1, cluster.accelerator, cluster.fabric, dep).body_s
    monkeypatch.setattr(expert_slots, "UNEVEN_EXPERT_SLOTS", False)
    off = build_iteration_cost(R1, cluster.accelerator, cluster.fabric, dep).body_s
    assert np.array_equal(on, off)


def test_ep72_iteration_is_slower_than_the_mean_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """The routed-expert time SGLang's lock-step ranks wait for (`routed_s`) in a decode step of 8 sequences a rank
    at EP 72: 1.05-1.125 x the mean GPU's (weight-bound: 4 / 3.56 = 1.125 of the bytes, the launches not). At
    58-68 sequences the tiles of 3.56 and 4 experts run in as many waves over the SMs: the same time. (The
    all-to-all's inbound, also in `routed_s` since hX40, held at the mean rank's: `test_expert_a2a_hX40.py`.)"""
    monkeypatch.setattr(expert_slots, "busiest_rank_collective", lambda c, mean_local_experts, spare=0.0: c)
    cluster = Cluster.resolve("gb200-nvl72")
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="fp8", max_batch=64, token_budget=2048, engine="sglang",
                     stack="sglang-0.x")
    busiest = build_iteration_cost(R1, cluster.accelerator, cluster.fabric, dep).extra["routed_s"]
    monkeypatch.setattr(expert_slots, "UNEVEN_EXPERT_SLOTS", False)
    mean = build_iteration_cost(R1, cluster.accelerator, cluster.fabric, dep).extra["routed_s"]
    assert 1.05 < busiest[8] / mean[8] < 4.0 / (256.0 / 72.0)
    assert busiest[64] == mean[64]


def test_the_note_says_the_slots_and_each_engines_placement() -> None:
    sglang = expert_slots.uneven_experts_note(R1, 72, "sglang")
    assert sglang is not None and "holds 4 (mean 3.56)" in sglang and "--ep-num-redundant-experts 32" in sglang
    vllm = expert_slots.uneven_experts_note(R1, 72, "vllm")
    assert vllm is not None and "4 experts on each of its first 40 ranks" in vllm
    assert expert_slots.uneven_experts_note(R1, 8, "sglang") is None
    assert expert_slots.uneven_experts_note(load_model("llama3-8b"), 3, "vllm") is None  # dense: no experts


def test_serve_json_carries_the_note(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli.main import main

    args = ["serve", "deepseek-r1", "--system", "gb200-nvl72", "--gpus", "72", "--attention-dp", "72", "--ep", "72",
            "--dtype", "nvfp4", "--kv-dtype", "fp8", "--offline", "--input-len", "200", "--output-len", "20",
            "--requests", "144", "--json"]
    assert main(args) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any("EP 72 does not divide the 256 routed experts" in w for w in warnings)
