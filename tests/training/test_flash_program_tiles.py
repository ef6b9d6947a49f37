"""A fused attention program's fixed work (`training.attention_core.FLASH_PROGRAM_TILES`): what the lent H200 measured
and what the sliding-window layers pay for it (GPT-OSS, window 128 on half the layers).

Measured (validation/calibration/h200_attention_sdpa.jsonl: cuDNN causal, 64 heads x 64, s = 2,048 / 8,192 / 16,384;
h200_gpt_oss_layer.json: the same kernel at s = 4,096 x 4 sequences): the forward + backward rate rises with s as
A / (A + c), A = (m + 1) / 2 the mean key tiles of a causal program over m = s / 128 query tiles.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.training import attention_core
from infraplan.training.attention_core import FLASH_PROGRAM_TILES, attention_core_times, flash_keys
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays

CALIBRATION = Path(__file__).resolve().parents[2] / "validation" / "calibration"
SEQ = 4096


def _cudnn_causal_rates() -> dict[int, float]:
    """s -> cuDNN's causal forward + backward TF/s at 64 heads x 64 on the lent H200."""
    rows = [json.loads(line) for line in (CALIBRATION / "h200_attention_sdpa.jsonl").read_text().splitlines() if line]
    rates = {row["seq"]: row["fwd_bwd_tflops"]["cudnn"] for row in rows if (row["heads"], row["head_dim"]) == (64, 64)}
    probe = json.loads((CALIBRATION / "h200_gpt_oss_layer.json").read_text())
    assert probe["device"] == "NVIDIA H200"
    row = next(r for r in probe["rows"] if r["item"] == "attn_sdpa_cudnn" and r["tokens"] == 16384)
    rates[4096] = row["fwd_bwd_tflops"]  # 4 sequences of 4,096
    return rates


def _fit_error(c: float, rates: dict[int, float]) -> float:
    """Largest relative miss of the best single asymptotic rate R with A / (A + c) (least squares in R)."""
    tiles = np.array([(s / 128.0 + 1.0) / 2.0 for s in rates])
    share = tiles / (tiles + c)
    measured = np.array(list(rates.values()))
    best = float(share @ measured / (share @ share))
    return float(np.max(np.abs(best * share / measured - 1.0)))


def test_the_measured_rate_rises_with_the_sequence_as_the_programs_fixed_work_says() -> None:
    rates = _cudnn_causal_rates()
    assert sorted(rates) == [2048, 4096, 8192, 16384]
    # every point within 1 % of one curve at the constant; tiles alone (c = 0: a constant rate) miss by ~20 %
    assert _fit_error(FLASH_PROGRAM_TILES, rates) < 0.01
    assert _fit_error(0.0, rates) > 0.15
    assert _fit_error(FLASH_PROGRAM_TILES, rates) < min(_fit_error(FLASH_PROGRAM_TILES + d, rates) for d in (-1.0, 1.0))


def test_a_sliding_layer_pays_its_programs_fixed_work() -> None:
    oss, llama = load_model("gpt-oss-120b"), load_model("llama3-8b")
    c = FLASH_PROGRAM_TILES
    # 32 query tiles of 128: the window visits 63 tiles, the causal triangle 528; each program adds c to both
    assert flash_keys(oss, SEQ, c) == pytest.approx(0.5 * SEQ + 0.5 * SEQ * (63.0 + 32.0 * c) / (528.0 + 32.0 * c))
    sliding_share = (63.0 + 32.0 * c) / (528.0 + 32.0 * c)
    assert 0.28 < sliding_share < 0.30  # against 63 / 528 = 0.12 for the tiles alone
    # measured directly on a window: the probe's compiled flex_attention over 4 sequences of 4,096 ran its window-128
    # layer at 0.24 of its causal layer forward + backward and 0.28 forward (c = 2.6 / 3.6 by the same formula): twice
    # the tiles' share, within 0.06 of the cuDNN-fitted one
    probe = json.loads((CALIBRATION / "h200_gpt_oss_layer_r2.json").read_text())
    flex = {r["item"]: r for r in probe["rows"] if r["tokens"] == 16384 and r["item"].startswith("attn_flex")}
    for key in ("fwd_bwd_s", "fwd_s"):
        measured = flex["attn_flex_window"][key] / flex["attn_flex_causal"][key]
        assert measured > 2.0 * 63.0 / 528.0
        assert measured == pytest.approx(sliding_share, abs=0.06)
    # layers without a window, and a window that covers the sequence, are untouched
    assert flash_keys(llama, SEQ, c) == SEQ
    assert flash_keys(oss, 128, c) == 128.0
    assert flash_keys(oss, SEQ) == pytest.approx(0.5 * SEQ + 0.5 * SEQ * 63.0 / 528.0)  # the FLOPs' count: no c


def test_the_fused_core_prices_the_sliding_layers_fixed_work(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = PlanArrays.build(tp=np.ones(1), pp=1, dp=8, cp=1, ep=8, vpp=1, micro_batch=1, global_batch=8, seq_len=SEQ,
                            recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16, attention=Attention.FLASH,
                            order=RankOrder.TP_CP_DP_PP)
    stack = load_stack("nemo-26.04")
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")

    def core(model: str) -> tuple[float, float]:
        f, b = attention_core_times(load_model(model), rates, plan, float(SEQ), stack)
        return float(np.ravel(f)[0]), float(np.ravel(b)[0])

    with_fixed, llama_with = core("gpt-oss-120b"), core("llama3-8b")
    monkeypatch.setattr(attention_core, "PROGRAM_TILES", False)
    tiles_only, llama_without = core("gpt-oss-120b"), core("llama3-8b")
    assert llama_with == llama_without  # no sliding layers: the causal price stays the calibrated one
    # mean keys over the layers, 0.645 s against 0.56 s: the core grows by that ratio less the fixed launch term
    keys_ratio = flash_keys(load_model("gpt-oss-120b"), SEQ, FLASH_PROGRAM_TILES) / flash_keys(
        load_model("gpt-oss-120b"), SEQ)
    for fixed, tiles in zip(with_fixed, tiles_only, strict=True):
        assert tiles < fixed < tiles * keys_ratio
        assert fixed / tiles > 1.0 + 0.9 * (keys_ratio - 1.0)
