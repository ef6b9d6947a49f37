"""Blackwell Ultra's int8 peak (hR, session 69 review of hQ69's int8-as-fp8 rule).

hQ69 prices int8 GEMMs at fp8's measured fraction where a part lists int8 and fp8 at one peak. B300 and GB300 listed
int8 at B200's / GB200's 4,500 / 5,000 T, so the rule ran their W8A8 int8 at the fp8 rate; NVIDIA's HGX B300 and
GB300 NVL72 specifications give int8 2 POPS per 8 GPUs and 23 POPS per 72 GPUs with sparsity (0.125 / 0.16 POPS
dense a GPU), and the same sheets' fp8 72 / 720 PF (4.5 / 5 PF dense). Now the files give those int8 peaks, the rule
leaves the parts alone (bf16's fraction at the int8 peak), and a serving answer in int8 names the peak beside fp8's.
"""

from __future__ import annotations

import pytest

from infraplan import simulate_serving
from infraplan.catalog.loader import load_accelerator
from infraplan.serving.serve_inputs import gemm_fraction_note


@pytest.mark.parametrize(("part", "int8_ops", "fp8_flops"), [("b300", 125e12, 4500e12), ("gb300", 160e12, 5000e12)])
def test_blackwell_ultra_int8_peak_is_the_datasheets(part: str, int8_ops: float, fp8_flops: float) -> None:
    acc = load_accelerator(part)
    assert acc.peak("int8") == pytest.approx(int8_ops) and acc.peak("fp8") == pytest.approx(fp8_flops)
    assert acc.same_mma_dtype("int8") is None  # not one MMA at one peak: hQ69's rule leaves it
    assert acc.matmul_fraction("int8") == acc.matmul_fraction("bf16")
    note = gemm_fraction_note(acc, "int8") or ""
    assert f"{part}'s int8 peak, {int8_ops / 1e12:,.0f} TOPS, 1/{fp8_flops / int8_ops:.0f} of its fp8 peak" in note


@pytest.mark.parametrize("part", ["b200", "gb200"])
def test_blackwell_keeps_int8_at_the_fp8_peak(part: str) -> None:
    """A guard (passes at the base too): B200 / GB200 list int8 at their fp8 peak, as their datasheets."""
    acc = load_accelerator(part)
    assert acc.peak("int8") == acc.peak("fp8") and acc.same_mma_dtype("int8") == "fp8"
    assert "measured fp8 fraction" in (gemm_fraction_note(acc, "int8") or "")


def test_b300_int8_serves_slower_than_fp8_and_says_why() -> None:
    """llama3-8b on 8 B300 at 64 clients of 1,000 + 1,000 (vLLM): int8 TTFT 73 ms (as fp8's 71) before, 1.5 s now."""
    runs = {d: simulate_serving("llama3-8b", "b300", 8, dtype=d, kv_dtype="fp8", concurrency=64, input_len=1000,
                                output_len=1000, stack="vllm-0.x", seed=0) for d in ("fp8", "int8")}
    assert runs["int8"].ttft_s.p50 > 10 * runs["fp8"].ttft_s.p50
    assert runs["int8"].tpot_s.p50 > 2 * runs["fp8"].tpot_s.p50
    assert any("int8 peak, 125 TOPS" in n for n in runs["int8"].warnings)
    assert not any("int8 peak" in n for n in runs["fp8"].warnings)
