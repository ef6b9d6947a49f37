"""The Hopper MoE / MLA serving set's engine mechanisms, each toggled on the rows it moves (split from
`test_serving_hopper_moe.py`, which keeps the row layouts, the campaigns and the scored set)."""

from __future__ import annotations

import numpy as np
from test_serving_hopper_moe import _row  # the set's row builder, shared with the layout tests

from infraplan.serving.stack_placement import where_it_runs
from infraplan.validation import serving_hopper_moe as moe


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
    0.3 with the stack's ranks running their context phases together (`attention_dp_prefill_stall: false`; 0.26, of
    which five rows are the 2026-01-14 MTP campaign's, 25 % too fast with its drafts: 0.14 without them, round 20),
    above 0.5 with the low-load lock-step stall of independent ranks (`prefill_stall.wide_ep_prefill_stall`: 0.77,
    0.97 without the drafts), without the campaigns' context balancing (`ADP_BALANCE_CAMPAIGN`: its lock-step
    ranks are another model of the same iterations); their TTFT (3-12 s) is 4-11x under without the balancing wait
    (median error -0.68) and half of that gap closes with it (-0.48, session 52: the hold counted in iterations)."""
    from infraplan.serving import prefill_stall, wide_ep_lockstep
    from infraplan.validation import serving_hopper

    wide = [r for r in moe.sampled_rows(1)[0] if r["attention_dp_size"] == "8"]
    assert len(wide) == 6 and {r["backend"] for r in wide} == {"trtllm"}
    balanced_ttft = float(np.median(_rows_error(wide, "ttft_s")))
    monkeypatch.setattr(moe, "ADP_BALANCE_CAMPAIGN", False)

    def tpot_mean_abs(stall: bool) -> float:
        monkeypatch.setattr(prefill_stall, "_ranks_stall", lambda dep: stall and dep.attention_dp > 1)
        monkeypatch.setattr(wide_ep_lockstep, "LOAD_AWARE_STALL", False)  # the low-load stall itself (its docstring)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return float(np.mean(np.abs(_rows_error(wide, "tpot_s"))))

    stalled, together = tpot_mean_abs(True), tpot_mean_abs(False)  # stalled first: a per-process memo keeps the stall
    assert together < 0.3 < 0.5 < stalled, (together, stalled)
    monkeypatch.undo()
    monkeypatch.setattr(moe, "ADP_BALANCE_CAMPAIGN", False)
    monkeypatch.setattr(serving_hopper, "_COSTS", {})
    unbalanced_ttft = float(np.median(_rows_error(wide, "ttft_s")))
    assert unbalanced_ttft < -0.6 < balanced_ttft < -0.3, (unbalanced_ttft, balanced_ttft)


def test_the_stall_is_the_stacks() -> None:
    """TensorRT-LLM ranks run their context phases together; SGLang's (and a stack that says nothing) stall."""
    from infraplan.serving.prefill_stall import Deployment, _ranks_stall

    wide = Deployment(tp=1, ep=8, attention_dp=8)
    assert not _ranks_stall(wide)
    assert _ranks_stall(Deployment(tp=1, ep=8, attention_dp=8, stack="sglang-0.x"))
    assert _ranks_stall(Deployment(tp=1, ep=8, attention_dp=8, stack="vllm-0.x"))
    assert not _ranks_stall(Deployment(tp=8, ep=8, stack="sglang-0.x"))  # no attention DP, no other ranks


def test_weight_only_rate_lifts_kimi_long_prefills(monkeypatch) -> None:
    """Kimi K2 INT4 (W4A16, vLLM) at ISL 8192, <= 16 clients: the catalog's Hopper weight-only rate
    (`weight_only_matmul_fraction`) lifts the TTFT median by more than 0.1 (-0.28 at the bf16 rate, -0.12 with it
    before the client round trip; -0.08 and +0.18 with it, `serving.client_loop`; -0.19 and ~0 under the stack's
    default 8192-token budget)."""
    from infraplan.serving import format_precision
    from infraplan.validation import serving_hopper

    rows = [r for r in moe.sampled_rows(1)[0]
            if r["model_path"] == "moonshotai/Kimi-K2.5" and r["isl"] == "8192" and int(r["batch_size"]) <= 16]
    assert len(rows) >= 6

    def median(weight_only: bool) -> float:
        monkeypatch.setattr(format_precision, "WEIGHT_ONLY_RATE", weight_only)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return float(np.median(_rows_error(rows, "ttft_s")))

    bf16_rate, weight_only = median(False), median(True)
    assert bf16_rate < -0.05 and bf16_rate + 0.1 < weight_only < 0.25, (bf16_rate, weight_only)


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
    about the stack's 0.080 s alone; with the engine server's 0.047 s (both refitted with the client round trip, the
    stack's again with the first wave in order)."""
    from infraplan.serving.serving_sim import front_end_s
    from infraplan.validation import serving_row_rules as path

    rows = moe.load_rows()
    dynamo = next(r for r in rows if path.served_by_dynamo(r) and r["backend"] == "trtllm" and not moe.why_not(r))
    own = next(r for r in rows if r["id"] == "2026_04_06_gpt_oss_120b_h200_sxm_trtllm_fp4_agg_1024x1024_c4_tp1_ep1_368")
    assert not path.served_by_dynamo(own) and "tensorrt-llm/release" in own["silicon_data_source"]
    stack_s = front_end_s(moe.moe_deployment(own))
    assert path.server_front_end_s(dynamo, front_end_s(moe.moe_deployment(dynamo))) == stack_s == 0.080
    assert path.server_front_end_s(own, stack_s) == path.ENGINE_SERVER_FRONT_END_S["trtllm"] < stack_s
    by_path = moe.run_row(own)
    monkeypatch.setattr(path, "SERVER_PATH_FRONT_END", False)
    stack = moe.run_row(own)
    assert by_path["tpot_s"] == stack["tpot_s"]
    assert abs(stack["ttft_s"] - by_path["ttft_s"] - (stack_s - path.ENGINE_SERVER_FRONT_END_S["trtllm"])) < 1e-12
    measured = float(own["silicon_ttft_ms"]) / 1e3
    # 140 ms vs 81 (155 before the first wave in order and the stack's refit to 0.080 s); by path 107 ms
    assert stack["ttft_s"] > 1.6 * measured and abs(by_path["ttft_s"] / measured - 1.0) < 0.5


def test_sglang_runs_deepseeks_shared_expert_inside_the_fused_moe(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """SGLang fuses DeepSeek-V3/R1's shared expert into the routed fused MoE (256 routed + 1 shared, no EP:
    `routed_experts.shared_expert_fused`): its two GEMM launches go, 11.35 -> 11.07 ms a step at 4 clients
    on 8 H200 (measured 10.29 ms); Kimi K2 (384 experts), EP and other engines keep the separate shared GEMMs."""
    from infraplan.serving import routed_experts

    row = next(r for r in moe.load_rows() if r["id"] == "dsr1_h200_sglang_fp8_agg_1024x1024_c4_cfg81")
    shape = moe.model_shape(row["model_path"])
    assert routed_experts.shared_expert_fused(shape, "sglang", 1)
    assert not routed_experts.shared_expert_fused(shape, "sglang", 8)
    assert not routed_experts.shared_expert_fused(shape, "trtllm", 1)
    assert not routed_experts.shared_expert_fused(moe.model_shape("moonshotai/Kimi-K2.5"), "sglang", 1)
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
    they take new requests (`serving.request_intake`): a request starts one of its decode iterations later, TPOT does
    not move. vLLM 0.12 and TensorRT-LLM stay synchronous here. Kimi-K2.5 TP8 on vLLM 0.16, ISL / OSL 1024, 8
    clients: measured 166 ms; TTFT grows by the modelled TPOT (~21 ms) towards it."""
    from infraplan.catalog.stacks import load_stack
    from infraplan.serving import request_intake

    new = load_stack(moe.moe_deployment(_row(backend="vllm", backend_version="0.18.0")).stack)
    old = load_stack("vllm-0.x")
    assert new.name != old.name and new.serving is not None and old.serving is not None
    assert new.serving.schedule_ahead and not old.serving.schedule_ahead
    assert new.serving.model_copy(update={"schedule_ahead": False, **where_it_runs(old.serving)}) == old.serving
    assert new.model_dump(exclude={"name", "display_name", "serving"}) == old.model_dump(
        exclude={"name", "display_name", "serving"})
    ahead = {(b, v): load_stack(moe.moe_deployment(_row(backend=b, backend_version=v)).stack).serving
             for b, v in (("vllm", "0.16.0"), ("vllm", "0.12.0"), ("sglang", "0.5.9"), ("sglang", "0.5.6.post2"),
                          ("trtllm", "1.1.0rc2.post2"))}
    assert [p is not None and p.schedule_ahead for p in ahead.values()] == [True, False, True, True, False]
    assert np.array_equal(request_intake.shift_s(np.array([1.0, 2.0]), np.array([3.0, 2.0]), np.array([4, 0])),
                          [0.5, 0.0])
    kimi = next(r for r in moe.load_rows() if r["id"].startswith("2026_04_06_kimi") and r["concurrency"] == "8"
                and r["isl"] == r["osl"] == "1024")
    on = moe.run_row(kimi)
    monkeypatch.setattr(request_intake, "SCHEDULE_AHEAD", False)
    off = moe.run_row(kimi)
    assert on["tpot_s"] == off["tpot_s"]
    assert 0.8 < (on["ttft_s"] - off["ttft_s"]) / on["tpot_s"] < 1.2
    measured = float(kimi["silicon_ttft_ms"]) / 1e3
    assert abs(on["ttft_s"] / measured - 1.0) < abs(off["ttft_s"] / measured - 1.0)
