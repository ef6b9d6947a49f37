"""The Hopper disaggregated serving set: pool layouts, what stays awaiting, and the scored set."""

from __future__ import annotations

import pytest

from infraplan.serving.stack_placement import where_it_runs
from infraplan.validation import serving_hopper_disagg as disagg
from infraplan.validation.sets import EXTRA_SETS


def _row(rid: str) -> dict[str, str]:
    return next(r for r in disagg.load_rows() if r["id"] == rid)


def test_every_disaggregated_row_is_run_or_awaiting_with_its_reason() -> None:
    run, waiting = disagg.sampled_rows(1)
    assert len(run) + len(waiting) == len(disagg.load_rows()) == 291
    assert all(disagg.why_not(r) is None for r in run) and all(disagg.why_not(r) for r in waiting)
    assert {disagg.group_of(r) for r in run} == {"deepseek-v3 h200 trtllm", "deepseek-v3 h200 sglang"}
    reasons = " ".join(str(disagg.why_not(r)) for r in waiting)
    assert "worker counts" in reasons and "several HGX nodes" in reasons and "concurrency is not stated" in reasons
    half, _ = disagg.sampled_rows(2)  # deterministic: every other row of each group, the first kept
    assert len(run) / 2 <= len(half) <= len(run) / 2 + 2 and half[0]["id"] == run[0]["id"]


def test_the_decode_slots_are_the_stated_concurrency_on_every_row_run() -> None:
    """The rows' batch sizes are per attention-DP rank: decode batch x ranks x workers = the benchmark's clients."""
    run, _ = disagg.sampled_rows(1)
    assert all(disagg.decode_slots(r) == disagg.concurrency(r) for r in run)


def test_rows_map_to_two_pools_with_their_own_layouts() -> None:
    pair = disagg.pair_deployment(_row("dsr1_h200_trtllm_fp8_disagg_1024x1024_c1152_cfg321"))
    pre, dec = pair.prefill, pair.decode
    assert (pre.tp, pre.attention_dp, pre.ep, pre.replicas, pre.max_batch) == (1, 8, 8, 1, 1)
    assert (dec.tp, dec.attention_dp, dec.ep, dec.replicas, dec.max_batch) == (1, 8, 8, 9, 16)
    assert (pre.dtype, pre.kv_dtype) == ("fp8", "fp8") and pair.gpus == 80
    assert pre.stack == dec.stack and pre.stack.endswith("trtllm-1.2.0rc6.yaml")  # Dynamo 0.8.1's release
    tp8 = disagg.pair_deployment(_row("dsr1_h200_trtllm_fp8_disagg_1024x1024_c576_cfg303"))
    assert (tp8.prefill.tp, tp8.prefill.ep, tp8.decode.tp, tp8.decode.replicas) == (8, 8, 8, 9)
    work = disagg.roofline_work(_row("dsr1_h200_trtllm_fp8_disagg_1024x1024_c1152_cfg321"))
    assert work["tpot_s"] > 0 and work["ttft_s"] > 0


@pytest.fixture(scope="module")
def scored():  # type: ignore[no-untyped-def]
    from infraplan.validation.runner import scored_sets  # `validate` scores the set once per process

    return next(found for found in scored_sets() if found[0].name == disagg.SET_NAME)


def test_set_is_registered_and_beats_the_fitted_roofline(scored) -> None:  # type: ignore[no-untyped-def]
    assert ("infraplan.validation.serving_hopper_disagg", "serving_disagg_set") in EXTRA_SETS
    result, residuals = scored
    run, _ = disagg.sampled_rows()
    assert result.kind == "serving" and result.cases == 2 * len(run) == len(residuals)  # a TPOT and a TTFT residual
    assert sorted(r.metric for r in residuals) == ["throughput"] * len(run) + ["ttft"] * len(run)
    assert result.beats_baseline and result.mean_abs_error < result.baseline_mean_abs_error
    assert result.awaiting and any("DeepSeek-R1" in a for a in result.awaiting)
    by_group = {g["group"]: g for g in disagg.run_disagg_validation()["groups"]}
    assert by_group["deepseek-v3 h200 trtllm"]["tpot_mean_abs_error"] < by_group["deepseek-v3 h200 trtllm"][
        "baseline_tpot_mean_abs_error"]


def test_group_residuals_split_the_error_mass_by_layout() -> None:
    table = disagg.group_residuals(disagg.SAMPLE_EVERY)
    run, _ = disagg.sampled_rows()
    assert sum(g["rows"] for g in table) == len(run)
    assert sum(g["share"] for g in table) == pytest.approx(1.0)
    assert [g["share"] for g in table] == sorted((g["share"] for g in table), reverse=True)
    assert all(g["group"].startswith("deepseek-v3 h200 ") and " p:tp" in g["group"] and " d:tp" in g["group"]
               for g in table)
    by_engine = {g["group"]: g for g in disagg.group_residuals(disagg.SAMPLE_EVERY, key=lambda r: r["backend"])}
    assert set(by_engine) == {"trtllm", "sglang"} and by_engine["trtllm"]["share"] > by_engine["sglang"]["share"]


def test_one_trtllm_prefill_worker_takes_the_same_time_per_8k_prompt_at_tp8_and_attention_dp8() -> None:
    """The measured rows' cycle per prompt a prefill worker takes, where one worker feeds 128 clients: ~0.35 s per
    8192-token prompt for a TP8 and an attention-DP8 worker alike (module docstring, rounds 7 and 9)."""
    bound = [r for r in disagg.load_rows() if disagg.why_not(r) is None and r["backend"] == "trtllm"
             and r["isl"] == "8192" and r["prefill_num_workers"] == "1" and disagg.concurrency(r) == 128]
    layouts = {(r["prefill_tp_size"], disagg._int(r["prefill_attention_dp_size"])) for r in bound}
    assert layouts == {("8", 1), ("1", 8)}
    assert all(disagg.measured_prefill_cycle_s(r) == pytest.approx(0.35, abs=0.01) for r in bound)


def test_round_robin_decode_workers_make_early_stopped_clients_wait_for_a_slot(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """36 clients over 9 TP8 decode workers of 4 slots (round 11): Dynamo's round-robin hands a worker a request
    above its cap once early end-of-sequence stops unbalance the workers, and the wait is in TTFT; client-sticky
    routing, or outputs of equal length, never wait. Measured 0.67 s / 13.4 ms."""
    from infraplan.serving import disaggregated
    from infraplan.validation import serving_hopper as dense

    row = _row("dsr1_h200_trtllm_fp8_disagg_1024x1024_c36_cfg303")
    runs = {}
    for stop in (dense.STOP_PER_TOKEN, 0.0):
        monkeypatch.setattr(dense, "STOP_PER_TOKEN", stop)
        for rr in (True, False):
            monkeypatch.setattr(disaggregated, "ROUND_ROBIN_DECODE", rr)
            runs[stop > 0, rr] = disagg.run_row(row)
    assert runs[True, True]["ttft_s"] > runs[True, False]["ttft_s"] + 0.15  # slot waits: ~0.3 s on average
    # +16 % since round 13 (the measured absorbed BMMs lengthen the decode step, so a slot frees later), +23 % since
    # round 14 (the release's block-fp8 GEMMs: the step at the measured TPOT, -0.5 %)
    assert runs[True, True]["ttft_s"] == pytest.approx(float(row["silicon_ttft_ms"]) / 1e3, rel=0.25)
    assert runs[False, True] == runs[False, False]  # equal output lengths: round-robin keeps every worker at 4


def test_dynamo_0_8_1_rows_run_their_releases_measured_mla_and_moe_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """TensorRT-LLM 1.2.0rc6.post1's stack (round 12): trtllm-0.x plus the 1.2.0rc5 tables' MLA decode kernel and
    block-fp8 MoE extra; the TP8 decode step at 4 sequences and 1.5k tokens takes ~1.7 ms more (measured 13.4 ms)."""
    from infraplan.catalog.stacks import load_stack
    from infraplan.cluster import Cluster
    from infraplan.serving import mla_decode, release_tables, routed_experts
    from infraplan.serving.disaggregated import pool_costs
    from infraplan.validation.serving_hopper import data_stack

    monkeypatch.setattr(release_tables, "RELEASE_BLOCK_FP8_GEMM", False)  # round 14's rule: its own test below

    release = load_stack(data_stack("trtllm-1.2.0rc6.yaml")).serving
    shipped = load_stack("trtllm-0.x").serving
    assert release is not None and shipped is not None
    assert release.model_copy(update={"decode_attention": {}, "moe_release_extra": {}, "fp8_block_gemm": {},
                                **where_it_runs(shipped)}) == shipped
    assert release.decode_attention["h200"]["fp8"].fixed_s == pytest.approx(28.0e-6)
    row = _row("dsr1_h200_trtllm_fp8_disagg_1024x1024_c36_cfg303")
    pair, cluster = disagg.pair_deployment(row), Cluster.resolve(disagg.SYSTEMS[row["system"]])
    steps = {}
    for on in (True, False):
        monkeypatch.setattr(mla_decode, "RELEASE_MLA_DECODE", on)
        monkeypatch.setattr(routed_experts, "RELEASE_MOE_EXTRA", on)
        _, decode = pool_costs(disagg.model_shape(row["model_path"]), cluster.accelerator, cluster.fabric, pair)
        steps[on] = float(decode.time(0, 4, 4 * 1536, 0))
    assert 1.4e-3 < steps[True] - steps[False] < 2.0e-3 and steps[True] < float(row["silicon_tpot_ms"]) / 1e3


def test_dynamo_0_8_1_tp8_decode_steps_pay_the_releases_block_fp8_gemms(monkeypatch: pytest.MonkeyPatch) -> None:
    """Round 14: the release's measured block-fp8 Linear (`serving.release_tables`, 1.2.0rc5 tables) lengthens the
    TP8 decode step at 4 / 8 / 16 sequences and 1.5k tokens by ~0.85 ms, to within 3 % of the measured TPOT (13.39 /
    16.26 / 20.17 ms), a 1k-token TP8 prefill by < 1 ms (an 8k one by ~20 ms: tests/serving/test_block_fp8_gemm.py)."""
    from infraplan.cluster import Cluster
    from infraplan.serving import release_tables
    from infraplan.serving.disaggregated import pool_costs
    from infraplan.serving.llm_iteration import prefill_time

    row = _row("dsr1_h200_trtllm_fp8_disagg_1024x1024_c36_cfg303")
    pair, cluster = disagg.pair_deployment(row), Cluster.resolve(disagg.SYSTEMS[row["system"]])
    steps, prompt = {}, {}
    for on in (True, False):
        monkeypatch.setattr(release_tables, "RELEASE_BLOCK_FP8_GEMM", on)
        pre, decode = pool_costs(disagg.model_shape(row["model_path"]), cluster.accelerator, cluster.fabric, pair)
        steps[on] = [float(decode.time(0, b, b * 1536, 0)) for b in (4, 8, 16)]
        prompt[on] = float(prefill_time(pre, 1, 1024))
    for on_s, off_s, measured_s in zip(steps[True], steps[False], (13.39e-3, 16.26e-3, 20.17e-3), strict=True):
        assert 0.7e-3 < on_s - off_s < 1.0e-3 and on_s == pytest.approx(measured_s, rel=0.03)
    assert 0.0 < prompt[True] - prompt[False] < 1.5e-3  # the 1k prompt: 54.6 -> 55.4 ms (row 3's bound: ~58 ms)


def test_set_meets_the_issue_13_serving_gate(scored) -> None:  # type: ignore[no-untyped-def]
    """14.4 % over the 28 rows (2026-12-02), with `serving_hopper.REQUESTS_PER_CLIENT` = 10 requests per client, an
    ASSUMPTION for these db-dump rows (harness unstated): 20 per client gives 17.5 %, 50 gives 22.3 %."""
    result, _ = scored
    assert result.passes_gate and result.mean_abs_error <= disagg.GATE_MEAN_ERROR, result
