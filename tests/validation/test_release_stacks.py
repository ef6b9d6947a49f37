"""One release -> stack mapping for every Hopper serving set (`validation.release_stacks`): each TensorRT-LLM row
runs its release line's measured MLA decode kernel, block-fp8 MoE extra and block-fp8 GEMM where AIConfigurator
measured that line, else the catalog's kernels."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.ops.layer import Gemm
from infraplan.serving import release_tables
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.stack_placement import where_it_runs
from infraplan.validation import release_stacks as rs
from infraplan.validation import serving_hopper as dense
from infraplan.validation import serving_hopper_disagg as disagg
from infraplan.validation import serving_hopper_moe as moe
from infraplan.validation.serving_row_rules import SYSTEMS

KERNELS = {"decode_attention": {}, "moe_release_extra": {}, "fp8_block_gemm": {}, "all_reduce_table": {}}


def _stack_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def test_every_set_reads_one_mapping() -> None:
    assert dense.RELEASE_STACKS is rs.RELEASE_STACKS and disagg.RELEASE_STACKS is rs.RELEASE_STACKS
    assert rs.RELEASE_STACKS["trtllm-0.8.1.post1"] == "trtllm-1.2.0rc6.yaml"  # the disaggregated rows' (round 12)


def test_trtllm_moe_rows_run_their_release_lines_kernels() -> None:
    """The Dynamo-harness 1.0.0rc3 rows -> their own release's kernels; 1.1.0rc2.post2 (no 1.1 table in any wheel)
    and unversioned rows -> the catalog's (the nearest-date mapping is measured, not adopted: NEAREST_DATE_STACKS)."""
    stacks: dict[tuple[str, str], set[str]] = {}
    for row in moe.sampled_rows(1)[0]:
        if row["backend"] == "trtllm":
            key = (row["backend_version"], moe.MODELS[row["model_path"]])
            stacks.setdefault(key, set()).add(_stack_name(moe.moe_deployment(row).stack))
    # its attention-DP rows: the campaigns' balancing profile (session 52), trtllm-0.x's kernels (it extends it)
    assert stacks[("1.1.0rc2.post2", "deepseek-r1")] == {"trtllm-0.x", "trtllm-0.x-adp-balance.yaml"}
    assert "extends: trtllm-0.x\n" in Path(rs.data_stack("trtllm-0.x-adp-balance.yaml")).read_text()
    assert stacks[("", "deepseek-v3")] == {"trtllm-0.x"}
    assert rs.NEAREST_DATE_STACKS["trtllm-1.1.0rc2.post2"] == "trtllm-1.0.0rc3.yaml"
    assert stacks[("1.0.0rc3", "qwen3-235b-a22b")] == {"trtllm-1.0.0rc3-dynamo-agg.yaml"}
    assert stacks[("gpt-oss-dev", "gpt-oss-120b")] == {"trtllm-0.x"}  # a development build: no release


def test_release_yamls_differ_from_their_base_only_in_measured_kernels() -> None:
    rc3, shipped = load_stack(rs.data_stack("trtllm-1.0.0rc3.yaml")), load_stack("trtllm-0.x")
    dynamo = load_stack(rs.data_stack("trtllm-1.0.0rc3-dynamo-agg.yaml"))
    assert rc3.serving is not None and shipped.serving is not None and dynamo.serving is not None
    assert rc3.serving.model_copy(update={**KERNELS, **where_it_runs(shipped.serving)}) == shipped.serving
    assert rc3.model_dump(exclude={"name", "display_name", "serving"}) == shipped.model_dump(
        exclude={"name", "display_name", "serving"})
    for field in KERNELS:  # the Dynamo-harness YAML carries the same release kernels
        assert getattr(dynamo.serving, field) == getattr(rc3.serving, field)
    # 1.0.0rc3's table prices the fp8-KV MLA kernel as the bf16 one: the same bytes per second
    h200 = rc3.serving.decode_attention["h200"]
    assert 576 / h200["fp8"].kv_read_fraction == pytest.approx(1152 / h200["bf16"].kv_read_fraction, rel=0.01)
    assert h200["fp8"].fixed_s == pytest.approx(29.6e-6)


def test_release_kernels_lengthen_the_deepseek_decode_step() -> None:
    """DeepSeek-R1 TP8 x EP8 at 4 sequences of 1.5k tokens (H200): 1.0.0rc3's kernels (MLA 29.6 us fixed against
    rc20's 15.0, MoE +25.8 us per routed layer, block-fp8 GEMM floor) add ~3.3 ms per step to the catalog's."""
    row = next(r for r in moe.sampled_rows(1)[0] if r["backend_version"] == "1.1.0rc2.post2"
               and r["tp_size"] == "8")
    dep, shape = moe.moe_deployment(row), moe.model_shape(row["model_path"])
    cluster = Cluster.resolve(SYSTEMS[row["system"]])
    rc3 = rs.data_stack("trtllm-1.0.0rc3.yaml")
    steps = {stack: float(build_iteration_cost(shape, cluster.accelerator, cluster.fabric,
                                               replace(dep, stack=stack)).time(0, 4, 4 * 1536, 0))
             for stack in (rc3, "trtllm-0.x")}
    assert 2.8e-3 < steps[rc3] - steps["trtllm-0.x"] < 3.8e-3


def test_release_yamls_carry_the_releases_large_m_gemm_fit() -> None:
    """Both 1.0.0rc3 YAMLs price block-fp8 GEMMs of >= 512 rows by the wave form fitted to 1.0.0rc3's own table
    (trtllm-1.2.0rc6.yaml's procedure), which reproduces that table where the roofline is 1.3-3x under it."""
    h100 = Cluster.resolve(SYSTEMS["h100_sxm"]).accelerator
    for name in ("trtllm-1.0.0rc3.yaml", "trtllm-1.0.0rc3-dynamo-agg.yaml"):
        serving = load_stack(rs.data_stack(name)).serving
        assert serving is not None
        fit = serving.fp8_block_gemm["h100-sxm"]
        assert fit.large_m == 512 and fit.wave_k_s > 0 and (fit.tile_m, fit.tile_n) == (64, 128)
        # AIConfigurator 0.7.0 h100_sxm/trtllm/1.0.0rc3/gemm_perf.txt, fp8_block, M = 8,192 (us): (N, K) -> latency
        measured_us = {(512, 7168): 162.7, (7168, 2048): 258.5, (3072, 1536): 107.8, (7168, 256): 97.8}
        for (n, k), t_us in measured_us.items():
            g = Gemm(role="shared_up", m=np.array([8192.0]), n=n, k=k)
            assert float(release_tables.floor_s(fit, h100, g, 132)[0]) * 1e6 == pytest.approx(t_us, rel=0.1)
        # below large_m the small-M form alone: 4 rows of DeepSeek's 2,112 x 7,168 q_a / kv_a ~13.5 us
        small = release_tables.floor_s(fit, h100, Gemm(role="qkv_down", m=np.array([4.0]), n=2112, k=7168), 132)
        assert 12e-6 < float(small[0]) < 15e-6
