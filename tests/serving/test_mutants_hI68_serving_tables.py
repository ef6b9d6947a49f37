"""hI68: hW67's engine all-to-all table (`serving.ep_alltoall_tables`) and hV2-67's one attention call
(`decode_kernels.mixed_shared_s`) by their stated rules, where hW67's / hV2's tests could not see a change.

* EP between the measured sizes is linear in log2(EP): EP 24 sits w = log2(24) - 4 = 0.585 of the way from EP 16 to
  EP 32 (hW67's test read the midpoint, where the two weights are equal). Expected figures: the file's rows
  (NVIDIA AIConfigurator 0.12.0, GB200 NVL72, nvfp4, 1,024 tokens a rank).
* Under MoE TP the MoE group gathers and reduce-scatters its tokens: no all-to-all runs (`all_to_all_note`'s None),
  so the engine's all-to-all table prices nothing there: the EP seconds are NCCL's, table on or off.
* The note names the table only inside one domain, "EP above 64 read at 64" only above 64, GB300's reading of
  GB200's table only on GB300.
* vLLM's FlashAttention mixed iteration pays the decode op once less (hV2): where that op exceeds the prefill's fixed
  seconds (vLLM 0.12.0's measured H200 op, 13.6 us x 64 layers = 870.4 us, against 512 us), a mixed iteration lasts
  less than a decode step's fixed seconds, and `capacity_decode.mixed_step_s` must still bound it from below.
* hV67's vLLM 0.12.0 all-reduce on H200 (hV67's test read the H100 table only): the release's own measured 8-GPU
  rows, as vllm-0.12.yaml quotes AIConfigurator 0.7.0's systems/data/h200_sxm/vllm/0.12.0/custom_allreduce_perf.txt
  (256 KiB 19.6 us, 1 MiB 27.5 us), not TensorRT-LLM 1.3.0rc20's custom column (10.1 / 25.7 us).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from infraplan import catalog
from infraplan.catalog import load_model
from infraplan.catalog.data_files import read_rows
from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.ops.layer import layer_ops
from infraplan.serving import ep_all_to_all, ep_alltoall_tables, release_tables
from infraplan.serving.capacity_decode import mixed_step_s
from infraplan.serving.deployment import Deployment
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.layer_work import serving_collective_time
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.validation.release_stacks import data_stack

FILE = "aiconfigurator_gb200_trtllm_nvlink_alltoall.csv"
R1_TOKEN_BYTES = 8 * 7168 * 2


def test_ep_between_sizes_is_weighted_by_log2() -> None:
    rows = {(r["op"], int(r["ep"])): float(r["latency_us"]) for r in read_rows("infraplan.catalog", "nccl", FILE)
            if r["moe_dtype"] == "nvfp4" and int(r["tokens"]) == 1024}
    w = math.log2(24) - 4.0
    got = ep_alltoall_tables.call_seconds(FILE, "nvfp4", 24.0, np.array([1024.0 * R1_TOKEN_BYTES]))
    for op in ("prepare", "dispatch", "combine"):
        want = (1.0 - w) * rows[(op, 16)] + w * rows[(op, 32)]
        assert float(got[op][0]) * 1e6 == pytest.approx(want, rel=1e-9), op


def _ep_s(tp: int, ep: int, dp: int, moe_tp: int, m: np.ndarray) -> np.ndarray:
    shape = load_model("deepseek-r1")
    fabric = Cluster.resolve("gb200-nvl72").for_gpus(tp * dp).fabric
    dep = Deployment(tp=tp, ep=ep, attention_dp=dp, moe_tp=moe_tp, dtype="nvfp4", kv_dtype="fp8", engine="trtllm",
                     stack="trtllm-0.x")
    ops = layer_ops(shape, inference_layout(tp, ep, dp, m, moe_tp))
    return ep_all_to_all.ep_seconds(shape, fabric, dep, ops.collectives_fwd, serving_collective_time, m)


def test_moe_tp_runs_no_all_to_all_so_no_table(monkeypatch: pytest.MonkeyPatch) -> None:
    m = np.array([0.0, 1.0, 64.0, 1024.0])
    gb200 = Cluster.resolve("gb200-nvl72").for_gpus(32).fabric
    assert ep_alltoall_tables.all_to_all_note("trtllm", gb200, 8, 8, 4) is None  # MoE TP 4: gathers, no all-to-all
    on = _ep_s(4, 8, 8, 4, m)
    monkeypatch.setattr(ep_alltoall_tables, "ENGINE_ALL_TO_ALL_TABLES", False)
    assert np.array_equal(on, _ep_s(4, 8, 8, 4, m)) and on[-1] > 0.0


def test_the_note_says_only_what_prices_it() -> None:
    gb200 = Cluster.resolve("gb200-nvl72").for_gpus(144).fabric
    gb300 = Cluster.resolve("gb300-nvl72").for_gpus(72).fabric
    assert ep_alltoall_tables.all_to_all_note("trtllm", gb200, 144, 144, 1) is None  # two domains: NCCL's, no table
    at64 = ep_alltoall_tables.all_to_all_note("trtllm", gb200, 64, 64, 1)
    assert at64 is not None and "EP 2-64" in at64 and "above 64" not in at64 and "GB300" not in at64
    on300 = ep_alltoall_tables.all_to_all_note("trtllm", gb300, 72, 72, 1)
    assert on300 is not None and "GB300 reads GB200's" in on300 and "EP above 64 read at 64" in on300


def test_the_mixed_bound_holds_where_one_call_is_less_than_the_decode_op() -> None:
    h200 = Cluster.resolve("hgx-h200")
    dep = Deployment(tp=1, ep=1, dtype="fp8", kv_dtype="bf16", engine="vllm", stack=data_stack("vllm-0.12.yaml"),
                     max_batch=64, token_budget=8192)
    cost = build_iteration_cost(load_model("qwen3-32b"), h200.accelerator, h200.fabric, dep)
    assert cost.shared_fixed_s == pytest.approx(64 * 13.6e-6, rel=1e-12) and cost.prefill_fixed_s < cost.shared_fixed_s
    low = mixed_step_s(cost, 32)
    d = np.repeat(np.arange(1, 33), 3)
    p = np.tile([1, 16, 512], 32)
    for finishing in (0, 1):
        t = cost.time(p, d, np.zeros(len(d)), np.zeros(len(d)), rows=d + np.minimum(finishing, p))
        assert np.all(t >= low[d - 1] * (1 - 1e-12))


def test_vllm_012_on_h200_reads_its_own_all_reduce() -> None:
    h200 = Cluster.resolve("hgx-h200")
    table = release_tables.table(h200.accelerator, data_stack("vllm-0.12.yaml"))
    assert table is not None
    for size, vllm_us, trtllm_us in ((262144, 19.6, 10.1), (1048576, 27.5, 25.7)):
        plain, release = (float(custom_all_reduce_time(h200.fabric, size, 8, table=t)) * 1e6 for t in (None, table))
        assert release == pytest.approx(vllm_us, rel=0.05) and plain == pytest.approx(trtllm_us, rel=0.05)


def test_a_table_priced_all_to_all_is_not_scaled_by_the_dispatch_format(tmp_path: Path) -> None:
    """A user's TensorRT-LLM stack with `ep_fp8_dispatch` and fp8 weights: the table's fp8 rows already carry the
    fp8 dispatch, so a layer's EP seconds are R1's mean layer (58 of 61 route) x the three calls at EP 64 (EP 72 read
    at 64), 128 tokens a rank, not those x the fp8 pair's byte share."""
    shipped = Path(catalog.__file__).parent / "stacks" / "trtllm-0.x.yaml"
    stack = tmp_path / "trtllm-fp8-dispatch.yaml"
    stack.write_text(shipped.read_text().replace("\nserving:\n", "\nserving:\n  ep_fp8_dispatch: true\n", 1))
    shape, m = load_model("deepseek-r1"), np.array([0.0, 128.0])
    fabric = Cluster.resolve("gb200-nvl72").for_gpus(72).fabric
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="fp8", kv_dtype="fp8", engine="trtllm", stack=str(stack))
    assert ep_all_to_all.dispatch_share(dep) != 1.0
    ops = layer_ops(shape, inference_layout(1, 72, 72, m, 1))
    ep_s = ep_all_to_all.ep_seconds(shape, fabric, dep, ops.collectives_fwd, serving_collective_time, m)
    layer = ep_all_to_all.layer_seconds(np.zeros(2), np.zeros(2), ep_s, dep)
    calls = ep_alltoall_tables.call_seconds(FILE, "fp8", 64.0, np.array([128.0 * R1_TOKEN_BYTES]))
    assert float(layer[1]) == pytest.approx(58 / 61 * sum(float(v[0]) for v in calls.values()), rel=1e-9)


def test_the_busiest_ranks_inbound_reads_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """R1's 256 experts over EP 72 do not divide: the busiest GPU's extra inbound copies (`serving.expert_slots`) are
    an all-to-all of the same engine inside the same domain, read on its table as the mean rank's (module docstring),
    so TensorRT-LLM's wide EP on one NVL72 never prices an EP all-to-all at NCCL's line."""
    from infraplan.serving import layer_work

    seen: list[tuple[str, str]] = []
    nccl = layer_work.serving_collective_time

    def spy(fabric, c, *args):  # type: ignore[no-untyped-def]
        seen.append((c.role, c.kind))
        return nccl(fabric, c, *args)

    monkeypatch.setattr(layer_work, "serving_collective_time", spy)
    gb200 = Cluster.resolve("gb200-nvl72").for_gpus(72)
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="nvfp4", kv_dtype="fp8", engine="trtllm", stack="trtllm-0.x",
                     max_batch=64, token_budget=8192)
    build_iteration_cost(load_model("deepseek-r1"), gb200.accelerator, gb200.fabric, dep)
    assert seen and ("ep", "all_to_all") not in seen
