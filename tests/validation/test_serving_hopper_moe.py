"""The Hopper MoE / MLA serving set: row layouts, what stays awaiting, and the scored set (issue 13 item 8)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.validation import campaign_settings
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


def test_a_dense_rows_none_layout_columns_read_as_one_rank() -> None:
    """The source writes attention_dp_size / moe_tp_size / moe_ep_size "0" ("none") on some dense rows (GB200
    Qwen3-32B TensorRT-LLM 1.3.0rc1): one attention rank, and no MoE layout to check (hR72's finding)."""
    assert (moe._int("0"), moe._int(""), moe._int("4")) == (1, 1, 4)
    dense = _row(model_path="Qwen/Qwen3-32B", precision="", tp_size="2", attention_dp_size="0", moe_tp_size="0",
                 moe_ep_size="0", batch_size="1", concurrency="1")
    assert moe.layout_why_not(dense, models=[*moe.MODELS, "Qwen/Qwen3-32B"], precisions=["", "fp8"]) is None
    assert "not batch_size x attention DP" in (moe.layout_why_not({**dense, "concurrency": "2"}, models=[
        *moe.MODELS, "Qwen/Qwen3-32B"], precisions=["", "fp8"]) or "")
    # an MoE checkpoint's row still needs its MoE layout to fill attention TP x DP, "0" or not
    assert "MoE TP x EP" in (moe.why_not(_row(moe_tp_size="0", moe_ep_size="0")) or "")
    assert "MoE TP x EP" in (moe.why_not(_row(moe_tp_size="2", moe_ep_size="2")) or "")


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

    shape = moe.model_shape("openai/gpt-oss-120b")
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
    assert result.cases == 2 * len(run) == len(residuals)  # a TPOT (throughput) and a TTFT residual per row
    assert sorted(r.metric for r in residuals) == ["throughput"] * len(run) + ["ttft"] * len(run)
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


def test_a_default_aiohttp_client_holds_100_requests_in_flight(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The December-2025 GPT-OSS vLLM H100 campaign (512 clients) holds ~100 requests in flight by Little's law at
    every layout: run through aiohttp's default 100 connections (`campaign_settings.client_connections`), GPT-OSS TP2
    ISL 1024 / OSL 8192 waits ~0.4 ks for its first token (measured 462 s; ~72 s with all 512 clients admitted), its
    TPOT within 30 % (+147 % uncapped, with vLLM's sliding-window pool); rows of other campaigns keep every client."""
    rows = moe.load_rows()
    capped = [r for r in rows if campaign_settings.client_connections(r) is not None]
    assert len(capped) == 9 and all(moe.concurrency(r) == 512 and r["backend"] == "vllm" for r in capped)
    assert all(campaign_settings.client_connections(r) is None for r in rows
               if r["id"].startswith("2026_03_25_deepseek"))
    row = next(r for r in capped if r["id"].endswith("1024x8192_c512_tp2_ep1_1131"))
    ttft_s, tpot_ms = float(row["silicon_ttft_ms"]) / 1e3, float(row["silicon_tpot_ms"])
    decoding = 512 * 8191 * tpot_ms / 1e3 / (ttft_s + 8191 * tpot_ms / 1e3)
    assert 0.95 < decoding / campaign_settings.AIOHTTP_DEFAULT_CONNECTIONS < 1.1
    capped_run = moe.run_row(row)
    monkeypatch.setattr(campaign_settings, "CLIENT_CONNECTION_CAP", False)
    open_run = moe.run_row(row)
    assert abs(capped_run["ttft_s"] / ttft_s - 1.0) < 0.2 < 0.8 < 1.0 - open_run["ttft_s"] / ttft_s
    assert abs(capped_run["tpot_s"] * 1e3 / tpot_ms - 1.0) < 0.35 < 1.0 < open_run["tpot_s"] * 1e3 / tpot_ms - 1.0


def test_the_2026_01_14_tensorrt_llm_campaign_runs_deepseeks_mtp(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The TensorRT-LLM 1.1.0rc2.post2 DeepSeek-R1 campaign of 2026-01-14 ran MTP (`validation.campaign_settings`):
    on the same image and labels (TP8 x EP8, H200) its TPOT is 0.52-0.78x that of the 2025-12-15 campaign, which the
    db dump of non-speculative records holds (config_id 181). Its rows run the checkpoint's one MTP module at 0.85
    acceptance, no other row drafts; its scored TP8 rows' TPOT mean |error| falls from ~0.39 to under 0.1."""
    from infraplan.validation import serving_hopper

    rows = moe.load_rows()
    campaign = [r for r in rows if campaign_settings.speculative_campaign(r)]
    ratios = campaign_settings.tpot_against_database(rows)  # 14 labels, each measurement in both export files
    assert len(ratios) == 2 * 14 and min(ratios) > 0.5 and max(ratios) < 0.8
    assert 0.6 < float(np.median(ratios)) < 0.7
    drafts = {(moe.moe_deployment(r).speculative_tokens, moe.moe_deployment(r).acceptance) for r in campaign}
    assert drafts == {(1, campaign_settings.MTP_ACCEPTANCE)}
    assert all(moe.moe_deployment(r).speculative_tokens == 0 for r in moe.sampled_rows(1)[0] if r not in campaign)
    tp8 = [r for r in campaign if moe.why_not(r) is None and r["attention_dp_size"] in ("", "1")]
    assert len(tp8) == 14

    def tpot_mean_abs(on: bool) -> float:
        monkeypatch.setattr(campaign_settings, "SPECULATIVE_CAMPAIGN_RULE", on)
        monkeypatch.setattr(serving_hopper, "_COSTS", {})
        return float(np.mean([abs(moe.run_row(r)["tpot_s"] * 1e3 / float(r["silicon_tpot_ms"]) - 1.0) for r in tp8]))

    without, mtp = tpot_mean_abs(False), tpot_mean_abs(True)
    assert mtp < 0.1 < 0.3 < without, (without, mtp)


def test_set_meets_the_issue_13_gate(scored) -> None:  # type: ignore[no-untyped-def]
    """Met 2026-12-02 at 14.88 % over 471 rows; 15.14 % over 446 since repeats are matched at 2 decimals (notes round
    24); met again 2026-12-04 at 14.91 % with the closed loop's first wave sent in client order
    (`serving.client_loop.first_wave`, notes "adopted (hD44)"). Open: TensorRT-LLM's attention-DP balancing wait,
    the MTP campaign's TTFT floor, Qwen3-235B long-prompt TTFT slopes, vLLM 0.18 GPT-OSS ISL-8192 TTFT,
    TensorRT-LLM 1.0.0rc3 Qwen3-235B TTFT (too fast at every concurrency)."""
    assert scored[0].passes_gate
    assert scored[0].mean_abs_error <= 0.15


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


def test_repeats_whose_digits_differ_by_the_export_are_found_at_two_decimals(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`REPEAT_DECIMALS` (2): the Kimi-K2.5 gap-analysis file repeats the 2026-04-06 rows rounded to 2 decimals, and
    the db dump and 2026-03-25.csv carry one SGLang DeepSeek-R1 run with TPOTs differing in the 17th digit; the
    last-digit match scores both copies, the 2-decimal match sets one aside (notes round 24)."""
    from infraplan.validation import serving_row_consistency as consistency

    rows = moe.load_rows()

    def repeats() -> dict[str, str]:
        return consistency.repeated_measurements(rows, lambda r: moe._why_not_expressible(r) is None)

    kimi = "kimi_k2_5_gap_analysis_kimi_k2_5_gap_analysis_h200_sxm_vllm_int4_agg_1024x1024_c4_tp8_ep1_33"
    sglang = "2026_03_25_deepseek_r1_h200_sxm_sglang_fp8_agg_1024x8192_c16_tp8_0_ep1_0_296"
    monkeypatch.setattr(consistency, "REPEAT_DECIMALS", None)
    assert kimi not in repeats() and sglang not in repeats()
    monkeypatch.setattr(consistency, "REPEAT_DECIMALS", 2)
    found = repeats()
    assert "2026_04_06_kimi_k2_5_h200_sxm_vllm_int4_agg_1024x1024_c4_tp8_ep1_1292" in found[kimi]
    assert "dsr1_h200_sglang_fp8_agg_1024x8192_c16_cfg81" in found[sglang] and "2 decimals" in found[sglang]
