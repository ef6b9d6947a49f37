"""Physics sanity across the accelerator catalog (hG, session 37; validation/notes/training_sets_tried.md).

Ratios between accelerators must follow their specs and the measurements the catalog cites, not the order in which
their files were written:
- AMD bf16 GEMMs: the MI300X / MI325X files took stas00's MAMF (the best shape of a sweep) as the training-shape
  fraction, where the A100 file (and H100's own measurement) takes 0.87 of it: MI300X's bf16 GEMMs ran at 0.97 of
  H100's against MAMF's measured 668.4 / 794.5 = 0.84 (shared/reference/hardware.md:75).
- Rubin: its matmul fractions stood above Blackwell's measured ones though its file says "a little below
  Blackwell's"; its host share came from Epoch's GPU-server rule (0.82 x TDP: 1,886 W per GPU, a 301 kW rack against
  the 190-230 kW quoted, datacenter.md:115).
- H800 (the H100 die and HBM3 with less NVLink) decoded faster than H100: generic memory fractions without H100's
  measured decode tables.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster.host_share import host_share
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.precision import RECIPES
from infraplan.serving.serving_api import estimate_serving

H100_MAMF_BF16_TFLOPS = 794.5  # stas00 MAMF, shared/reference/hardware.md:75
MAMF_BF16_TFLOPS = {"mi300x": 668.4, "mi325x": 784.9}


def _large_gemm_tflops(name: str, dtype: str = "bf16") -> float:
    """The kernel model's rate on a 16,384-cube GEMM (no tile or wave loss): peak x the catalog fraction."""
    rates = KernelRates.for_dtype(load_accelerator(name), dtype)
    n = 16384.0
    return 2.0 * n**3 / gemm_seconds(rates, n, n, n, 2.0, rates.matmul_flops_per_s) / 1e12


@pytest.mark.parametrize("name", sorted(MAMF_BF16_TFLOPS))
def test_amd_bf16_gemm_rate_over_h100_follows_the_measured_mamf_ratio(name: str) -> None:
    """The same benchmark (MAMF) on both parts sets their ratio: MI300X 0.84 of H100, MI325X 0.99 (was 0.97, 1.14)."""
    measured = MAMF_BF16_TFLOPS[name] / H100_MAMF_BF16_TFLOPS
    modelled = _large_gemm_tflops(name) / _large_gemm_tflops("h100-sxm")
    assert modelled == pytest.approx(measured, rel=0.02)


def test_mi355x_bf16_fraction_follows_the_mi325x_file() -> None:
    """MI355X's fractions are stated as MI325X's (no measurement of its own): the same number, not the raw MAMF."""
    fractions = {n: load_accelerator(n).efficiency.matmul_max_fraction for n in ("mi325x", "mi355x")}
    assert fractions["mi355x"]["bf16"] == fractions["mi325x"]["bf16"] == pytest.approx(0.604 * 0.87, abs=1e-3)


def test_rubin_rack_power_from_an_nvl72_tray_not_the_gpu_server_rule() -> None:
    """72 x (2,300 W + host) lies in the 190-230 kW quoted for Vera Rubin NVL72; Epoch's rule gave 301 kW."""
    share = host_share("rubin")
    rack_kw = 72 * (load_accelerator("rubin").tdp_w + share.watts) / 1e3
    assert share.basis == "device"
    assert 190.0 <= rack_kw <= 230.0


@pytest.mark.parametrize("dtype", ["bf16", "fp8", "mxfp8", "nvfp4"])
def test_rubin_gemm_rate_over_gb200_at_most_the_peak_ratio(dtype: str) -> None:
    """An unreleased part whose fractions are assumed 'not above Blackwell's' cannot gain more than its peak: the
    training recipes' GEMM rate over GB200's <= the peak ratio (nvfp4 was 4.4x for a 3.5x peak)."""
    rubin, gb200 = load_accelerator("rubin"), load_accelerator("gb200")
    recipe = RECIPES[dtype]
    ratio = recipe.gemm_flops_per_s(rubin) / recipe.gemm_flops_per_s(gb200)
    assert ratio <= rubin.peak(recipe.peak_dtype) / gb200.peak(recipe.peak_dtype) * (1 + 1e-9)


def test_h800_decodes_no_faster_than_h100() -> None:
    """The same die and HBM3 at 3.35 TB/s with a slower NVLink: one client's TPOT on H800 >= H100's (was 7.12 ms
    against 7.21 ms, H800 on generic memory fractions without H100's measured decode tables)."""
    def tpot_s(name: str) -> float:
        result = estimate_serving("llama3-70b", name, 8, tp=8, dtype="fp8", concurrency=1, input_len=1024,
                                  output_len=256, requests=16)
        tpot = getattr(result, "tpot_s", None)  # an LLM result (ServingResult), not an image one
        assert tpot is not None
        return float(tpot.mean)

    assert tpot_s("h800") >= tpot_s("h100-sxm")


def test_h800_kernel_rates_are_h100s() -> None:
    """Attention and memory rates of the same die and memory are the same numbers (H100's measured ones)."""
    h100, h800 = (KernelRates.for_dtype(load_accelerator(n), "bf16") for n in ("h100-sxm", "h800"))
    assert h800.attention_flops_per_s == h100.attention_flops_per_s
    assert h800.memory_bytes_per_s == h100.memory_bytes_per_s
    assert load_accelerator("h800").efficiency.weight_read_fraction == \
        load_accelerator("h100-sxm").efficiency.weight_read_fraction
