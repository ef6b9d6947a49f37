"""MLPerf Inference v5.1 (8-GPU) rows as a validation set: coverage, the stated rules, behaviour and the gate."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import read_entry, shape_from_hf_config
from infraplan.catalog.serving_loader import WorkloadSpec
from infraplan.cluster import Cluster
from infraplan.serving.workloads import workload_requests
from infraplan.validation.inference import case_deployment, case_shape, simulate_case
from infraplan.validation.inference_frontier import (
    AWAITING,
    GATE_MEAN_ERROR,
    dense_rule_tp,
    frontier_inference_set,
    load_frontier_cases,
    run_frontier_inference_validation,
)

# the llm-inference rows of the reference frontier_measured.csv (H076-H134)
REFERENCE_ROWS = {"H076", "H077", "H082", "H083", "H084", "H090", "H091", "H092", "H097", "H098", "H099", "H104",
                  "H105", "H106", "H123", "H124", "H127", "H128", "H129", "H130", "H131", "H132", "H133", "H134"}


@pytest.fixture(scope="module")
def report():
    return run_frontier_inference_validation()


@pytest.fixture(scope="module")
def data():
    return load_frontier_cases()


def test_every_reference_row_is_a_case_with_source_stack_and_assumptions(data):
    rows = [c["row"] for c in data["cases"]]
    assert len(rows) == len(set(rows))
    assert set(rows) | {a.split()[0] for a in AWAITING} == REFERENCE_ROWS
    for case in data["cases"]:
        assert case["row"] in case["source"] and "MLPerf Inference v5.1" in case["source"]
        assert case["stack"] in ("trtllm-0.x", "vllm-0.9-rocm.yaml") and case["assumed"] and case["published"] > 0
        assert case["scenario"] in ("offline", "server", "interactive")
        assert ("slo" in case) == (case["scenario"] != "offline")
        amd = case["system"] == "mi300x-cluster"
        assert case["stack"] == ("vllm-0.9-rocm.yaml" if amd else "trtllm-0.x")  # AMD: its vLLM 0.9 (hA52)


def test_deployments_follow_the_stated_rules(data):
    """Dense models (and MoE models that fit a GPU): the smallest TP whose weights take <= half of a GPU; DeepSeek-R1:
    attention DP 8 x TP1 with EP 8. Every deployment fills the row's 8 GPUs."""
    for case in data["cases"]:
        dep = case_deployment(case, data["engine"])
        assert dep.gpus == case["gpus"] == 8
        if case["model"] == "deepseek-r1":
            assert (dep.tp, dep.attention_dp, dep.ep, dep.replicas) == (1, 8, 8, 1)
            continue
        accelerator = Cluster.resolve(case["system"]).accelerator
        assert dep.tp == dense_rule_tp(case_shape(case), accelerator, dep.dtype), case["id"]
        assert dep.dtype == ("nvfp4" if accelerator.name == "b200" else "fp8") and dep.kv_dtype == "fp8"


def test_the_dense_rule_gives_the_v41_sets_h100_layout():
    data, name = read_entry("models", "llama2-70b")
    h100 = Cluster.resolve("dgx-h100-superpod").accelerator
    assert dense_rule_tp(shape_from_hf_config(data, name), h100, "fp8") == 2  # inference.yaml's TP2 x 4


def test_each_stack_brings_its_own_batch_limits(data):
    by_stack = {c["stack"]: case_deployment(c, data["engine"]) for c in data["cases"]}
    assert (by_stack["vllm-0.9-rocm.yaml"].engine, by_stack["vllm-0.9-rocm.yaml"].max_batch) == ("vllm", 1024)
    assert (by_stack["trtllm-0.x"].engine, by_stack["trtllm-0.x"].max_batch) == ("trtllm", 2048)


def test_workloads_match_the_rows_mean_output_per_sample(data):
    """The rows' derived output tokens per sample (tokens/s over samples/s) bound the workloads' mean outputs; the
    Mixtral rows state no samples/s, so MLPerf's accuracy window on tokens per sample bounds it (144.84 x 0.9 to
    145.9 x 1.1, the submission checker's constants as the case file cites)."""
    stated = {"r1-reasoning": (3650, 3770), "longcontext-405b": (630, 654), "openorca-mlperf": (272, 301),
              "mixtral-mlperf": (144.84 * 0.9, 145.9 * 1.1)}
    for name, (low, high) in stated.items():
        spec = WorkloadSpec(display_name=name, source="test", kind="llm", **data["workloads"][name])
        mean = float(np.mean(workload_requests(spec, 20000, None, 0).output_tokens))
        assert low <= mean <= high, (name, mean)


def test_server_and_interactive_meet_their_limits_and_stay_below_offline(report, data):
    cases = {c["id"]: c for c in data["cases"]}
    rows = {r["id"]: r for r in report["cases"]}
    for rid, row in rows.items():
        case = cases[rid]
        if case["scenario"] == "offline":
            continue
        offline = rows[rid.rsplit("-", 1)[0] + "-offline"]
        assert row["predicted"] <= offline["predicted"] * (1 + 1e-9)
        assert 0.0 <= row["detail"]["rate_per_s"] <= row["detail"]["offline_rate_per_s"]  # the search's bracket
        if row["detail"]["rate_per_s"] > 0:
            assert row["detail"]["ttft_p99_s"] <= case["slo"]["ttft_s"]
            assert row["detail"]["tpot_p99_s"] <= case["slo"]["tpot_s"]
    for rid, row in rows.items():  # the tighter Interactive limits never give more than Server
        if rid.endswith("-interactive"):
            assert row["predicted"] <= rows[rid.replace("-interactive", "-server")]["predicted"] * (1 + 1e-9)


def test_the_set_beats_the_fitted_roofline(report):
    scored, residuals = frontier_inference_set()
    assert scored.cases == len(report["cases"]) == len(residuals) == 24 - len(AWAITING)
    assert scored.kind == "serving" and scored.baseline == "fitted-efficiency roofline"
    assert scored.beats_baseline, (scored.mean_abs_error, scored.baseline_mean_abs_error)
    assert scored.mean_abs_error == pytest.approx(report["summary"]["mean_abs_error"])
    assert {r.family for r in residuals} == {"blackwell", "hopper", "cdna3"}
    assert {r.stack for r in residuals} == {"trtllm", "vllm"} and {r.kind for r in residuals} == {"serving"}


def test_the_model_ranks_the_hardware_where_rows_share_model_stack_and_scenario(report, data):
    """Issue 13 item 8: where rows share a model, stack and scenario (B200 vs H200 on TensorRT-LLM), the predicted
    order of the systems is the measured one."""
    groups: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    cases = {c["id"]: c for c in data["cases"]}
    for row in report["cases"]:
        case = cases[row["id"]]
        groups.setdefault((case["model"], case["stack"], case["scenario"]), []).append(
            (row["published"], row["predicted"]))
    shared = [pairs for pairs in groups.values() if len(pairs) > 1]
    assert len(shared) >= 5  # Llama 3.1 405B and 8B, three scenarios each
    for pairs in shared:
        assert np.argsort([p for p, _ in pairs]).tolist() == np.argsort([q for _, q in pairs]).tolist()


@pytest.mark.xfail(strict=True, reason=(
    "issue 13 item 8 gate (mean |error| <= 15 %) not met: 23.1 % / max 70.5 % over the 24 rows with every LoadGen "
    "rule on (Offline query of whole passes >= 1.1 x 600 s, Server trials of the equal-issue query's whole passes, "
    "completed tokens/s, early stopping; 23.9 % over 8 workload seeds; fitted roofline "
    "57.3 %); Llama 3.1 8B outputs at the checker's ~124 tokens (H200 rows -2 / -3 / +2.5 %, B200 nvfp4 rows +19.5 / "
    "+26 / +49 %); Blackwell fp4 GEMMs at AIConfigurator's measured nvfp4 fraction (B200 0.46) with a fixed time per "
    "wave (hW53, hardware.kernels.WAVE_FIXED): B200 Llama 2 70B / 3.1 405B Offline and Server -15 to -18 %; Mixtral "
    "8x7B +27 to +42 % (outputs "
    "at MLPerf's 145 tokens per sample, inputs S-; its step is the TensorRT-LLM 1.0 line's kernel sum, whose own "
    "aggregated estimate is +25 to +29 % on H127), DeepSeek-R1 B200 Server +69 % (two-pass Offline rate, step ~1.6x "
    "fast: its limits still hold at 1.1x its offline rate, scenario_rule_checks.server_bracket_check), Llama 3.1 405B "
    "H200 Server / Interactive -48 / -70 % (prompt mix S-; a truncated draw of the same mean and max instead of the "
    "clip's 16 % at 20,000 tokens: -48 / -53 %); the measured B200 MLA kernels (TensorRT-LLM 1.0.0rc6 / 1.3.0rc20) "
    "and Mixtral MoE tables (1.0.0rc3 / 1.3.0rc20) are sourced but not adopted (24.2 / 26.0 %, Mixtral +20 / +50 %) "
    "(validation/notes/inference_frontier_tried.md, rounds 14-16, session 60 hC)"))
def test_gate_mean_abs_error(report):
    assert report["summary"]["mean_abs_error"] <= GATE_MEAN_ERROR
    assert report["summary"]["passes_gate"]


def test_an_open_gate_is_reported_not_enforced(report):
    summary = report["summary"]
    assert summary["enforced"] == summary["passes_gate"]
    if not summary["passes_gate"]:
        assert "gate not met" in summary["known_gap"]


def test_offline_runs_last_about_mlperfs_600_s_in_whole_passes(data):
    """MLPerf's Offline query repeats the loaded samples for >= 600 s: a one-pass run of a fast model is mostly its
    ramp-up and ramp-down and under-states the rate; whole passes keep the dataset's mean lengths."""
    case = next(c for c in data["cases"] if c["row"] == "H132")  # Llama 3.1 8B H200: one pass lasts ~25 s
    engine = data["engine"]
    assert engine["offline_min_duration_s"] == 600
    one_pass = simulate_case(case, {**engine, "offline_min_duration_s": 0}, data["workloads"], None)
    long_run = simulate_case(case, engine, data["workloads"], None)
    assert engine["offline_query_slack"] == 1.1  # LoadGen's kSlack: the query holds >= 1.1 x 600 s at its rate
    assert one_pass["duration_s"] < 60 and 1.1 * 600 <= long_run["duration_s"] < 800
    assert long_run["output_tokens_per_s"] > one_pass["output_tokens_per_s"]  # the ramps weigh less
    assert long_run["mean_output_tokens"] == pytest.approx(one_pass["mean_output_tokens"])
    slow = next(c for c in data["cases"] if c["row"] == "H090")  # Llama 3.1 405B H200: one pass is hours
    assert simulate_case(slow, engine, data["workloads"], None)["requests"] == slow["requests"]


def test_loadgen_sizes_the_offline_query_in_whole_passes_at_the_runs_own_rate():
    """test_settings_internal.cc:140-154 and loadgen.cc:316-325 with the run's own rate as the expected QPS: the least
    k passes (the first, then steady ones) whose run lasts >= kSlack x min_duration."""
    from infraplan.validation.inference import loadgen_passes

    assert loadgen_passes(559.0, 300.0, 660.0) == 2  # DeepSeek-R1: one pass is under 660 s
    assert loadgen_passes(8.0, 7.0, 660.0) == 95  # Llama 3.1 8B B200: 8 + 94 x 7 = 666 s, 93 steady passes 659 s
    assert loadgen_passes(4194.0, 4000.0, 660.0) == 1  # Llama 3.1 405B: one pass is hours
    assert loadgen_passes(600.0, 60.0, 660.0) == 2  # exactly 660 s
    assert loadgen_passes(100.0, 0.0, 660.0) == 1  # degenerate steady pass: one pass


def test_steady_passes_from_a_two_pass_run_equal_the_full_run(data):
    """`offline_passes` (the Offline run's later passes extrapolated from a two-pass run) gives the rate a run of
    every pass gives (Llama 3.1 8B H200, 6 passes)."""
    import numpy as np

    from infraplan.cluster import Cluster
    from infraplan.serving.workloads import Requests
    from infraplan.validation import inference

    case = next(c for c in data["cases"] if c["row"] == "H132")
    engine = {**data["engine"], "offline_min_duration_s": 0}
    shape, cluster = inference.case_shape(case), Cluster.resolve(case["system"])
    dep = inference.case_deployment(case, engine)
    base = inference.case_requests(case, data["workloads"], None)

    def run(passes: int) -> dict:
        tiled = Requests(*(np.tile(a, passes) for a in (base.arrival_s, base.input_tokens, base.output_tokens)))
        return inference.simulate_deployment(shape, cluster, dep, tiled, front_end=False)

    one, two, six = run(1), run(2), run(6)
    got = inference.offline_passes(one, two, 6)
    assert got["requests"] == six["requests"]
    assert got["output_tokens_per_s"] == pytest.approx(six["output_tokens_per_s"], rel=0.01)
    assert got["duration_s"] == pytest.approx(six["duration_s"], rel=0.01)
    assert got["output_tokens_per_s"] > one["output_tokens_per_s"]  # the ramps weigh less over more passes


def test_fp8_cache_prefill_attention_runs_tensorrt_llms_measured_fp8_fmha(data):
    """TensorRT-LLM's FP8 context FMHA over an fp8 cache: 1.32x the fused-attention rate on Hopper (AIConfigurator's
    measured tables; `serving.kv_cache.context_fmha_speedup`) and 1.20x on B200 (the same procedure on its table), only
    for 128-wide heads without MLA, only where the stack runs that kernel; the Llama 3.1 405B H200 rows' prefill pairs
    cost that much less."""
    from dataclasses import replace

    from infraplan.serving import kv_cache
    from infraplan.serving.llm_iteration import build_iteration_cost

    case = next(c for c in data["cases"] if c["row"] == "H092")
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    dep = case_deployment(case, data["engine"])
    h200 = cluster.accelerator
    assert kv_cache.context_fmha_speedup(shape, h200, "trtllm-0.x", "fp8") == pytest.approx(1.32)
    assert kv_cache.context_fmha_speedup(shape, h200, "trtllm-0.x", "bf16") == 1.0
    assert kv_cache.context_fmha_speedup(shape, h200, "vllm-0.x", "fp8") == 1.0
    r1 = case_shape(next(c for c in data["cases"] if c["model"] == "deepseek-r1"))
    assert kv_cache.context_fmha_speedup(r1, h200, "trtllm-0.x", "fp8") == 1.0  # MLA: other kernels
    b200 = Cluster.resolve("dgx-b200").accelerator
    assert kv_cache.context_fmha_speedup(shape, b200, "trtllm-0.x", "fp8") == pytest.approx(1.20)
    assert kv_cache.context_fmha_speedup(r1, b200, "trtllm-0.x", "fp8") == 1.0
    fp8 = build_iteration_cost(shape, h200, cluster.fabric, dep)
    bf16 = build_iteration_cost(shape, h200, cluster.fabric, replace(dep, kv_dtype="bf16"))
    assert fp8.pair_s == pytest.approx(bf16.pair_s / 1.32)


def test_the_wide_ep_r1_step_matches_tensorrt_llms_measured_runs_on_b200():
    """AIConfigurator's silicon sample (`validation.frontier_silicon`): DeepSeek-R1 nvfp4 at attention DP 8 x EP 8 on
    B200, TensorRT-LLM 1.2.0rc6.post2, 16-32 sequences per rank: the model's TPOT within 15 % of the measured at
    1,024-token prompts and 35 % at 8,192 (+15.1 % since its export's bf16 attention, hF83: the prompts' prefill
    chunks; +30.3 % since the campaigns' attention-DP balancing, session 52; the layout of H076 / H077; its TTFT
    with the balancing wait 0.50-0.96 of the measured, 0.27-0.60 without); its
    decode step within 20 % of the fp8 disaggregated decode workers' TPOT at 8-512 sequences per rank, H077's batch and
    cached tokens included (the fp4 ones: `test_the_fp4_wide_ep_decode_workers_step_within_20_percent`); the Llama
    3.1 70B rows of the set's TP1 B200 / TP8 H200 layouts within 25 % (medians 12 %)."""
    from infraplan.validation.frontier_silicon import load_silicon_rows, silicon_check, silicon_deployment

    rows = load_silicon_rows()
    r1 = [r for r in rows if r["model_path"] == "deepseek-ai/DeepSeek-R1"]
    decode = [r for r in rows if r["mode"] == "disagg"]
    assert len(rows) == 73 and len(r1) == 5 and len(decode) == 8
    assert all(int(r["decode_batch_size"]) * 8 * int(r["decode_num_workers"]) == int(r["concurrency"]) for r in decode)
    assert max(int(r["decode_batch_size"]) for r in decode) == 512
    for row in r1:  # the stated per-rank batch and the clients agree: wide EP over the 8 GPUs
        assert int(row["batch_size"]) * int(row["attention_dp_size"]) == int(row["concurrency"])
        dep = silicon_deployment(row)
        assert (dep.attention_dp, dep.ep, dep.tp, dep.dtype, dep.kv_dtype) == (8, 8, 1, "nvfp4", "fp8")
    check = silicon_check()
    for r in check["rows"]:
        if "step_ratio" in r:
            assert " fp4 " in r["group"] or 0.8 <= r["step_ratio"] <= 1.2
        elif r["group"].startswith("DeepSeek-R1"):
            # 8,192-token prompts 1.30 since session 52 (1.15 before): the campaigns' attention-DP balancing
            # (`serving_hopper_moe.ADP_BALANCE_CAMPAIGN`) releases every rank's prefill together and the lock-step
            # ranks' decodes wait for it (`serving.wide_ep_lockstep`); 1,024-token prompts 0.86-0.97 -> 1.00-1.11
            assert 0.85 <= r["tpot_ratio"] <= (1.15 if r["isl"] == 1024 else 1.35)
            # the balancing wait priced (session 52): 0.27-0.60 -> 0.50-0.96 of the measured
            assert 0.45 < r["ttft_ratio"] < 1.05
        else:
            assert 0.85 <= r["tpot_ratio"] <= 1.25
    for name, group in check["groups"].items():
        if " fp4 decode" not in name:
            assert 0.85 <= group.get("tpot_ratio_median", group.get("step_ratio_median", 0.0)) <= 1.15, name


def test_the_model_prices_b200_nvfp4_over_fp8_as_tensorrt_llm_measured_it():
    """AIConfigurator's silicon sample, Llama 3.1 70B on B200 TP1, TensorRT-LLM runs alike but for nvfp4 / fp8
    (`frontier_silicon.precision_speedups`, 18 pairs): the model's fp8 / fp4 TTFT speedup of 8,192-token prompts at 4-64
    clients within 10 % of the measured 1.45-1.51 (model 1.39-1.42) and its TPOT speedup within 5 % below 128 clients
    (measured 1.15-1.29). It fails with nvfp4 priced on the fp8 fractions' basis (b200.yaml fp4 0.46 -> 0.37, TTFT
    1.21-1.22, TPOT down to 1.17 against 1.29; validation/notes/inference_frontier_tried.md, hK session 51)."""
    from infraplan.validation.frontier_silicon import precision_speedups

    pairs = precision_speedups()
    assert len(pairs) == 18 and {p["group"] for p in pairs} == {"Llama-3.1-70B b200 fp4 TP1"}
    long_prompts = [p for p in pairs if p["isl"] == 8192 and p["clients"] <= 64]
    assert len(long_prompts) == 5
    for p in long_prompts:
        assert 1.45 <= p["measured_ttft_speedup"] <= 1.51
        assert 0.9 <= p["model_ttft_speedup"] / p["measured_ttft_speedup"] <= 1.1
    for p in (p for p in pairs if p["clients"] < 128):
        assert 0.95 <= p["model_tpot_speedup"] / p["measured_tpot_speedup"] <= 1.05


@pytest.mark.xfail(strict=True, reason="hF83: with its export's bf16 attention (`serving_blackwell.fp4_checkpoints`) "
                   "the fp4 decode step at 137 / 512 sequences a rank is 1.30 / 1.32x the measured (1.12 / 1.13 with "
                   "every linear nvfp4): the model's B200 bf16 GEMMs at 128-512 rows are 1.3-2.4x AIConfigurator "
                   "0.12.0's gemm/trtllm/1.3.0rc20 table (q_a / kv_a 2,112 x 7,168 at 256 rows 28.9 vs 11.9 us; "
                   "o_proj 7,168 x 16,384 at 512 rows 117.9 vs 90.1 us): hardware GEMM rates, for the lead")
def test_the_fp4_wide_ep_decode_workers_step_within_20_percent():
    """The fp4 disaggregated decode workers (DeepSeek-R1 nvfp4, attention DP 8 x EP 8, 137 / 512 sequences a rank):
    the model's decode step within 20 % of the measured TPOT."""
    from infraplan.validation.frontier_silicon import silicon_check

    rows = [r for r in silicon_check()["rows"] if "step_ratio" in r and " fp4 " in r["group"]]
    assert len(rows) == 2 and all(0.8 <= r["step_ratio"] <= 1.2 for r in rows)


def test_tensorrt_llms_long_prefill_scales_with_tp_as_the_model_prices_its_all_reduce(monkeypatch):
    """AIConfigurator's silicon sample, Llama 3.1 70B fp8 on H200, 8,192-token prompts at 4 and 8 clients: the model /
    measured TTFT is flat from TP1 to TP8 with the TP all-reduce priced in series with the GEMMs, and falls by a
    third at TP8 with it hidden, so TensorRT-LLM does not overlap it (`validation.frontier_silicon`; the Llama 3.1
    405B rows' all-reduce-hidden candidate is refuted by it)."""
    from infraplan.serving import layer_work
    from infraplan.validation import serving_hopper
    from infraplan.validation.frontier_silicon import load_silicon_rows, run_silicon_row

    rows = [r for r in load_silicon_rows() if r["system"] == "h200_sxm" and r["isl"] == "8192"
            and int(r["concurrency"]) <= 8]
    assert sorted({(int(r["tp_size"]), int(r["concurrency"])) for r in rows}) == [
        (tp, c) for tp in (1, 2, 4, 8) for c in (4, 8)]

    def ratios() -> dict[tuple[int, int], float]:
        return {(int(r["tp_size"]), int(r["concurrency"])): run_silicon_row(r)["ttft_s"] * 1e3 / float(
            r["silicon_ttft_ms"]) for r in rows}

    priced = ratios()
    for clients in (4, 8):
        per_tp = [priced[(tp, clients)] for tp in (1, 2, 4, 8)]
        # 1.26-1.34 since the client round trip keeps the 4-8 prompt waves (serving.client_loop)
        assert max(per_tp) - min(per_tp) < 0.1 and min(per_tp) > 0.8 and max(per_tp) < 1.4
    serial = layer_work.serving_collective_time

    def hidden(fabric, c, *args):
        seconds = serial(fabric, c, *args)
        return 0.0 * seconds if c.kind == "all_reduce" else seconds

    monkeypatch.setattr(layer_work, "serving_collective_time", hidden)  # where `layer_time` reads it (split hI58)
    monkeypatch.setattr(serving_hopper, "_COSTS", {})
    overlapped = ratios()
    for clients in (4, 8):
        assert overlapped[(1, clients)] == pytest.approx(priced[(1, clients)])
        assert overlapped[(8, clients)] < 0.75 * overlapped[(1, clients)]


def test_a_capped_server_prediction_is_the_engines_saturation_but_r1s_limits_never_bind(data):
    """`validation.scenario_rule_checks.server_bracket_check`: Mixtral 8x7B H200 Server (H128) is predicted at its
    offline rate, and that is the engine's saturation: a trial of LoadGen's length (>= 600 s of Poisson arrivals) meets
    both limits there and not at 1.1x it, where the queue grows for 600 s. DeepSeek-R1 B200 Server (H077) is predicted
    at its offline rate too, but 1.1x it still meets both limits at LoadGen's length with TPOT p99 near half the 80 ms
    limit: its +68 % is the model's short step, not the search or the trial."""
    from infraplan.validation.scenario_rule_checks import server_bracket_check

    cases = {c["row"]: c for c in data["cases"]}
    mixtral = server_bracket_check(cases["H128"], data)
    assert mixtral["capped"] and mixtral["valid_at_loadgen_length"] and not mixtral["overload_valid"]
    assert mixtral["loadgen_requests"] == mixtral["trial_requests"]  # the file's trials are LoadGen's 600 s (hV51)
    assert mixtral["p99_s"]["overload"][0] > 5 * cases["H128"]["slo"]["ttft_s"]
    r1 = server_bracket_check(cases["H077"], data)
    assert r1["capped"] and r1["valid_at_loadgen_length"] and r1["overload_valid"]
    assert r1["p99_s"]["overload"][1] < 0.6 * cases["H077"]["slo"]["tpot_s"]


def test_the_r1_step_at_h077s_batch_lacks_what_the_release_lines_moe_kernel_costs(data):
    """`validation.step_components` at DeepSeek-R1 B200 Server's measured batch (H077: 155 sequences per rank by
    Little's law at the published rate, 215 at LoadGen's scheduled rate; 4,453 cached tokens): the parts sum to the
    model's decode step, and that step lies below NVIDIA's own estimate from the kernels of the rows' release line,
    which lies below the measured TPOT. AIConfigurator 0.7.0 (PyPI wheel; b200_sxm/trtllm/1.0.0rc6 tables, TensorRT-LLM
    1.0 needs the rows' TensorRT 10.11), static generation step, attention DP 8 x EP 8, nvfp4, fp8 cache:
    42.3 / 48.3 ms at 155 / 215 per rank, of which the routed MoE 17.8 / 19.2 ms (0.29 / 0.32 ms a layer at 1,240 /
    1,720 tokens, power-law routing); measured TPOT mean 66.5 ms. The model's routed experts and routing kernels are
    about half of that MoE: the largest single term it lacks against those kernels, 27-40 % of the gap."""
    from infraplan.validation.step_components import PARTS, decode_step_components, operating_point_components

    cases = {c["row"]: c for c in data["cases"]}
    aic_step_s, aic_moe_s, measured_s = {155: 42.3e-3, 215: 48.3e-3}, {155: 17.8e-3, 215: 19.2e-3}, 66.5e-3
    for n in (155, 215):
        parts = decode_step_components(cases["H077"], data["engine"], n, 4453.0)
        assert set(parts) == {*PARTS, "total"}
        assert sum(parts[k] for k in PARTS) == pytest.approx(parts["total"], rel=1e-9)
        assert abs(parts["other"]) < 1e-6 * parts["total"]  # no floor or release table: every term is named
        assert parts["total"] < aic_step_s[n] < measured_s
        moe = parts["routed_experts"] + parts["moe_routing_kernels"]
        assert 0.4 * aic_moe_s[n] < moe < 0.65 * aic_moe_s[n]
        assert parts["ep_collectives"] > 0 and parts["tp_collectives"] == 0  # attention DP: no TP all-reduce
    at_point = operating_point_components(cases["H077"], data)  # Little's law: 154.5 sequences, 4,453 tokens
    at_155 = decode_step_components(cases["H077"], data["engine"], 155, 4453.0)
    assert at_point["total"] == pytest.approx(at_155["total"], rel=1e-3)
    dense = decode_step_components(cases["H091"], data["engine"], 17, 9865.0)  # Llama 3.1 405B H200, TP8
    assert dense["routed_experts"] == dense["ep_collectives"] == dense["mla_absorb"] == 0.0
    assert dense["tp_collectives"] > 0 and dense["dense_ffn"] > dense["attention_gemms"]


def test_the_405b_prefill_is_priced_as_the_release_lines_kernels_sum_and_dearer_than_the_rows_allow(data):
    """Llama 3.1 405B fp8 on H200 at TP8 (H090-H092): an 8,192-token prompt prefilled alone costs the model within
    10 % of NVIDIA's sum of the TensorRT-LLM 1.0 line's measured kernels (AIConfigurator 0.7.0, h200_sxm/trtllm/
    1.0.0rc3, static context phase, fp8 GEMMs and FMHA, fp8 cache: 1,107 ms, of which the two TP all-reduces 266 ms),
    while the Offline row allows at most ~124 us per prompt token all-in (552.7 tokens/s over ~635-token outputs:
    1.15 s per request of ~9,300 prompt tokens): what the model over-prices against the rows is not a kernel the
    release line measured."""
    from infraplan.serving.llm_iteration import build_iteration_cost
    from infraplan.validation.operating_point import idle_prefill_s

    case = next(c for c in data["cases"] if c["row"] == "H090")
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, case_deployment(case, data["engine"]))
    prefill_s = idle_prefill_s(cost, 8192)
    assert prefill_s == pytest.approx(1.107, rel=0.10)
    assert prefill_s / 8192 > 124e-6


def test_the_mixtral_h200_step_is_the_release_lines_kernel_sum_at_h128s_measured_point(data):
    """Mixtral 8x7B fp8 on H200, one TP1 engine per GPU (H127 / H128, +27 / +29 %): the model's iteration is NVIDIA's
    own sum of the TensorRT-LLM 1.0 line's measured kernels (AIConfigurator 0.7.0, PyPI wheel; h200_sxm/trtllm/
    1.0.0rc3 tables, the line of the rows' TensorRT 10.11; fp8 GEMMs, MoE and FMHA, fp8 cache, power-law 1.01 routing,
    the only one its Mixtral MoE table holds): an 8,192-token prompt alone 222.3 ms (static context phase); a decode
    step of 1,335 sequences at 510 cached tokens 50.5 ms (static generation); H128's measured mixed step (1,335
    sequences decoding and 3,635 prompt tokens a step by Little's law at the published rate and the workload's
    396-token mean prompt; AIConfigurator's own mixed-step rule, `run_agg`: the non-attention ops at the step's
    tokens, context attention per prompt, generation attention) 133.7 ms, against the measured TPOT mean of 175.2 ms.
    The same tables' aggregated estimate at the workload's mean lengths (ISL 396, OSL 145) is 9,720-9,900 output
    tokens/s per GPU, 1.25-1.28x H127's 7,764: the Mixtral residual is not a kernel the release line measured, and
    those tables meet both rows at a ~550-token mean prompt (validation/notes/inference_frontier_tried.md, Round 16)."""
    from infraplan.serving.llm_iteration import build_iteration_cost, prefill_time
    from infraplan.validation.operating_point import operating_point
    from infraplan.validation.step_components import decode_step_components

    cases = {c["row"]: c for c in data["cases"]}
    case = cases["H128"]
    shape, cluster = case_shape(case), Cluster.resolve(case["system"])
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, case_deployment(case, data["engine"]))
    assert float(prefill_time(cost, 1, 8192)) == pytest.approx(0.2223, rel=0.05)
    assert decode_step_components(case, data["engine"], 1335, 510.0)["total"] == pytest.approx(0.0505, rel=0.07)
    point = operating_point(case, data)
    assert point["sequences_per_engine"] == pytest.approx(1335, rel=0.01)
    assert point["prefill_tokens_per_step"] == pytest.approx(3635, rel=0.01)
    assert point["model_step_s"] == pytest.approx(0.1337, rel=0.05)
    assert point["model_step_s"] < 0.8 * case["measured"]["tpot_mean_s"]


def test_offline_predictions_track_the_release_lines_kernel_sums_where_the_rows_depart_from_them(report):
    """NVIDIA's own estimate of each Offline row from its release line's measured kernels (AIConfigurator 0.7.0, PyPI
    wheel, `run_agg` at the workload's mean prompt / output, best over 32-256 (405B) or 128-2,048 sequences and
    2,048-8,192-token context chunks; TensorRT-LLM 1.0.0rc3 tables on H200, 1.0.0rc6 on B200, the line of the rows'
    TensorRT 10.11; fp8 cache and FMHA), output tokens/s per GPU: Llama 3.1 405B H200 TP8 fp8 (9,300 / 636) 56.5,
    Mixtral 8x7B H200 TP1 fp8 (396 / 145) 10,024, Llama 3.1 8B B200 TP1 nvfp4 (865 / 124) 19,776, H200 TP1 fp8
    7,530. The model's Offline predictions lie within ~10 % of them, while two of the published rows lie 22-23 %
    from them, both ways (H090 1.22x, H127 0.77x; H132 sits at 1.10x its sum since the 8B outputs are the checker's
    ~124 tokens): what those residuals hold is the engines against their own kernels' sum or the S- workloads, not
    a kernel (validation/notes/inference_frontier_tried.md, Round 16)."""
    aic_per_gpu = {"H090": 56.5, "H127": 10024.0, "H129": 19776.0, "H132": 7530.0}
    rows = {r["detail"]["row"]: r for r in report["cases"]}
    for row, aic in aic_per_gpu.items():
        assert 0.9 < rows[row]["predicted"] / 8 / aic < 1.12
    for row in ("H090", "H127"):
        assert abs(rows[row]["published"] / 8 / aic_per_gpu[row] - 1) > 0.2


def test_a_server_trial_on_sampled_engines_is_the_whole_pools_run(data):
    """`validation.inference.trial_engines`: the pool deals its requests round robin to independent engines, so a
    trial on the first k engines is those engines' run. With every request sent 8 times in a row, each of Llama 3.1
    8B H200's 8 engines (TP1 x 8) gets one copy of the same stream: the pool's percentiles, means and over-limit
    shares equal one engine's, which serves the original requests."""
    from infraplan.serving.workloads import Requests
    from infraplan.validation import inference

    case = next(c for c in data["cases"] if c["row"] == "H134")
    shape, cluster = inference.case_shape(case), Cluster.resolve(case["system"])
    dep = inference.case_deployment(case, data["engine"])
    assert dep.replicas == 8 and dep.engines_per_replica == 1
    base = inference.case_requests({**case, "requests": 600}, data["workloads"], 400.0 / 8)
    pool = Requests(*(np.repeat(a, 8) for a in (base.arrival_s, base.input_tokens, base.output_tokens)))
    kept, one = inference.trial_engines(pool, dep, 600)
    assert one.replicas == 1 and np.array_equal(kept.arrival_s, base.arrival_s)
    assert np.array_equal(kept.input_tokens, base.input_tokens)
    slo = {"ttft_slo_s": case["slo"]["ttft_s"], "tpot_slo_s": case["slo"]["tpot_s"], "front_end": False}
    whole = inference.simulate_deployment(shape, cluster, dep, pool, **slo)
    sampled = inference.simulate_deployment(shape, cluster, one, kept, **slo)
    assert whole["requests"] == 8 * sampled["requests"] == 4800
    for key in ("ttft_s", "tpot_s"):
        assert whole[key] == pytest.approx(sampled[key], rel=1e-12)
    assert whole["ttft_over_slo_count"] == 8 * sampled["ttft_over_slo_count"]
    assert whole["tpot_over_slo_count"] == 8 * sampled["tpot_over_slo_count"]
    assert whole["tpot_s"]["p99"] > 0.5 * case["slo"]["tpot_s"]  # a loaded engine, not an idle one


def test_trials_sample_the_fewest_engines_holding_a_dataset_and_never_lock_step_ranks(data):
    """The fewest engines whose share of the trial holds the dataset (ceil(E x N / n)); the whole pool where the
    trial is shorter than the dataset or the ranks step together (DeepSeek-R1's attention DP 8)."""
    from infraplan.serving.workloads import Requests
    from infraplan.validation import inference

    cases = {c["row"]: c for c in data["cases"]}
    dep = inference.case_deployment(cases["H131"], data["engine"])  # Llama 3.1 8B B200, TP1 x 8
    n = 80_000
    stream = Requests(np.arange(n) / 1000.0, np.full(n, 800), np.full(n, 128))
    for dataset, engines in ((13_368, 2), (10_000, 1), (10_001, 2), (79_999, 8), (200_000, 8)):
        kept, got = inference.trial_engines(stream, dep, dataset)
        assert got.replicas == engines and len(kept) == (n * engines // 8)
    r1 = inference.case_deployment(cases["H077"], data["engine"])
    kept, got = inference.trial_engines(stream, r1, 4388)
    assert got == r1 and len(kept) == n


def test_server_trials_last_loadgens_600_s_of_arrivals(report, data):
    """mlperf.conf:74 (*.Server.min_duration 600 s): every trial of the fast rows spans 600 s of arrivals, where one
    pass of the dataset (13,368 samples at ~1,300 req/s for Llama 3.1 8B B200) was ~10 s; at that length the
    predicted Interactive rate keeps its TPOT p99 within the 30 ms limit (hV51; Round 14 found 42.7 ms)."""
    from infraplan.validation.inference import simulate_case

    assert data["engine"]["server_min_duration_s"] == 600 and data["engine"]["server_sampled_engines"]
    cases = {c["row"]: c for c in data["cases"]}
    rows = {r["detail"]["row"]: r for r in report["cases"]}
    rate = rows["H131"]["detail"]["rate_per_s"]
    run = simulate_case(cases["H131"], data["engine"], data["workloads"], rate)
    assert run["requests"] >= 600 * rate / 8 * 0.99  # one engine's share of 600 s at the full rate
    assert run["duration_s"] >= 600.0
    assert rows["H131"]["detail"]["tpot_p99_s"] <= cases["H131"]["slo"]["tpot_s"]
