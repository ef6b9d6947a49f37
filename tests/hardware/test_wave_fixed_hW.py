"""The per-wave fixed time of Blackwell's nvfp4 Linear (`hardware.kernels.WAVE_FIXED`, catalog `plain_gemm_wave`).

Measured: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, PyPI, Apache-2.0) b200_sxm/gemm/trtllm/1.3.0rc20/
gemm_perf.parquet, nvfp4, M = N = 4,096: K = 1,024 22.03 us, K = 16,384 170.35 us; less the activation cast
(quantize/trtllm/1.3.0rc20/scale_matrix_perf.parquet at (4,096, K): 4.25 / 46.01 us) 17.78 / 124.34 us, a ratio of
6.99 for 16x the K (validation/calibration/aic_nvfp4_wave_fixed.py fits the 5,880 shapes).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.hardware import gemm_seconds, kernels
from infraplan.serving.decode_kernels import gemm_rates
from infraplan.serving.format_precision import serving_precision

MEASURED_S = {1024: 17.78e-6, 16384: 124.34e-6}


def _b200_nvfp4() -> tuple[kernels.KernelRates, float, float]:
    b200 = load_accelerator("b200")
    prec = serving_precision(b200, "nvfp4", "trtllm-0.x")
    rates = gemm_rates(b200, kernels.KernelRates.for_dtype(b200, "bf16"), "trtllm", "nvfp4")
    return rates, prec.rate, float(prec.bytes_per_element(4096.0, 4096.0, 1024.0))


def _times(rates: kernels.KernelRates, rate: float, width: float) -> dict[int, float]:
    return {k: float(kernels.gemm_time(rates, 4096, 4096, k, width, rate)) for k in MEASURED_S}


def test_the_wave_fixed_time_gives_the_measured_k_dependence(monkeypatch: pytest.MonkeyPatch) -> None:
    rates, rate, width = _b200_nvfp4()
    assert rates.wave_fixed_s == pytest.approx(0.905e-6) and rates.wave_flops_per_s == pytest.approx(0.525 * 9e15)
    monkeypatch.setattr(kernels, "WAVE_FIXED", False)
    off = _times(rates, rate, width)
    monkeypatch.setattr(kernels, "WAVE_FIXED", True)
    on = _times(rates, rate, width)
    measured_ratio = MEASURED_S[16384] / MEASURED_S[1024]
    # one fraction: the time grows x10.5 for 16x the K (K loop + launch), the table x7.0
    assert off[16384] / off[1024] > 1.4 * measured_ratio
    assert on[16384] / on[1024] == pytest.approx(measured_ratio, rel=0.15)
    for k, measured in MEASURED_S.items():
        assert on[k] == pytest.approx(measured, rel=0.15)
    assert off[1024] < 0.8 * MEASURED_S[1024]  # off, K = 1,024 runs 26 % fast


def test_off_prices_as_before_and_on_keeps_the_fast_path_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    rates, rate, width = _b200_nvfp4()
    bare = dataclasses.replace(rates, wave_fixed_s=0.0, wave_flops_per_s=0.0)
    shapes = [(1.0, 4096.0, 4096.0), (96.0, 6144.0, 4096.0), (3072.0, 28672.0, 4096.0), (8192.0, 8192.0, 28672.0)]
    monkeypatch.setattr(kernels, "WAVE_FIXED", False)  # off: as before (on since session 53's landing)
    for m, n, k in shapes:
        assert float(kernels.gemm_time(rates, m, n, k, width, rate)) == float(kernels.gemm_time(bare, m, n, k, width,
                                                                                                 rate))
    monkeypatch.setattr(kernels, "WAVE_FIXED", True)
    ms, ns, ks = (np.array(c) for c in zip(*shapes, strict=True))
    array = kernels.gemm_time(rates, ms, ns, ks, width, rate)
    for i, (m, n, k) in enumerate(shapes):
        one = gemm_seconds.gemm_seconds(rates, m, n, k, width, rate)
        assert one == float(array[i]) == float(kernels.gemm_time(rates, m, n, k, width, rate))
    assert float(array[2]) != float(kernels.gemm_time(bare, 3072.0, 28672.0, 4096.0, width, rate))
