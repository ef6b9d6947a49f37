"""The Hopper MoE / MLA serving set: row layouts, what stays awaiting, and the scored set (issue 13 item 8)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.validation import serving_hopper_moe as moe
from infraplan.validation.sets import EXTRA_SETS


def _row(**fields: str) -> dict[str, str]:
    base = {"id": "x", "backend": "trtllm", "backend_version": "1.1.0rc2.post2",
            "model_path": "deepseek-ai/DeepSeek-R1", "system": "h200_sxm", "precision": "fp8", "isl": "1024",
            "osl": "1024", "batch_size": "8", "tp_size": "8",
            "pp_size": "1", "attention_dp_size": "1", "moe_tp_size": "1", "moe_ep_size": "8", "concurrency": "8"}
    return {**base, **fields}


def test_layouts_map_to_deployments() -> None:
    inside = moe.moe_deployment(_row())  # TP8 attention, EP8 inside the TP group
    assert (inside.tp, inside.ep, inside.attention_dp, inside.dtype, inside.kv_dtype) == (8, 8, 1, "fp8", "fp8")
    wide = moe.moe_deployment(_row(tp_size="1", attention_dp_size="8"))  # DP attention 8 + EP 8 (wide EP)
    assert (wide.tp, wide.ep, wide.attention_dp, wide.gpus_per_replica) == (1, 8, 8, 8)
    kimi = moe.moe_deployment(_row(model_path="moonshotai/Kimi-K2.5", backend="vllm", precision="int4",
                                   moe_tp_size="8", moe_ep_size="1"))
    assert (kimi.dtype, kimi.kv_dtype, kimi.ep, kimi.stack) == ("int4", "bf16", 1, "vllm-0.x")


def test_rows_not_expressible_say_why() -> None:
    assert "no HF config" in (moe.why_not(_row(model_path="zhipuai/GLM-5")) or "")
    assert "several HGX nodes" in (moe.why_not(_row(tp_size="64", moe_tp_size="8")) or "")
    assert "not stated in full" in (moe.why_not(_row(tp_size="1", attention_dp_size="", moe_tp_size="2",
                                                      moe_ep_size="1")) or "")
    assert "no concurrency stated" in (moe.why_not(_row(concurrency="")) or "")
    # per-rank batch 48 x attention DP 1 is not the stated 192 clients (GPT-OSS TensorRT-LLM 1.3.0rc1 rows)
    assert "not batch_size x attention DP" in (moe.why_not(_row(batch_size="48", concurrency="192")) or "")
    assert moe.why_not(_row(tp_size="1", attention_dp_size="8", batch_size="16", concurrency="128")) is None
    assert moe.why_not(_row()) is None


def test_clients_are_the_stated_concurrency_not_the_per_rank_batch() -> None:
    """Every attention-DP row states concurrency = batch_size x attention DP (the source's silicon_concurrency):
    its closed loop runs that many clients over the replica, batch_size per rank."""
    rows = moe.load_rows()
    wide = [r for r in rows if moe._int(r["attention_dp_size"]) > 1]
    assert len(wide) == 28 and all(moe.concurrency(r) == int(r["batch_size"]) * int(r["attention_dp_size"])
                                   for r in wide)
    assert sum(moe.concurrency(r) is None for r in rows) == 1  # Qwen3-235B TensorRT-LLM 1.2.0rc6 ("c_" id)
    assert all(moe.concurrency(r) == int(r["batch_size"]) for r in rows
               if moe._int(r["attention_dp_size"]) == 1 and r["backend_version"] != "1.3.0rc1" and moe.concurrency(r))
    dp8 = _row(tp_size="1", attention_dp_size="8", batch_size="16", concurrency="128")
    assert moe.roofline_work(dp8)["tpot_s"] > moe.roofline_work({**dp8, "concurrency": "16"})["tpot_s"]


def test_expert_count_of_an_exactly_divisible_prefill_is_not_padded() -> None:
    """T k / E tokens per expert when every expert is hit: GPT-OSS (128 experts, top-4) at 1024 tokens feeds 32
    tokens to each expert, not 32 + 1e-13 padded to a 64-row tile, so its body costs ~half of 2048 tokens'."""
    from infraplan.cluster import Cluster
    from infraplan.ops.layer import Layout, layer_ops
    from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

    shape = moe._shape("openai/gpt-oss-120b")
    ops = layer_ops(shape, Layout(tokens=np.array([1024.0]), tp=1, phase="inference"))
    up = next(g for g in ops.gemms if g.role == "expert_up")
    assert float(np.ravel(up.m)[0]) == 32.0 and float(np.ravel(up.count)[0]) == 128.0
    cluster = Cluster.resolve("hgx-h200")
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, Deployment(dtype="int4"))
    assert cost.body_s[1024] < 0.65 * cost.body_s[2048]  # 26.8 vs 47.9 ms (43.0 ms with the padded tile)


def test_every_row_is_run_or_awaiting() -> None:
    run, waiting = moe.sampled_rows(1)
    assert len(run) + len(waiting) == len(moe.load_rows()) == 815
    assert {r["model_path"] for r in run} == set(moe.MODELS)
    assert all(moe.why_not(r) is None for r in run) and all(moe.why_not(r) for r in waiting)
    half, _ = moe.sampled_rows(2)  # deterministic: every other row of each group, the first one kept
    assert len(run) / 2 <= len(half) <= len(run) / 2 + len({moe.group_of(r) for r in run})
    assert half[0] is not None and half[0]["id"] == run[0]["id"]


def test_wide_ep_rank_holds_an_eighth_of_the_experts() -> None:
    """Wide EP: the roofline's weights per GPU shrink with the EP group; the MLA latent is the KV read."""
    tp8 = moe.roofline_work(_row(moe_tp_size="8", moe_ep_size="1"))
    wide = moe.roofline_work(_row(tp_size="1", attention_dp_size="8"))
    ratio = wide["tpot_s"] / tp8["tpot_s"]
    assert 1.0 < ratio < 3.0  # attention and dense layers replicated per rank, experts sharded over 8


@pytest.fixture(scope="module")
def scored():  # type: ignore[no-untyped-def]
    from infraplan.validation.runner import scored_sets  # `validate` scores `moe.serving_moe_set` once per process

    return next(found for found in scored_sets() if found[0].name == moe.SET_NAME)


def test_set_scores_ttft_and_tpot_of_every_row_against_the_roofline(scored) -> None:  # type: ignore[no-untyped-def]
    result, residuals = scored
    run, _ = moe.sampled_rows()
    assert result.name == moe.SET_NAME and result.kind == "serving"
    assert result.cases == 2 * len(run) == 2 * len(residuals)
    assert result.gate_mean_abs_error == moe.GATE_MEAN_ERROR == 0.15
    assert result.awaiting and any("GLM-5" in a for a in result.awaiting)
    assert np.isfinite(result.mean_abs_error) and result.beats_baseline  # 0.35 vs 0.53 (report)
    assert ("infraplan.validation.serving_hopper_moe", "serving_moe_set") in EXTRA_SETS


def test_low_concurrency_tpot_is_centred_for_every_backend(scored) -> None:  # type: ignore[no-untyped-def]
    """Rows of <= 8 clients (decode-bound: expert bytes of the experts hit, routing kernels, all-reduces): the
    median TPOT error of each backend within 17 % (every row: -27 % TensorRT-LLM, -18 % vLLM, -16 % SGLang when
    min(E, T k) experts were read and the routing kernels were missing; -13 %, -5 %, -4 % with them)."""
    _, residuals = scored
    rows = {r["id"]: r for r in moe.sampled_rows()[0]}
    by_backend: dict[str, list[float]] = {}
    for res in residuals:  # residual = measured / predicted - 1 (TPOT)
        row = rows[res.id]
        if (moe.concurrency(row) or 0) <= 8:
            by_backend.setdefault(row["backend"], []).append(1.0 / (1.0 + res.residual) - 1.0)
    assert set(by_backend) == {"trtllm", "vllm", "sglang"}
    for backend, errors in by_backend.items():
        assert abs(float(np.median(errors))) < 0.17, (backend, float(np.median(errors)))


def _tpot_ms_at(monkeypatch, name: str, values: tuple[float, ...],  # type: ignore[no-untyped-def]
                rows: list[dict[str, str]], module: str = "routed_experts") -> dict[float, list[float]]:
    """TPOT (ms) of each row with `serving.<module>.<name>` (`serving.routed_experts` by default) at each value, the
    iteration-cost memo emptied around every setting (the toggle changes the cost the memo keys do not see)."""
    import importlib

    from infraplan.validation import serving_hopper

    toggles = importlib.import_module(f"infraplan.serving.{module}")
    tpot = {}
    for value in values:
        monkeypatch.setattr(toggles, name, value)
        serving_hopper._COSTS.clear()
        tpot[value] = [moe.run_row(r)["tpot_s"] * 1e3 for r in rows]
    serving_hopper._COSTS.clear()
    return tpot


def _rows_error(rows: list[dict[str, str]], metric: str) -> np.ndarray:
    column = {"ttft_s": "silicon_ttft_ms", "tpot_s": "silicon_tpot_ms"}[metric]
    return np.array([moe.run_row(r)[metric] / (float(r[column]) / 1e3) - 1.0 for r in rows])


def test_tensorrt_llm_wide_ep_ranks_are_not_stalled_by_each_others_prefills(monkeypatch) -> None:
    """The six TensorRT-LLM attention-DP 8 rows (64-256 clients, TPOT 30-100 ms measured): TPOT mean |error| within
    0.25 (0.20 on 1.0.0rc3's kernels, round 16) with the stack's ranks running their context phases together
    (`attention_dp_prefill_stall: false`), above
    0.5 with the low-load lock-step stall of independent ranks (`llm_iteration.wide_ep_prefill_stall`); their TTFT
    (3-12 s) stays under-predicted (the balancing wait, not modelled)."""
    from infraplan.serving import llm_iteration
    from infraplan.validation import serving_hopper

    wide = [r for r in moe.sampled_rows(1)[0] if r["attention_dp_size"] == "8"]
    assert len(wide) == 6 and {r["backend"] for r in wide} == {"trtllm"}

    def tpot_mean_abs(stall: bool) -> float:
        monkeypatch.setattr(llm_iteration, "_ranks_stall", lambda dep: stall and dep.attention_dp > 1)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return float(np.mean(np.abs(_rows_error(wide, "tpot_s"))))

    stalled, together = tpot_mean_abs(True), tpot_mean_abs(False)
    assert together < 0.25 < 0.5 < stalled, (together, stalled)
    monkeypatch.undo()
    assert float(np.median(_rows_error(wide, "ttft_s"))) < -0.5


def test_the_stall_is_the_stacks() -> None:
    """TensorRT-LLM ranks run their context phases together; SGLang's (and a stack that says nothing) stall."""
    from infraplan.serving.llm_iteration import Deployment, _ranks_stall

    wide = Deployment(tp=1, ep=8, attention_dp=8)
    assert not _ranks_stall(wide)
    assert _ranks_stall(Deployment(tp=1, ep=8, attention_dp=8, stack="sglang-0.x"))
    assert _ranks_stall(Deployment(tp=1, ep=8, attention_dp=8, stack="vllm-0.x"))
    assert not _ranks_stall(Deployment(tp=8, ep=8, stack="sglang-0.x"))  # no attention DP, no other ranks


def test_weight_only_rate_lifts_kimi_long_prefills(monkeypatch) -> None:
    """Kimi K2 INT4 (W4A16, vLLM) at ISL 8192, <= 16 clients: the catalog's Hopper weight-only rate
    (`weight_only_matmul_fraction`) lifts the TTFT median by more than 0.1 towards the measurement (today -0.28 at
    the bf16 rate, -0.12 with it; -0.19 and ~0 under the stack's default 8192-token budget)."""
    from infraplan.serving import llm_iteration
    from infraplan.validation import serving_hopper

    rows = [r for r in moe.sampled_rows(1)[0]
            if r["model_path"] == "moonshotai/Kimi-K2.5" and r["isl"] == "8192" and int(r["batch_size"]) <= 16]
    assert len(rows) >= 6

    def median(weight_only: bool) -> float:
        monkeypatch.setattr(llm_iteration, "WEIGHT_ONLY_RATE", weight_only)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return float(np.median(_rows_error(rows, "ttft_s")))

    bf16_rate, weight_only = median(False), median(True)
    assert bf16_rate < -0.12 and bf16_rate + 0.1 < weight_only < 0.1, (bf16_rate, weight_only)


def test_kimi_int4_experts_run_at_the_marlin_tables_rate(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Kimi K2 INT4 on vLLM (Marlin MoE, `routed_experts.MARLIN_INT4_RATE`, the vLLM profile's 0.6): its ISL-8192
    rows' TTFT median rises by more than 0.08 towards the measurement and stays within +-0.2 (-0.24 at the full
    weight-only rate, about -0.10 with it); GPT-OSS's MXFP4 experts do not move."""
    from infraplan.serving import routed_experts
    from infraplan.validation import serving_hopper

    run = moe.sampled_rows(1)[0]
    kimi = [r for r in run if r["model_path"] == "moonshotai/Kimi-K2.5" and r["isl"] == "8192"]
    gpt = [r for r in run if r["model_path"] == "openai/gpt-oss-120b" and r["backend"] == "vllm"][:3]
    assert len(kimi) >= 10

    def errors(rows: list[dict[str, str]], on: bool) -> np.ndarray:
        monkeypatch.setattr(routed_experts, "MARLIN_INT4_RATE", on)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return _rows_error(rows, "ttft_s")

    full, marlin = float(np.median(errors(kimi, False))), float(np.median(errors(kimi, True)))
    assert full + 0.08 < marlin and abs(marlin) < 0.2, (full, marlin)
    assert np.array_equal(errors(gpt, False), errors(gpt, True))


def test_routed_count_spread_keeps_long_gpt_oss_prefills_off_the_tile_boundary(monkeypatch) -> None:
    """vLLM GPT-OSS-120B at ISL 8192, <= 16 clients (27 rows, H100 and H200): an iteration of the whole prompt
    and the decodes (8192 + c tokens under the campaign's budget, `serving_hopper.campaign_limits`) puts the mean
    count just above 256 per expert, which padding the mean prices at three 128-row tiles per expert; each
    expert's Poisson count padded (`serving.routed_experts`) costs ~2.5, so every row's TTFT is lower with the
    spread and the median stays within -0.32..-0.15 (-0.24 padded at the mean, -0.27 spread, today)."""
    from infraplan.serving import routed_experts
    from infraplan.validation import serving_hopper

    rows = [r for r in moe.sampled_rows(1)[0] if r["backend"] == "vllm" and r["model_path"] == "openai/gpt-oss-120b"
            and r["isl"] == "8192" and int(r["batch_size"]) <= 16]
    assert len(rows) >= 20

    def errors(spread: bool) -> np.ndarray:
        monkeypatch.setattr(routed_experts, "ROUTED_TOKEN_SPREAD", spread)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return _rows_error(rows, "ttft_s")

    mean_count, spread = errors(False), errors(True)
    assert np.all(spread < mean_count)
    assert -0.32 < float(np.median(spread)) < -0.15, float(np.median(spread))


def test_vllm_012_rows_run_its_padded_deepgemm_workspace(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """vLLM 0.12.0 rows run `data/stacks/vllm-0.12.yaml` (its DeepGEMM MoE computes the padded workspace,
    `serving.deepgemm_moe`), other vLLM versions the shipped profile. Qwen3-235B-A22B fp8 TP2 / TP4 on H200 at
    <= 20 clients: measured TPOT 51-59 / 34-46 ms, median -44 % without the padding (`CONTIGUOUS_PADDED_LAYOUT`
    off), about -23 % with it: each step computes ~16k rows per routed layer whatever the batch."""

    qwen = _row(model_path="Qwen/Qwen3-235B-A22B-FP8", backend="vllm", backend_version="0.12.0", tp_size="2",
                moe_tp_size="2", moe_ep_size="1", attention_dp_size="", isl="2000", osl="1000", batch_size="16",
                concurrency="16", silicon_ttft_ms="364", silicon_tpot_ms="51.4")
    assert moe.moe_deployment(qwen).stack.endswith("vllm-0.12.yaml")
    assert moe.moe_deployment({**qwen, "backend_version": "0.11.2"}).stack == "vllm-0.x"
    tpot = {padded: ms[0] for padded, ms in _tpot_ms_at(monkeypatch, "CONTIGUOUS_PADDED_LAYOUT", (False, True),
                                                          [qwen], "deepgemm_moe").items()}
    assert tpot[False] < 0.8 * 51.4 and abs(tpot[True] / 51.4 - 1.0) < 0.3 and tpot[True] - tpot[False] > 8.0


def test_deepgemm_workspace_pays_its_published_tile_depth(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """DeepGEMM's contiguous grouped GEMM runs at the rate x K / (K + 556) (its published table,
    `deepgemm_moe.DEEPGEMM_TILE_DEPTH`): the same Qwen3-235B TP2 row's TPOT rises from ~38 to ~46 ms (measured
    51.4), mostly the 768-deep down GEMM; a stack without the padded workspace does not move."""
    from infraplan.serving import deepgemm_moe

    qwen = _row(model_path="Qwen/Qwen3-235B-A22B-FP8", backend="vllm", backend_version="0.12.0", tp_size="2",
                moe_tp_size="2", moe_ep_size="1", attention_dp_size="", isl="2000", osl="1000", batch_size="16",
                concurrency="16", silicon_ttft_ms="364", silicon_tpot_ms="51.4")
    versions = ("0.12.0", "0.18.0")
    by_depth = _tpot_ms_at(monkeypatch, "DEEPGEMM_TILE_DEPTH", (0.0, deepgemm_moe.DEEPGEMM_TILE_DEPTH),
                           [{**qwen, "backend_version": version} for version in versions], "deepgemm_moe")
    tpot = {(version, depth): ms[i] for depth, ms in by_depth.items() for i, version in enumerate(versions)}
    assert deepgemm_moe.DEEPGEMM_TILE_DEPTH == 556.0
    assert 6.0 < tpot["0.12.0", 556.0] - tpot["0.12.0", 0.0] < 12.0 and tpot["0.12.0", 556.0] < 51.4
    assert tpot["0.18.0", 556.0] == tpot["0.18.0", 0.0]


def test_front_end_is_the_serving_paths(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Rows served through Dynamo (the gap-analysis harness) keep the stack's front end; the others the engine's own
    server's, a constant in TTFT only. TensorRT-LLM GPT-OSS-120B on one H200, ISL 1024, 4 clients: measured 80 ms,
    under the stack's 0.12 s alone (181 ms predicted); with the engine server's 0.058 s, 119 ms."""
    from infraplan.serving.serving_sim import front_end_s
    from infraplan.validation import serving_front_end as path

    rows = moe.load_rows()
    dynamo = next(r for r in rows if path.served_by_dynamo(r) and r["backend"] == "trtllm" and not moe.why_not(r))
    own = next(r for r in rows if r["id"] == "2026_04_06_gpt_oss_120b_h200_sxm_trtllm_fp4_agg_1024x1024_c4_tp1_ep1_368")
    assert not path.served_by_dynamo(own) and "tensorrt-llm/release" in own["silicon_data_source"]
    stack_s = front_end_s(moe.moe_deployment(own))
    assert path.server_front_end_s(dynamo, front_end_s(moe.moe_deployment(dynamo))) == stack_s == 0.12
    assert path.server_front_end_s(own, stack_s) == path.ENGINE_SERVER_FRONT_END_S["trtllm"] < stack_s
    by_path = moe.run_row(own)
    monkeypatch.setattr(path, "SERVER_PATH_FRONT_END", False)
    stack = moe.run_row(own)
    assert by_path["tpot_s"] == stack["tpot_s"]
    assert abs(stack["ttft_s"] - by_path["ttft_s"] - (stack_s - path.ENGINE_SERVER_FRONT_END_S["trtllm"])) < 1e-12
    measured = float(own["silicon_ttft_ms"]) / 1e3
    assert stack["ttft_s"] > 2.0 * measured and abs(by_path["ttft_s"] / measured - 1.0) < 0.5


def test_sglang_runs_deepseeks_shared_expert_inside_the_fused_moe(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SGLang fuses DeepSeek-V3/R1's shared expert into the routed fused MoE (256 routed + 1 shared, no EP:
    `routed_experts.shared_expert_fused`): its two GEMM launches go, 11.35 -> 11.07 ms a step at 4 clients
    on 8 H200 (measured 10.29 ms); Kimi K2 (384 experts), EP and other engines keep the separate shared GEMMs."""
    from infraplan.serving import routed_experts

    row = next(r for r in moe.load_rows() if r["id"] == "dsr1_h200_sglang_fp8_agg_1024x1024_c4_cfg81")
    shape = moe._shape(row["model_path"])
    assert routed_experts.shared_expert_fused(shape, "sglang", 1)
    assert not routed_experts.shared_expert_fused(shape, "sglang", 8)
    assert not routed_experts.shared_expert_fused(shape, "trtllm", 1)
    assert not routed_experts.shared_expert_fused(moe._shape("moonshotai/Kimi-K2.5"), "sglang", 1)
    tpot = {fused: ms[0] for fused, ms in _tpot_ms_at(monkeypatch, "SGLANG_FUSED_SHARED_EXPERT", (False, True),
                                                        [row]).items()}
    assert 0.2 < tpot[False] - tpot[True] < 0.6 and abs(tpot[True] / 10.29 - 1.0) < 0.1


def test_tensorrt_llm_block_fp8_moe_pays_for_every_local_expert(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """TensorRT-LLM's block-fp8 fused MoE costs ~0.2 us per expert the GPU holds (its measured tables at 1-8 tokens,
    `routed_experts.FP8_BLOCK_EXPERT_S`): DeepSeek-V3 at MoE TP8 (256 local experts) on 8 H200, 8 clients: TPOT
    -14 % -> +4 % (measured 16.4 ms) on rc20's kernels (its release's off); EP8 moves 8x less; SGLang not at all."""
    monkeypatch.delitem(moe.serving_hopper.RELEASE_STACKS, "trtllm", raising=False)  # rc20's kernels (round 16)
    rows = moe.load_rows()
    tp8 = next(r for r in rows if "workflow_run_id=101" in r["silicon_data_source"] and r["concurrency"] == "8")
    ep8 = _row(concurrency="8", batch_size="8", tp_size="8", moe_tp_size="1", moe_ep_size="8")
    sglang = next(r for r in rows if r["id"] == "dsr1_h200_sglang_fp8_agg_1024x1024_c4_cfg81")
    tpot = _tpot_ms_at(monkeypatch, "FP8_BLOCK_EXPERT_S", (0.0, 0.2e-6), [tp8, ep8, sglang])
    gain = [after - before for before, after in zip(tpot[0.0], tpot[0.2e-6], strict=True)]
    assert 2.0 < gain[0] < 4.0 and 0.0 < gain[1] < gain[0] / 6.0 and gain[2] == 0.0
    measured = float(tp8["silicon_tpot_ms"])
    assert tpot[0.0][0] < 0.9 * measured and abs(tpot[0.2e-6][0] / measured - 1.0) < 0.1


def test_async_and_overlap_loops_start_a_request_one_iteration_later(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """vLLM 0.16 / 0.18 (async scheduling by default) and SGLang (overlap scheduler) launch the next iteration before
    they take new requests (`serving.schedule_ahead`): a request starts one of its decode iterations later, TPOT does
    not move. vLLM 0.12 and TensorRT-LLM stay synchronous here. Kimi-K2.5 TP8 on vLLM 0.16, ISL / OSL 1024, 8
    clients: measured 166 ms; TTFT grows by the modelled TPOT (~21 ms) towards it."""
    from infraplan.catalog.stacks import load_stack
    from infraplan.serving import schedule_ahead

    new = load_stack(moe.moe_deployment(_row(backend="vllm", backend_version="0.18.0")).stack)
    old = load_stack("vllm-0.x")
    assert new.name != old.name and new.serving is not None and old.serving is not None
    assert new.serving.schedule_ahead and not old.serving.schedule_ahead
    assert new.serving.model_copy(update={"schedule_ahead": False}) == old.serving
    assert new.model_dump(exclude={"name", "display_name", "serving"}) == old.model_dump(
        exclude={"name", "display_name", "serving"})
    ahead = {(b, v): load_stack(moe.moe_deployment(_row(backend=b, backend_version=v)).stack).serving
             for b, v in (("vllm", "0.16.0"), ("vllm", "0.12.0"), ("sglang", "0.5.9"), ("sglang", "0.5.6.post2"),
                          ("trtllm", "1.1.0rc2.post2"))}
    assert [p is not None and p.schedule_ahead for p in ahead.values()] == [True, False, True, True, False]
    assert np.array_equal(schedule_ahead.shift_s(np.array([1.0, 2.0]), np.array([3.0, 2.0]), np.array([4, 0])),
                          [0.5, 0.0])
    kimi = next(r for r in moe.load_rows() if r["id"].startswith("2026_04_06_kimi") and r["concurrency"] == "8"
                and r["isl"] == r["osl"] == "1024")
    on = moe.run_row(kimi)
    monkeypatch.setattr(schedule_ahead, "SCHEDULE_AHEAD", False)
    off = moe.run_row(kimi)
    assert on["tpot_s"] == off["tpot_s"]
    assert 0.8 < (on["ttft_s"] - off["ttft_s"]) / on["tpot_s"] < 1.2
    measured = float(kimi["silicon_ttft_ms"]) / 1e3
    assert abs(on["ttft_s"] / measured - 1.0) < abs(off["ttft_s"] / measured - 1.0)


def test_a_default_aiohttp_client_holds_100_requests_in_flight(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The December-2025 GPT-OSS vLLM H100 campaign (512 clients) holds ~100 requests in flight by Little's law at
    every layout: run through aiohttp's default 100 connections (`moe.client_connections`), GPT-OSS TP2 ISL 1024 /
    OSL 8192 waits ~0.4 ks for its first token (measured 462 s; ~72 s with all 512 clients admitted), its TPOT
    within 30 % (+217 % uncapped); rows of other campaigns keep every client."""
    rows = moe.load_rows()
    capped = [r for r in rows if moe.client_connections(r) is not None]
    assert len(capped) == 9 and all(moe.concurrency(r) == 512 and r["backend"] == "vllm" for r in capped)
    assert all(moe.client_connections(r) is None for r in rows if r["id"].startswith("2026_03_25_deepseek"))
    row = next(r for r in capped if r["id"].endswith("1024x8192_c512_tp2_ep1_1131"))
    ttft_s, tpot_ms = float(row["silicon_ttft_ms"]) / 1e3, float(row["silicon_tpot_ms"])
    decoding = 512 * 8191 * tpot_ms / 1e3 / (ttft_s + 8191 * tpot_ms / 1e3)
    assert 0.95 < decoding / moe.AIOHTTP_DEFAULT_CONNECTIONS < 1.1
    capped_run = moe.run_row(row)
    monkeypatch.setattr(moe, "CLIENT_CONNECTION_CAP", False)
    open_run = moe.run_row(row)
    assert abs(capped_run["ttft_s"] / ttft_s - 1.0) < 0.2 < 0.8 < 1.0 - open_run["ttft_s"] / ttft_s
    assert abs(capped_run["tpot_s"] * 1e3 / tpot_ms - 1.0) < 0.35 < 2.0 < open_run["tpot_s"] * 1e3 / tpot_ms - 1.0


@pytest.mark.xfail(strict=True, reason=(
    "issue 13 gate not met: 15.61 % mean |error| over its 471 rows (TTFT 21.4 %, TPOT 9.8 %; 15.64 % with round "
    "19's SGLang PrefillAdder (whole prompts below max_prefill_tokens), sourced and on, before the front ends were "
    "refitted by their rule (validation.serving_front_end_fit); 16.2 % with round 16's "
    "nearest-date release kernels, not adopted: DeepSeek 1.1.0rc2 TP8 TPOT +62 %); TensorRT-LLM: the attention-DP "
    "balancing wait, DeepSeek-R1 1.1.0rc2 (2026-01-14) TTFT -70 % and TPOT +35 % (MTP? 15.2 % as one draft token "
    "at 0.85 acceptance, stated nowhere: not adopted); Dynamo-served TTFT growing with the ISL; vLLM / SGLang "
    "Qwen3-235B long prompts 2-3x the TTFT slope; vLLM 0.18 GPT-OSS ISL-8192 TTFT -30 % (2k chunks? no 0.18 "
    "default; 14.9 % at 2048 tokens, vLLM's sub-70-GiB default, unstated for the campaign); module report, notes "
    "round 19"))
def test_set_meets_the_issue_13_gate(scored) -> None:  # type: ignore[no-untyped-def]
    assert scored[0].passes_gate


def test_rows_measured_by_the_ignore_eos_harness_run_full_outputs() -> None:
    """Every row states its source campaign; the gap-analysis rows (AIConfigurator's harness, `ignore_eos: true`)
    run without the fitted early stops, the other campaigns' rows with them."""
    from infraplan.validation import serving_hopper

    rows = moe.load_rows()
    assert all(r["silicon_data_source"] for r in rows)
    gap = [r for r in rows if serving_hopper.GAP_ANALYSIS_SOURCE in r["silicon_data_source"]]
    assert 0 < len(gap) < len(rows)
    assert serving_hopper.stop_per_token(gap[0]) == 0.0
    other = next(r for r in rows if r not in gap)
    assert serving_hopper.stop_per_token(other) == serving_hopper.STOP_PER_TOKEN > 0
