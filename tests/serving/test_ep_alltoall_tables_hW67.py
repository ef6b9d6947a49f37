"""TensorRT-LLM's wide-EP all-to-all on NVL72 priced from its measured table (hW, session 67).

Expected figures are the table's own rows (NVIDIA AIConfigurator 0.12.0, gb200/comm/trtllm/1.3.0rc10/
trtllm_alltoall_perf.parquet, NVLinkTwoSided, microseconds, as catalog/nccl/aiconfigurator_gb200_trtllm_nvlink_
alltoall.csv holds them), not the code's output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.data_files import read_rows
from infraplan.cluster import Cluster
from infraplan.ops.layer import layer_ops
from infraplan.serving import ep_all_to_all, ep_alltoall_tables
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.layer_work import serving_collective_time
from infraplan.serving.llm_iteration import Deployment

US = 1e-6
R1_TOKEN_BYTES = 8 * 7168 * 2  # one DeepSeek-R1 token's routed bf16 copies: top-8 x hidden 7,168 x 2 B
FILE = "aiconfigurator_gb200_trtllm_nvlink_alltoall.csv"


def _calls(ep: float, tokens: float, dtype: str = "nvfp4") -> dict[str, float]:
    got = ep_alltoall_tables.call_seconds(FILE, dtype, ep, np.array([tokens * R1_TOKEN_BYTES]))
    return {k: float(v[0]) / US for k, v in got.items()}


def test_the_file_holds_the_wheels_rows() -> None:
    rows = {(r["op"], r["moe_dtype"], int(r["ep"]), int(r["tokens"])): float(r["latency_us"])
            for r in read_rows("infraplan.catalog", "nccl", FILE)}
    assert len(rows) == 1800  # 10 (op, dtype) x 6 EP sizes x 30 token counts
    # hF66's quote of the same table: 1-token nvfp4 dispatch at EP 8 / 64
    assert rows[("dispatch", "nvfp4", 8, 1)] == pytest.approx(12.317)
    assert rows[("dispatch", "nvfp4", 64, 1)] == pytest.approx(12.138)
    assert {ep for (_, _, ep, _) in rows} == {2, 4, 8, 16, 32, 64}


def test_a_measured_point_is_its_three_calls() -> None:
    # EP 64, 256 tokens a rank, nvfp4: prepare 17.683 + dispatch 32.355 + combine 72.765 us
    calls = _calls(64, 256)
    assert calls["prepare"] == pytest.approx(17.683, rel=1e-9)
    assert calls["dispatch"] == pytest.approx(32.355, rel=1e-9)
    assert calls["combine"] == pytest.approx(72.765, rel=1e-9)
    # fp8 weights read the fp8 rows: 16.624 + 27.603 + 42.704 at EP 64, 128 tokens
    assert sum(_calls(64, 128, "fp8").values()) == pytest.approx(16.624 + 27.603 + 42.704, rel=1e-9)


def test_ep_is_linear_in_log2_and_held_beyond_64() -> None:
    mid = _calls(16 * 2 ** 0.5, 1024)  # halfway between EP 16 and 32 in log2
    assert mid["prepare"] == pytest.approx((20.886 + 20.794) / 2, rel=1e-9)
    assert mid["dispatch"] == pytest.approx((78.365 + 83.139) / 2, rel=1e-9)
    assert mid["combine"] == pytest.approx((228.886 + 242.304) / 2, rel=1e-9)
    assert _calls(72, 256) == pytest.approx(_calls(64, 256), rel=1e-12)


def test_the_curves_never_fall_with_tokens() -> None:
    # EP 16 bf16 combine measures 59.933 / 30.438 us at 1 / 2 tokens and 14.896 at 4: a time is at most a larger
    # count's, so 1 and 2 tokens read 14.896
    assert _calls(16, 1, "bf16")["combine"] == pytest.approx(14.896, rel=1e-9)
    assert _calls(16, 2, "bf16")["combine"] == pytest.approx(14.896, rel=1e-9)
    # below one token (an idle rank still calls) the 1-token time: nvfp4 dispatch at EP 64 measures 12.138 at 1 and
    # 11.933 at 2 tokens
    assert _calls(64, 0)["dispatch"] == pytest.approx(11.933, rel=1e-9)


def test_beyond_the_table_the_last_segment_extends() -> None:
    # nvfp4 dispatch at EP 64: 2,289.840 us at 32,768 tokens, 4,290.048 at 65,536
    # 131,072 tokens: two more 32,768-token steps of that slope
    assert _calls(64, 131072)["dispatch"] == pytest.approx(4290.048 + 2 * (4290.048 - 2289.840), rel=1e-9)


def _r1_ep(system: str, stack: str, engine: str, ep: int, m: np.ndarray, dtype: str = "nvfp4") -> np.ndarray:
    shape = load_model("deepseek-r1")
    fabric = Cluster.resolve(system).for_gpus(ep).fabric
    dep = Deployment(tp=1, ep=ep, attention_dp=ep, dtype=dtype, kv_dtype="fp8", engine=engine, stack=stack)
    ops = layer_ops(shape, inference_layout(1, ep, ep, m, 1))
    return ep_all_to_all.ep_seconds(shape, fabric, dep, ops.collectives_fwd, serving_collective_time, m)


@pytest.mark.parametrize("system", ["gb200-nvl72", "gb300-nvl72"])
def test_trtllm_wide_ep_on_nvl72_reads_the_table(system: str) -> None:
    m = np.array([0.0, 256.0])
    # R1's mean layer: 58 of 61 layers route, each prepare + dispatch + combine at EP 72 = EP 64's
    got = _r1_ep(system, "trtllm-0.x", "trtllm", 72, m)
    assert got[1] / US == pytest.approx(58 / 61 * (17.683 + 32.355 + 72.765), rel=1e-9)
    assert got[0] / US == pytest.approx(58 / 61 * (14.022 + 11.933 + 18.458), rel=1e-9)  # cleaned 1-token rows


def test_a_table_in_the_dispatch_format_is_read_as_it_is(tmp_path: Path) -> None:
    """The table's rows carry the dispatch's format (fp8 dispatch rows for fp8 weights), so a stack that dispatches
    fp8 (`ep_fp8_dispatch`) reads them unscaled: `ep_seconds` is the layer's EP seconds (hC, session 68: they were
    divided by the fp8 share for `layer_seconds` to multiply it back)."""
    stack = tmp_path / "trtllm-fp8-dispatch.yaml"
    stack.write_text("extends: trtllm-0.x\ndisplay_name: t\nserving:\n  ep_fp8_dispatch: true\n", encoding="utf-8")
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="fp8", kv_dtype="fp8", engine="trtllm", stack=str(stack))
    assert ep_all_to_all.dispatch_share(dep) < 1.0
    m = np.array([0.0, 1.0, 64.0, 1024.0])
    table = _r1_ep("gb200-nvl72", "trtllm-0.x", "trtllm", 72, m, "fp8")
    got = _r1_ep("gb200-nvl72", str(stack), "trtllm", 72, m, "fp8")
    assert np.array_equal(got, table) and float(table[-1]) > 0.0
    assert np.array_equal(ep_all_to_all.layer_seconds(np.zeros(4), np.zeros(4), got, dep), table)


def test_no_table_keeps_nccl() -> None:
    m = np.array([0.0, 1.0, 64.0, 1024.0])
    on = {key: _r1_ep(*key, m) for key in [("gb200-nvl72", "sglang-0.x", "sglang", 72),
                                             ("dgx-b200", "trtllm-0.x", "trtllm", 8)]}
    ep_alltoall_tables.ENGINE_ALL_TO_ALL_TABLES = False
    try:
        for key, seconds in on.items():
            assert np.array_equal(seconds, _r1_ep(*key, m)), key
        off = _r1_ep("gb200-nvl72", "trtllm-0.x", "trtllm", 72, m)
    finally:
        ep_alltoall_tables.ENGINE_ALL_TO_ALL_TABLES = True
    assert not np.allclose(off, _r1_ep("gb200-nvl72", "trtllm-0.x", "trtllm", 72, m))


def test_the_answer_says_what_priced_it() -> None:
    gb200 = Cluster.resolve("gb200-nvl72").for_gpus(72).fabric
    table = ep_alltoall_tables.all_to_all_note("trtllm", gb200, 72, 72, 1)
    assert table is not None and "AIConfigurator 0.12.0" in table and "EP above 64 read at 64" in table
    held = ep_alltoall_tables.all_to_all_note("sglang", gb200, 72, 72, 1)
    assert held is not None and "no measured SGLang" in held and "A2A_LINE_HELD" in held
    assert ep_alltoall_tables.all_to_all_note("sglang", gb200, 8, 8, 1) is None  # the boards' tables measure 8
    assert ep_alltoall_tables.all_to_all_note("trtllm", gb200, 32, 4, 8) is None  # MoE TP: gathers, no all-to-all
    assert ep_alltoall_tables.all_to_all_note("trtllm", gb200, 8, 1, 1) is None  # EP inside TP: no all-to-all
    b200 = Cluster.resolve("dgx-b200").for_gpus(8).fabric
    assert ep_alltoall_tables.all_to_all_note("trtllm", b200, 8, 8, 1) is None
