"""vLLM 0.12.0's per-tensor fp8 GEMM rate (hA, session 54): the release's own AIConfigurator 0.7.0 gemm_perf table
with the benchmark's eager input quantisation (a cost in M x K) separated from the cutlass GEMM, which the engine's
compiled graph runs with the quantisation fused (`data/stacks/vllm-0.12.yaml` `matmul_fraction`, the rule
`serving.format_precision.RELEASE_MATMUL_RATE`; numbers in validation/notes/serving_hopper_tried.md)."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.serving import format_precision
from infraplan.serving.llm_iteration import build_iteration_cost, prefill_time
from infraplan.validation import serving_hopper as sh
from infraplan.validation.serving_row_rules import SYSTEMS


def _row(clients: int, tp: int, isl: int, osl: int) -> dict[str, str]:
    return next(r for r in sh.load_rows() if r["model_path"] == "nvidia/Llama-3.1-8B-Instruct-FP8"
                and int(r["batch_size"]) == clients and int(r["tp_size"]) == tp and int(r["isl"]) == isl
                and int(r["osl"]) == osl)


def test_vllm_012_fp8_rows_run_the_release_fp8_gemm_rate():
    # f = 0.820 (H200) / 0.705 (H100) of the fp8 peak, where the catalog gives 0.63 and the one-fraction fit of the
    # same table 0.373 / 0.319; bf16 and a block-fp8 checkpoint's fp8 GEMMs keep the catalog's
    h200 = Cluster.resolve(SYSTEMS["h200_sxm"]).accelerator
    h100 = Cluster.resolve(SYSTEMS["h100_sxm"]).accelerator
    dep = sh.row_deployment(_row(112, 1, 1000, 100))
    assert dep.stack.endswith("vllm-0.12.yaml") and dep.dtype == "fp8" and dep.kv_dtype == "fp8"
    assert format_precision.serving_precision(h200, "fp8", dep.stack).rate == pytest.approx(h200.peak("fp8") * 0.820)
    assert format_precision.serving_precision(h100, "fp8", dep.stack).rate == pytest.approx(h100.peak("fp8") * 0.705)
    catalog_bf16 = h200.peak("bf16") * h200.matmul_fraction("bf16")
    assert format_precision.serving_precision(h200, "bf16", dep.stack).rate == pytest.approx(catalog_bf16)
    block = format_precision.serving_precision(h200, "fp8", dep.stack, block_fp8=True)
    assert block.rate == pytest.approx(h200.peak("fp8") * h200.matmul_fraction("fp8"))


def test_the_release_rate_shortens_the_fp8_prefill_and_the_decode_cycle(monkeypatch):
    # TP1 at 112 clients, 1,000 / 100 (measured TTFT 71.9 ms, TPOT 11.25 ms): a 1,000-token prompt 16.1 -> 13.2 ms,
    # the row's TPOT 24.1 -> 20.5 ms; still over the measured one (an uncached cycle needs ~0.98 GPU-s a second at
    # 100 % of the fp8 peak and of HBM: the notes)
    row = _row(112, 1, 1000, 100)
    shape, cluster = sh.model_shape(row["model_path"]), Cluster.resolve(SYSTEMS["h200_sxm"])
    dep = sh.row_deployment(row)
    prefill, tpot = {}, {}
    for on in (True, False):
        monkeypatch.setattr(format_precision, "RELEASE_MATMUL_RATE", on)
        monkeypatch.setattr(sh, "_COSTS", {})
        cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
        prefill[on] = float(prefill_time(cost, 1, 1000))
        tpot[on] = sh.run_row(row)["tpot_s"]
    assert prefill[True] < 0.85 * prefill[False]
    assert tpot[True] < 0.9 * tpot[False]
    assert float(row["silicon_tpot_ms"]) / 1e3 < tpot[True]
