"""Serving on the frontier (issue 13 item 7): wide-EP MoE decode, MTP / speculative decoding, FP4 weights."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import decode_kernels
from infraplan.serving.kv_cache import kv_capacity, weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, check_deployment, decode_time
from infraplan.serving.serving_api import estimate_serving

R1 = load_model("deepseek-r1")


def _wide(adp: int, **kw: object) -> Deployment:
    return Deployment(tp=1, ep=adp, attention_dp=adp, dtype="fp8", kv_dtype="fp8", max_batch=128,
                      token_budget=4096, engine="sglang", stack="sglang-0.x", **kw)  # type: ignore[arg-type]


def test_wide_ep_decode_throughput_per_gpu_rises_with_ep_at_fixed_batch_per_rank() -> None:
    c = Cluster.resolve("gb200-nvl72")
    per_gpu = []
    for adp in (8, 18, 36, 72):
        cost = build_iteration_cost(R1, c.accelerator, c.fabric, _wide(adp))
        per_gpu.append(64 / float(decode_time(cost, 64, 2000)))  # each rank: 64 sequences, one GPU
    assert all(b > a for a, b in zip(per_gpu, per_gpu[1:], strict=False)), per_gpu
    # expert weights read once for 9x the tokens: 1.47x with NCCL's measured in-domain all-to-all (small messages
    # 3-5x slower than the SimAI column's held value, `network.nvlink_collectives`; > 1.5x before)
    assert per_gpu[-1] > 1.4 * per_gpu[0]


def test_wide_ep_shards_experts_and_keeps_a_kv_cache_per_rank() -> None:
    acc = Cluster.resolve("gb200-nvl72").accelerator
    w8 = weight_bytes_per_gpu(R1, 1, 1, "fp8", ep=8)
    w72 = weight_bytes_per_gpu(R1, 1, 1, "fp8", ep=72)
    slot = 3 * 7168 * 2048 * 58 * 1.0  # one fp8 expert slot in each of the 58 MoE layers
    assert w8 - w72 == pytest.approx((32 - 4) * slot, rel=1e-6)  # 4 of 288 slots per GPU instead of 32 experts
    cap = kv_capacity(R1, acc, 1, 1, "fp8", "fp8", 4096, 128, engine="sglang-0.x", ep=72)
    assert cap.fits and cap.kv_bytes_per_token == pytest.approx(61 * 576)  # MLA latent + rope, fp8, per rank


def test_all_to_all_crossing_the_scale_out_tier_costs_more_than_inside_nvlink() -> None:
    """EP 72 inside one NVL72 rack vs EP 72 over nine 8-GPU H200 nodes: the dispatch runs on the NICs."""
    fast = Cluster.resolve("gb200-nvl72")
    slow = Cluster.resolve("dgx-h100-superpod")
    t_in = build_iteration_cost(R1, fast.accelerator, fast.fabric, _wide(72)).body_s[64]
    t_8 = build_iteration_cost(R1, slow.accelerator, slow.fabric, _wide(8)).body_s[64]
    t_72 = build_iteration_cost(R1, slow.accelerator, slow.fabric, _wide(72)).body_s[64]
    assert t_in < t_72
    assert t_72 > 0.0 and t_8 > 0.0


def test_serve_wide_ep_on_nvl72_from_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "deepseek-r1", "--system", "gb200-nvl72", "--gpus", "72", "--attention-dp", "72",
                 "--ep", "72", "--dtype", "fp8", "--input-len", "1000", "--output-len", "200", "--offline",
                 "--requests", "720", "--stack", "sglang-0.x", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    import json

    r = json.loads(out)
    assert r["fits"] and r["deployment"]["attention_dp"] == 72 and r["deployment"]["gpus"] == 72
    assert r["output_tokens_per_s_per_gpu"] > 0


@pytest.mark.parametrize("bad", [
    {"attention_dp": 8, "ep": 4},  # EP must span attention DP x TP
    {"attention_dp": 0},
    {"speculative_tokens": 9},
    {"acceptance": 0.8},  # acceptance without draft tokens
    {"speculative_tokens": 1, "acceptance": 1.5},
])
def test_bad_layouts_are_one_line_input_errors(bad: dict[str, object]) -> None:
    acc = Cluster.resolve("gb200-nvl72").accelerator
    base = {"tp": 1, "ep": 8, "attention_dp": 8, "dtype": "fp8", "kv_dtype": "fp8"}
    with pytest.raises(InputError) as exc:
        check_deployment(R1, acc, Deployment(**{**base, **bad}))  # type: ignore[arg-type]
    assert "\n" not in str(exc.value)


def test_wide_ep_on_a_dense_model_is_refused() -> None:
    with pytest.raises(InputError, match="MoE"):
        estimate_serving("llama3-8b", "gb200-nvl72", 8, attention_dp=8, input_len=100, output_len=10,
                         offline=True, requests=8)


def test_mtp_raises_tokens_per_s_by_acceptance_over_draft_cost() -> None:
    """One MTP token at R = 0.85 (DeepSeek-V3 sec. 5.4.3: 85-90 %): gain = (1 + R) / (1 + draft cost)."""
    c = Cluster.resolve("gb200-nvl72")
    base = build_iteration_cost(R1, c.accelerator, c.fabric, _wide(72))
    mtp_dep = _wide(72, speculative_tokens=1, acceptance=0.85)
    mtp = build_iteration_cost(R1, c.accelerator, c.fabric, mtp_dep)
    assert mtp_dep.tokens_per_step == pytest.approx(1.85)
    b, ctx = 64, 2000
    t0, t1 = float(decode_time(base, b, ctx)), float(decode_time(mtp, b, ctx))
    draft_cost = t1 / t0 - 1.0
    assert 0.0 < draft_cost < 0.6  # one extra layer + head + verifying a second token per row
    gain = (b * mtp_dep.tokens_per_step / t1) / (b / t0)
    assert gain == pytest.approx(1.85 / (1.0 + draft_cost), rel=1e-9)
    assert 1.15 < gain < 1.85
    small = float(decode_time(mtp, 8, ctx)) / float(decode_time(base, 8, ctx)) - 1.0
    assert 0.0 < small < 0.1 < draft_cost  # a memory-bound step verifies the draft almost for free


def test_mtp_end_to_end_decode_speedup() -> None:
    kw = dict(input_len=200, output_len=400, offline=True, requests=128, max_batch=64, dtype="fp8",
              stack="sglang-0.x", attention_dp=8)
    r0 = estimate_serving("deepseek-r1", "gb200-nvl72", 8, **kw)  # type: ignore[arg-type]
    r1 = estimate_serving("deepseek-r1", "gb200-nvl72", 8, speculative_tokens=1, acceptance=0.9,
                          **kw)  # type: ignore[arg-type]
    assert r1.output_tokens_per_s > 1.2 * r0.output_tokens_per_s  # type: ignore[union-attr,operator]
    assert r1.tpot_s.p50 < r0.tpot_s.p50  # type: ignore[union-attr]


def test_geometric_tokens_per_step() -> None:
    dep = Deployment(speculative_tokens=3, acceptance=0.7)
    assert dep.tokens_per_step == pytest.approx(1 + 0.7 + 0.49 + 0.343)
    assert list(dep.decode_steps(np.array([1, 2, 100]))) == [0, 1, 40]


def test_fp4_weights_shrink_weight_bytes_and_decode_time_on_b200() -> None:
    shape = load_model("llama3-70b")
    c = Cluster.resolve("dgx-b200")
    times, weights = {}, {}
    rates = KernelRates.for_dtype(c.accelerator, "bf16")
    for dtype in ("fp8", "nvfp4", "mxfp4"):
        dep = Deployment(tp=4, dtype=dtype, kv_dtype="fp8", max_batch=64, token_budget=2048)
        times[dtype] = float(decode_time(build_iteration_cost(shape, c.accelerator, c.fabric, dep), 32, 2000))
        weights[dtype] = weight_bytes_per_gpu(shape, 4, 1, dtype)
    assert weights["nvfp4"] < 0.62 * weights["fp8"] and weights["mxfp4"] < weights["nvfp4"]
    for fp4 in ("nvfp4", "mxfp4"):  # decode is weight-read bound: most of the saved read time comes off the step,
        # each dtype's weights read at its measured small-M rate (`serving.decode_kernels`; TensorRT-LLM's nvfp4
        # GEMMs read at 0.54 of HBM, its fp8 ones at 0.75; mxfp4 has no measured rate: the roofline's)
        read = {d: decode_kernels.gemm_rates(c.accelerator, rates, "trtllm", d).memory_bytes_per_s
                for d in ("fp8", fp4)}
        saved_s = weights["fp8"] / read["fp8"] - weights[fp4] / read[fp4]
        assert 0.7 * saved_s < times["fp8"] - times[fp4] < 1.2 * saved_s


def test_fp4_on_hopper_is_refused() -> None:
    with pytest.raises(InputError, match="nvfp4"):
        estimate_serving("llama3-8b", "dgx-h100-superpod", 8, dtype="nvfp4", input_len=100, output_len=10,
                         offline=True, requests=8)
