"""vLLM releases on the dense Hopper rows (hV, session 67). 0.12.0's own measured TP all-reduce (`all_reduce_table` in
validation/data/stacks/vllm-0.12.yaml): the figures are NVIDIA AIConfigurator 0.7.0's systems/data/h100_sxm/vllm/
0.12.0/custom_allreduce_perf.txt rows (kernel_source vLLM_custom_graph; message_size in 2-byte elements, latency in
ms), not the code's output. 0.11.0's profile (validation/data/stacks/vllm-0.11.yaml), measured and not mapped."""

from __future__ import annotations

import pytest

from infraplan.catalog.data_files import read_rows
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.serving import format_precision, release_tables
from infraplan.serving.stack_placement import where_it_runs
from infraplan.validation import release_stacks as rs
from infraplan.validation import serving_hopper as sh

# (GPUs, bytes) -> vLLM 0.12.0's measured all-reduce on 8x H100 SXM, us (the source rows: 131072 / 524288 /
# 2097152 elements, 0.015127 / 0.017689 / 0.034798 ms at 8 GPUs), and TensorRT-LLM 1.3.0rc20's custom column of the
# accelerator's table at the same rows (catalog/nccl/aiconfigurator_h100_all_reduce.csv)
VLLM_H100_8GPU_US = {262144: 15.13, 1048576: 17.69, 4194304: 34.80}
TRTLLM_H100_8GPU_US = {262144: 10.17, 1048576: 25.96, 4194304: 51.90}


def _vllm_qwen_row() -> dict[str, str]:
    """The vLLM 0.12.0 Qwen3-32B bf16 campaign's TP8 row at 8 clients, 1024 / 512 (measured TPOT 8.05 ms)."""
    return next(r for r in sh.load_rows() if r["backend"] == "vllm" and r["backend_version"] == "0.12.0"
                and r["model_path"] == "Qwen/Qwen3-32B" and r["tp_size"] == "8" and r["batch_size"] == "8"
                and r["isl"] == "1024" and r["osl"] == "512")


def test_the_vllm_012_table_holds_the_releases_measured_all_reduce() -> None:
    rows = {int(r["size_bytes"]): r for r in read_rows("infraplan.catalog", "nccl",
                                                        "aiconfigurator_h100_vllm_0.12.0_all_reduce.csv")}
    base = {int(r["size_bytes"]): r
            for r in read_rows("infraplan.catalog", "nccl", "aiconfigurator_h100_all_reduce.csv")}
    assert set(rows) == set(base)  # the same rows, the same NCCL columns (the table rule's normalisation)
    for size, us in VLLM_H100_8GPU_US.items():
        assert float(rows[size]["custom_8gpu_us"]) == pytest.approx(us, abs=0.01)
        assert float(base[size]["custom_8gpu_us"]) == pytest.approx(TRTLLM_H100_8GPU_US[size], abs=0.01)
        assert rows[size]["nccl_8gpu_us"] == base[size]["nccl_8gpu_us"]


def test_vllm_012_rows_price_their_tp_all_reduce_by_the_release_table() -> None:
    cluster = Cluster.resolve(sh.SYSTEMS["h100_sxm"])
    dep = sh.row_deployment(_vllm_qwen_row())
    table = release_tables.table(cluster.accelerator, dep.stack)
    assert table == "aiconfigurator_h100_vllm_0.12.0_all_reduce.csv"
    for size, us in VLLM_H100_8GPU_US.items():  # the release's own figure, not TensorRT-LLM's kernels
        plain, release = (float(custom_all_reduce_time(cluster.fabric, size, 8, table=t)) * 1e6 for t in (None, table))
        assert release == pytest.approx(us, rel=0.05)
        assert plain == pytest.approx(TRTLLM_H100_8GPU_US[size], rel=0.05)


def test_a_vllm_012_tp8_decode_step_pays_the_slower_small_all_reduces(release_all_reduce_tpot) -> None:
    # 8 decoding sequences of Qwen3-32B (5,120 x 2 B a token: 80 KiB), 128 all-reduces a step: vLLM's 6.7 us at 64
    # KiB against TensorRT-LLM's 4.6 us, ~0.26 ms a step (measured TPOT 8.05 ms; the model 7.40 ms before, 7.66 after)
    row = _vllm_qwen_row()
    on, off = release_all_reduce_tpot(row)
    assert 0.15e-3 < on - off < 0.4e-3
    assert on < float(row["silicon_tpot_ms"]) * 1e-3  # still under the measured step


def test_vllm_011_profile_is_the_shipped_one_with_its_release_fp8_gemm_rate_and_maps_no_row() -> None:
    # AIConfigurator 0.4.0's vllm/0.11.0 fp8 table fits f = 0.830 (H200) / 0.755 (H100) of the fp8 peak, the catalog
    # gives 0.63; nothing else differs from the shipped profile, and no row runs it (measured, not adopted)
    a, b = load_stack(rs.data_stack("vllm-0.11.yaml")), load_stack("vllm-0.x")
    assert a.serving is not None and b.serving is not None
    assert a.serving.model_copy(update={"matmul_fraction": {}, **where_it_runs(b.serving)}) == b.serving
    assert a.model_dump(exclude={"name", "display_name", "serving"}) == b.model_dump(
        exclude={"name", "display_name", "serving"})
    h200 = Cluster.resolve(sh.SYSTEMS["h200_sxm"]).accelerator
    h100 = Cluster.resolve(sh.SYSTEMS["h100_sxm"]).accelerator
    stack = rs.data_stack("vllm-0.11.yaml")
    assert format_precision.serving_precision(h200, "fp8", stack).rate == pytest.approx(h200.peak("fp8") * 0.830)
    assert format_precision.serving_precision(h100, "fp8", stack).rate == pytest.approx(h100.peak("fp8") * 0.755)
    assert h200.matmul_fraction("fp8") == pytest.approx(0.63)
    assert rs.NEAREST_DATE_STACKS["vllm"] == "vllm-0.11.yaml" and "vllm" not in rs.RELEASE_STACKS
    unversioned = next(r for r in sh.load_rows() if r["backend"] == "vllm" and not r["backend_version"])
    assert sh.row_deployment(unversioned).stack == "vllm-0.x"
