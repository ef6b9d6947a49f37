"""Review of hW53's per-wave fixed time (hL, session 53): a skinny tile pays its share of a wave's fixed time (a
mutant dropping `tile_m / widest` from both paths survived hW's tests, whose shapes either fill the widest tile or
compare the two paths, mutated alike), and a catalog file whose `plain_gemm_wave` names a dtype without a peak is
refused in one line (it was a KeyError traceback at exit 0 from `serve`: `decode_kernels.gemm_rates` reads
`Accelerator.peak(dtype)` for the K-loop rate)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.hardware import gemm_seconds, kernels


def test_a_skinny_tile_pays_its_share_of_the_wave_fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "WAVE_FIXED", True)
    b200 = load_accelerator("b200")
    fixed = 1e-3  # a fixed time that dwarfs the K loop, the memory term and the launch
    rates = dataclasses.replace(kernels.KernelRates.for_dtype(b200, "bf16"), wave_fixed_s=fixed,
                                wave_flops_per_s=1e30)
    assert rates.tile_m == 128
    for m, share in ((128.0, 1.0), (64.0, 0.5), (16.0, 0.125)):  # one wave each (N = 128: one column of tiles)
        one = gemm_seconds.gemm_seconds(rates, m, 128.0, 1024.0, 1.0, 1e15)
        array = float(kernels.gemm_time(rates, m, 128.0, 1024.0, 1.0, 1e15))
        assert one == array
        assert one - rates.kernel_overhead_s == pytest.approx(share * fixed, rel=1e-6)


def test_plain_gemm_wave_for_a_dtype_without_a_peak_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "w4.yaml"
    path.write_text("extends: h100-sxm\nefficiency: {plain_gemm_wave: {vllm: {int4: {fraction: 0.5, "
                    "wave_fixed_s: 1.0e-6}}}}\n")
    with pytest.raises(Exception, match="plain_gemm_wave given for dtypes without a peak: \\['int4'\\]"):
        load_accelerator(str(path))
    code = ("import sys; from infraplan.cli.main import main; sys.argv[0] = 'infraplan'; sys.exit(main())")
    run = subprocess.run([sys.executable, "-c", code, "serve", "llama3-8b", "--system", str(path), "--gpus", "1",
                          "--dtype", "int4", "--rate", "2", "--requests", "20", "--input-len", "512",
                          "--output-len", "64"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")})
    assert run.returncode == 2, run.stderr[-500:]
    assert len(run.stderr.strip().splitlines()) == 1 and "without a peak" in run.stderr
    ok = tmp_path / "bf16.yaml"  # a dtype the part has a peak for is taken
    ok.write_text("extends: h100-sxm\nefficiency: {plain_gemm_wave: {vllm: {bf16: {fraction: 0.5, "
                  "wave_fixed_s: 1.0e-6}}}}\n")
    assert load_accelerator(str(ok)).efficiency.plain_gemm_wave["vllm"]["bf16"].fraction == 0.5


def test_the_catalog_source_says_the_toggle_as_it_is() -> None:
    """The four Blackwell files' source said "used where hardware.kernels.WAVE_FIXED, off" with the toggle on since
    its landing (7b850be): the text follows the code."""
    state = "on" if kernels.WAVE_FIXED else "off"
    for name in ("b200", "b300", "gb200", "gb300"):
        acc = load_accelerator(name)
        assert acc.efficiency.plain_gemm_wave, name
        assert f"used where hardware.kernels.WAVE_FIXED, {state})" in " ".join(acc.efficiency.source.split()), name
