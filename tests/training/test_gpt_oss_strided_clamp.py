"""GPT-OSS's clamp runs ATen's strided elementwise loop: the share of the streaming rate a lent H200 measured
(`ops.gpt_oss_experts.STRIDED_PASS_SHARE`) and what the layer prices with it.

Measured (benchmarks/gpu/gpu_gpt_oss_layer.py; validation/calibration/h200_gpt_oss_layer.json, run 1, and
h200_gpt_oss_layer_r2.json, run 2): `act_compiled` is the clamp and the weighted quick-GeGLU compiled into one pass
(reads the fc1 output, writes half of it); `act_megatron` is Megatron-Core's path, the eager clamp + cat and then the
compiled GeGLU (the same bytes in and out). Their forward difference is the eager clamp's 8 B per fc1-output element.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.loader import load_accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.ops import gpt_oss_experts
from infraplan.ops.gpt_oss_experts import CLAMP_BYTES, STRIDED_PASS_SHARE, gpt_oss_expert_passes

CALIBRATION = Path(__file__).resolve().parents[2] / "validation" / "calibration"
FC1_WIDTH = 2 * 2880  # GPT-OSS 120B: gate and linear halves of 2,880


def _rows(name: str) -> list[dict]:
    probe = json.loads((CALIBRATION / name).read_text())
    assert probe["device"] == "NVIDIA H200" and not probe["tiny"]
    return probe["rows"]


def _forward(rows: list[dict], item: str, tokens: int) -> float:
    return float(next(r for r in rows if r["item"] == item and r["tokens"] == tokens)["fwd_s"])


def _clamp_rate(tokens: int) -> float:
    """Bytes per second of the eager clamp: 8 B per fc1-output element over the measured time difference."""
    routed = tokens * 4  # top-4 copies, all on this GPU's 16 experts under EP8 (the probe's docstring)
    seconds = (_forward(_rows("h200_gpt_oss_layer_r2.json"), "act_megatron", tokens)
               - _forward(_rows("h200_gpt_oss_layer.json"), "act_compiled", tokens))
    return CLAMP_BYTES[0] * routed * FC1_WIDTH / seconds


def test_the_strided_clamp_runs_at_the_measured_share_of_the_streaming_rate() -> None:
    streaming = KernelRates.for_dtype(load_accelerator("h200"), "bf16").memory_bytes_per_s
    small, large = _clamp_rate(4096), _clamp_rate(16384)
    assert small == pytest.approx(large, rel=0.03)  # a bandwidth: the same at 16,384 and 65,536 rows
    for rate in (small, large):
        assert rate / streaming == pytest.approx(STRIDED_PASS_SHARE, abs=0.015)
    assert STRIDED_PASS_SHARE < 0.6  # well below the contiguous streaming rate the catalog measured


def test_megatrons_activation_forward_is_priced_within_its_measurement(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = KernelRates.for_dtype(load_accelerator("h200"), "bf16")
    shape = load_model("gpt-oss-120b")

    def priced(tokens: int) -> float:
        """The clamp (its passes as priced) and the GeGLU (the layer's activation bytes: (g + 1) f x 2 B per copy)."""
        routed = tokens * 4.0
        (clamp_bytes, _), _ = gpt_oss_expert_passes(shape.model_copy(update={"linear_biases": False}), routed,
                                                    float(FC1_WIDTH), 8)
        return (clamp_bytes + 3.0 * 2880 * 2.0 * routed) / rates.memory_bytes_per_s + 4 * rates.kernel_overhead_s

    for tokens in (4096, 16384):
        measured = _forward(_rows("h200_gpt_oss_layer_r2.json"), "act_megatron", tokens)
        assert priced(tokens) == pytest.approx(measured, rel=0.15)
        monkeypatch.setattr(gpt_oss_experts, "STRIDED_PASSES", False)
        assert priced(tokens) < 0.7 * measured  # at the streaming rate the clamp was priced ~40 % short
        monkeypatch.setattr(gpt_oss_experts, "STRIDED_PASSES", True)


def test_only_the_clamps_bytes_take_the_strided_share(monkeypatch: pytest.MonkeyPatch) -> None:
    shape, rows = load_model("gpt-oss-120b"), 16384.0
    (on_fwd, on_k), (on_bwd, _) = gpt_oss_expert_passes(shape, rows, float(FC1_WIDTH), 8)
    monkeypatch.setattr(gpt_oss_experts, "STRIDED_PASSES", False)
    (off_fwd, off_k), (off_bwd, _) = gpt_oss_expert_passes(shape, rows, float(FC1_WIDTH), 8)
    up = rows * FC1_WIDTH
    assert on_k == off_k  # the same launches
    assert float(on_fwd - off_fwd) == pytest.approx(CLAMP_BYTES[0] * up * (1.0 / STRIDED_PASS_SHARE - 1.0))
    assert float(on_bwd - off_bwd) == pytest.approx(CLAMP_BYTES[1] * up * (1.0 / STRIDED_PASS_SHARE - 1.0))
    assert gpt_oss_experts.clamp_rerun_bytes(shape) == CLAMP_BYTES[0] * FC1_WIDTH  # the re-run too, toggled off
