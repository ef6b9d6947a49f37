"""Split-K against the serving engines' own few-tile GEMMs: an excerpt of NVIDIA AIConfigurator 0.12.0's measured H200
tables (validation/calibration/aic_small_m_split_k.py: every 50th row with few output tiles, 8 <= M <= 256, of the
TensorRT-LLM 1.3.0rc20 and vLLM 0.24.0 gemm_perf tables; fp8 less the same wheel's measured activation cast).

The model prices them at the serving path's rates (`serving_precision`, `decode_kernels.gemm_rates`: the engine's
measured weight-read fraction). With one full-K tile per SM (split-K off) a GEMM of few tiles is priced as if every
SM ran a whole tile, 1.3-3.6x the measured time; split over K the same GEMMs are weight-read bound, as measured
(the full tables' few-tile rows, mean |error| off -> on: bf16 2.21-2.25 -> 0.11, TensorRT-LLM fp8 1.39 -> 0.13, vLLM's
CUTLASS fp8 0.46 -> 0.28; this excerpt: 2.57 / 2.58 -> 0.12 / 0.11, 1.56 -> 0.13, 0.49 -> 0.29)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware import kernels
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.serving.decode_kernels import gemm_rates
from infraplan.serving.format_precision import serving_precision

EXCERPT = Path(__file__).resolve().parents[2] / "validation" / "calibration" / "aic_small_m_split_k_excerpt.csv"
TABLES = {"h200_sxm/trtllm/bfloat16": ("trtllm", "bf16"), "h200_sxm/trtllm/fp8": ("trtllm", "fp8"),
          "h200_sxm/vllm/bfloat16": ("vllm", "bf16"), "h200_sxm/vllm/fp8": ("vllm", "fp8")}


def _errors(table: str, split: bool, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    """model / measured - 1 over the excerpt's rows of `table`, split-K on or off."""
    monkeypatch.setattr(kernels, "SPLIT_K", split)
    engine, dtype = TABLES[table]
    h200 = load_accelerator("h200")
    precision = serving_precision(h200, dtype, None)
    rates = gemm_rates(h200, KernelRates.for_dtype(h200, "bf16"), engine, dtype)
    with EXCERPT.open() as f:
        rows = [r for r in csv.DictReader(f) if r["table"] == table]
    assert len(rows) >= 100
    return np.array([float(gemm_time(rates, float(r["m"]), float(r["n"]), float(r["k"]),
                                     float(precision.bytes_per_element(float(r["m"]), float(r["n"]), float(r["k"]))),
                                     precision.rate)) / float(r["seconds"]) - 1.0 for r in rows])


@pytest.mark.parametrize("table", list(TABLES))
def test_split_k_prices_the_engines_few_tile_gemms(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    on, off = _errors(table, True, monkeypatch), _errors(table, False, monkeypatch)
    assert np.mean(np.abs(on)) < 0.30
    assert abs(float(np.median(on))) < 0.10  # no level bias either way
    assert np.mean(np.abs(off)) > 1.5 * np.mean(np.abs(on))
    assert np.median(off) > 0.25  # one full-K tile per SM: too slow


def test_split_k_never_prices_a_gemm_slower_than_one_full_k_tile_per_sm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library splits only where it pays (`_gemm`: the smaller of split and unsplit)."""
    for table in TABLES:
        on, off = _errors(table, True, monkeypatch), _errors(table, False, monkeypatch)
        assert np.all(on <= off + 1e-12)
