"""`infraplan schema COMMAND`: every command's --json validates against its result model's schema."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from infraplan.cli import main
from infraplan.cli.commands.schema import RESULT_MODELS, json_schema, result_model
from infraplan.training.results import TrainingEstimate

# one small real run per command (variant) of the registry
RUNS: dict[str, list[str]] = {
    "train": ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "2048",
              "--global-batch", "8"],
    "train --tokens": ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8",
                       "--seq-len", "2048", "--global-batch", "8", "--tokens", "1T"],
    "search": ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "2048",
               "--global-batch", "8", "--top", "2"],
    "search --tokens": ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "2048",
                        "--global-batch", "8", "--top", "2", "--tokens", "1T"],
    "search --gpus A,B": ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8,16", "--seq-len",
                          "2048", "--global-batch", "16", "--top", "1"],
    "serve": ["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--offline", "--input-len", "64",
              "--output-len", "16", "--requests", "50"],
    "serve-plan": ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--workload", "chat", "--ttft-slo",
                   "1", "--tpot-slo", "0.05", "--requests", "60", "--rate", "2", "--max-gpus", "2"],
    "recsys": ["recsys", "dlrm-low", "--accelerator", "mtia-v1", "--latency-slo", "20ms"],
    "video": ["video", "--device", "xeon-8480", "--input", "1080p30", "--ladder", "3", "--daily-hours", "100"],
    "network": ["network", "dgx-h100-superpod", "--gpus", "512"],
    "collective": ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "16", "--bytes", "1GiB"],
    "facility": ["facility", "--system", "meta-genai-roce-24k"],
    "reliability": ["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--days", "54"],
    "campus": ["campus", "--power", "100MW", "--accelerator", "h100-sxm"],
    "campus --fleet": ["campus", "--fleet", "meta-2024"],
    "fleet-mix": None,  # needs a spec file: covered by tests/planning/test_fleet.py
    "validate": None,  # slow (every published case): covered by the round trip below on a reduced report
}

# names without a unit suffix that are unitless by nature: counts, ratios, fractions, names, flags, text
UNITLESS = {
    "stack", "router",  # serve-plan's router: a name (hB47)
    "load_balancing", "load_balancing_stated", "load_balancing_basis",  # network: adaptive | ecmp, a flag, text (hE75)
    "model", "system", "accelerator", "gpus", "tp", "pp", "dp", "cp", "ep", "etp", "vpp", "micro_batch", "global_batch",
    "seq_len", "recompute", "zero", "dtype", "attention", "order", "sequence_parallel", "micro_batches", "schedule",
    "recompute_layers", "offload_layers",  # counts of layers
    "zero_shard",  # ranks ZeRO shards over (hybrid sharding), a count as dp
    "lora_rank", "lora_targets",  # train --lora-rank: a rank (a count as tp); the projections' names (hF55)
    "optimizer",  # train / search --optimizer: adam | muon, a name (hJ60)
    "dsa_stage",  # train --dsa-stage: sparse | warmup, a name (hJ61)
    "executed_flops_utilisation", "mfu_flop_convention",  # a fraction of peak; the FLOP count's name (hF45)
    "cuda_graphs",  # train / search rows: whether the plan replays CUDA graphs, a flag (hT70)
    "mfu", "hfu", "fits", "memory_overflow_term", "config", "warnings", "parameters", "objective", "best", "top",
    "best_run",  # search --tokens: the best plan's train --tokens object (hL60)
    "total_parameters", "active_parameters", "layers", "context_tokens",  # catalog models' counts (hU59)
    "active_parameters_without_input_embedding",  # a count, OpenAI's gpt-oss card convention (hV77)
    "ep_choice",  # search: the "why this EP" line, text (hU59)
    "reason", "mfu_guard",
    "feasible",  # serve-plan's flag (a count is `*_count`: search's evaluated_count / feasible_count, hF65)
    "scaling", "workload", "offline", "seed",
    "requests_clipped_to_context",
    "why", "deployment", "requests", "slo", "slo_attainment", "mean_input_tokens", "mean_output_tokens",
    "busy_fraction", "iterations", "assumptions", "power", "scheduler", "replicas", "kv_dtype", "max_batch",
    "token_budget", "block_tokens", "kv_cache_tokens_per_replica", "disaggregated", "prefill_replicas",
    "decode_replicas", "steps", "diffusion_model", "percentile", "meets_slo_full_run", "serve", "alternatives",
    "rejected", "batch", "bound", "meets_slo", "flops_per_sample",
    "lookups_per_sample", "placement", "profile", "label", "dense_fraction", "device", "kind", "streams_per_device",
    "encoder", "cores", "input", "codec", "quality", "fleet", "daily_hours", "peak_to_average",
    "concurrent_streams", "devices", "new_devices", "retired_devices",  # counts (plan's phase and pool rows, hV54)
    "idle_devices",  # a count: devices in bought servers no service uses (plan's pool rows, hR63)
    "full_run_seeds",  # serve-plan: the seeds of the runs judged together, numbers without a unit (hQ63)
    "name", "switches", "radix", "oversubscription", "configured_oversubscription",
    "bandwidth_oversubscription",  # a ratio of bandwidths (hN58)
    "priced_efficiency", "priced_basis",  # a fraction of the alpha-beta bandwidth; the figure's source (hT71)
    "time_basis",  # text: where `collective`'s time_s comes from (hC52)
    "domains", "domain_gpus", "planes", "down_ports_per_switch", "up_ports_per_switch", "links_from_below",
    "switch_model", "link_medium", "transceivers", "rail_optimized", "tiers", "switches_total", "links_total",
    "transceivers_total", "rail_only", "graphml", "sources", "op", "stride", "algorithm", "sim", "flows_per_pair",
    "flows",
    "bottleneck_tier", "cases", "summary", "plan_ranking", "sections", "id", "metric", "published", "predicted",
    "error", "plan_source", "plan", "gated", "known_gap", "source", "gated_cases", "mean_abs_error",
    "max_abs_error", "all_cases", "mean_abs_error_all", "max_abs_error_all", "gate", "passes_gate", "spearman",
    "median_predicted_over_measured", "scenario", "published_value", "detail", "tolerance", "pass_range",
    "assumed", "passed", "passes", "phase_times", "mean", "max", "fps", "p50", "p90", "p99",
    "train_command", "best_run_command", "serve_command", "difference_reason", "engine", "concurrency",
    "error_band", "ttft_error_band", "error_band_basis",
    "cases_used", "campaigns_used", "case", "campaign",  # an error band's pool: ids, names (hX59)
    "cases_line",  # text: a few of those cases, as the CLI prints them under the band (hF60)
    "residual", "residual_min", "residual_max",  # fractions, predicted / measured - 1, as low / high (hX59)
    "low", "high", "basis", "beyond_published_mfu", "beyond_published_mfu_reason", "notes", "sets",
    "low_memory_headroom", "low_memory_headroom_reason",
    "baseline", "baseline_constant", "baseline_mean_abs_error", "baseline_max_abs_error",
    "gate_mean_abs_error", "beats_baseline", "awaiting", "predicted_mfu",
    "attention_dp", "moe_tp", "speculative_tokens", "checkpoint_size_basis", "acceptance", "tokens_per_step",
    "prefill", "decode", "full_run_requests", "weight_format", "kv_dtype_source", "tp_source", "mla_decode_kernel",
    "figures_note",
    "streams_per_device_ratio", "comparison", "published_ratio", "published_basis", "host_share",  # ratios, text
    "per_token_basis",  # text: the rate serve's per-token energy and cost are over (hJ57)
    "stack_basis",  # text: the software an image answer assumes (hU67)
    "dtype_choice", "chosen", "model_class", "considered", "left_out", "alternative", "alternative_mfu",  # hD50
    "mfu_ceilings", "flop_convention", "family", "stack_class", "figure_dtype", "lookup", "fallback", "ranks",
    "fastest_ranked_after_mfu",  # the search's published-MFU ceilings: names, flags, a fraction of peak (hG52)
    "fastest_ranked_after_config",  # that plan's layout: counts and names, as `config` (hF59)
    "reserve_fraction",  # campus --reserve: a share of the power budget (hU53)
    "prefill_tp", "prefill_attention_dp", "prefill_ep",  # serve-plan's prefill pool of its own layout (hY53)
    "prefill_moe_tp",  # and its MoE TP (hY54)
    "eval_every_sequences", "eval_every_steps", "eval_samples", "evaluations",  # train --eval-every: counts (hP55)
    "evaluation_share",  # a fraction of the run's wall clock (hP55)
    # hN56: facility, reliability, campus (--fleet), fleet-mix, train --tokens, sweep, results, plan, compare,
    # catalog checked too. Counts (their descriptions say "(count)"):
    "accelerators", "accelerators_per_rack", "buildings", "concurrent_jobs", "devices_bought", "devices_per_server",
    "fabric_accelerators", "full_racks", "gpus_held", "job_gpus", "network_tiers", "racks", "server_gpus",
    "servers", "servers_per_rack", "servers_per_rack_by_power", "servers_per_rack_by_space", "spare_devices",
    "spare_nodes", "spare_trays_per_domain", "switch_ports", "used", "priced_at_devices", "scale_up_domain_gpus",
    "failure_rate_node_gpus", "workers", "points", "points_failed", "points_run", "points_skipped", "rows",
    "rows_considered", "optimality_solves", "pricing_rounds", "tokens", "tokens_per_run",
    "expected_gpus_out_of_service", "expected_nodes_down", "expected_interruptions", "expected_planned_interruptions",
    "expected_unexpected_interruptions", "interruptions_by_component",  # means of counts; counts by root cause
    "h100_equivalents", "published_h100_equivalents",  # a count of H100s of equal dense bf16 peak (Epoch AI)
    "available",  # fleet-mix pool: devices (count, null unlimited); campus training_capacity: a flag
    # fractions and ratios of like quantities
    "goodput", "goodput_at_daly_interval", "goodput_of_gpus_held", "load_factor", "pue", "fraction",
    "goodput_with_repairs",  # goodput with the no-spare policy's waits or smaller size (hR74), a fraction
    "extrapolated",  # video: a video ASIC's job beyond its published modes, a flag (hR74)
    "no_spare_policy",  # train --tokens / reliability --no-spare-policy: shrink | wait, a name (hR74)
    "shrink_unit_gpus",  # reliability --shrink-unit: GPUs a shrinking job sheds together (count, hR74)
    "slo_headroom", "utilisation", "h100_equivalents_vs_published", "cost_error_band",
    "year",  # a calendar year (2025.5: 1 July 2025), a date, not a duration
    "date",  # campus phase: that year as the outputs write it (2025-07: units.year_text, hT59)
    # names, text, flags, and containers whose own fields carry the units
    "backend", "build_type", "checkpoint_interval_basis", "climate", "cooling", "cost_error_band_basis",
    "cost_reason", "count_note", "rack_fabric_note",
    "capex_unpriced_parts",  # facility / campus: names of the capex parts without a price (servers), hK76
    "demand_unit", "objective_unit", "unit", "directory", "display_name",
    "embodied_co2_reason", "embodied_co2_t_reason", "failure_rate", "failure_rate_counts", "failure_rate_source",
    "figures_notes", "full", "function", "gpu_only_note", "h100_equivalents_vs_published_reason", "interrupted",
    "complete", "limited_by", "location", "note", "optimality", "parameter", "phase", "plot", "pool",
    "price_note", "pricing", "pricing_converged", "rack_power_limit_source", "reference_system", "rule", "service",
    "serving_stack", "serving_stack_basis", "spare_rate_basis", "site", "sql", "columns", "pareto", "config_warnings",
    "errors",
    "assignment", "deltas", "entries", "excluded", "facility", "gpu_only", "kinds", "metrics", "network", "phases",
    "pools", "rack_fit", "racks_by_fill", "risks", "saving_vs_gpu_only", "scenarios", "services", "sites", "solver",
    "supported_services", "tornado", "totals", "training_capacity",
    # hC58: an LLM row's weight format and its precision in words; compare's precision lines, the formats every
    # side runs, and the headline metrics re-planned at them (keyed by `metrics`, each in its field's unit)
    "weight_dtype", "precision", "precision_notes", "like_for_like_dtypes", "like_for_like", "like_for_like_kv_dtypes",
}
# a number whose unit is another field of the same model (a plan's demand in requests/s, qps, streams or runs)
UNIT_IN_FIELD = {"demand": "demand_unit", "served": "demand_unit", "objective_value": "objective_unit",
                 "objective_lower_bound": "objective_unit", "low_value": "unit", "high_value": "unit"}
UNIT_SUFFIXES = ("_s", "_bytes", "_w", "_usd", "_j", "_mwh", "_t", "_px", "_gbps", "_per_s", "_per_w",
                 "_per_gpu", "_per_kwh", "_per_hour", "_per_year", "_m2", "_l", "_kg", "_hours",
                 "_count",  # a count is its own unit (ttft_over_slo_count: requests)
                 "_fraction",  # a fraction of 1, as a count (node_out_of_service_fraction, hN56)
                 "_per_day",  # expected_interruptions_per_day: a count per day (hN56)
                 "_u")  # rack units, 1.75 in (EIA-310): rack_height_u, server_height_u (hN56)
# a unit spelled inside the name (joules_per_token, usd_per_million_tokens, core_seconds_per_video_second;
# days: reliability's `days` as its --days, failures_per_1000_node_days; years: lives_years)
UNIT_WORDS = {"s", "bytes", "w", "usd", "joules", "watts", "seconds", "qps", "j", "days", "years"}
# models whose every field has one unit, stated in the class docstring
UNIT_CONTAINERS = {"StepBreakdown", "HostExposedPhases", "MemoryBreakdown", "Percentiles"}
EVERY_COMMAND = list(RESULT_MODELS)  # hN56: was 9 of them (train, search, serve, ..., validate); ~145 names unchecked


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _available(command: str) -> Any:
    try:
        return result_model(command)
    except (ImportError, AttributeError):
        pytest.skip(f"{RESULT_MODELS[command]} does not exist yet")


@pytest.mark.parametrize("command", [c for c, args in RUNS.items() if args is not None])
def test_json_output_validates_against_the_schema(capsys: pytest.CaptureFixture[str], command: str) -> None:
    model = _available(command)
    out = _run(capsys, RUNS[command])  # type: ignore[arg-type]
    data = json.loads(out)
    schema = json_schema(command)
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
    if jsonschema is not None:
        jsonschema.validate(data, schema)
    parsed = TypeAdapter(model).validate_json(out)  # round trip: the JSON is the model's serialisation
    assert json.loads(parsed.to_json()) == data
    assert set(schema.get("required", [])) <= set(data) or "anyOf" in schema


def test_every_registry_entry_imports() -> None:
    missing = []
    for command, ref in RESULT_MODELS.items():
        try:
            result_model(command)
        except (ImportError, AttributeError):
            missing.append(ref)
    assert not missing, f"result models missing: {missing}"


def test_registry_covers_every_cli_command() -> None:
    from infraplan.cli.main import COMMANDS

    assert {c for c in COMMANDS if c not in ("schema", "web")} <= {c.split()[0] for c in RESULT_MODELS}


def _walk(schema: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for name, definition in schema.get("$defs", {}).items():
        out += [(name, prop) for prop in definition.get("properties", {})]
    out += [(str(schema.get("title")), prop) for prop in schema.get("properties", {})]
    return out


def _models(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every model of a command's schema (its $defs and the top level) -> its properties."""
    out = {name: d.get("properties", {}) for name, d in schema.get("$defs", {}).items()}
    out[str(schema.get("title"))] = schema.get("properties", {})
    return out


@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_field_names_carry_a_unit_or_are_unitless(command: str) -> None:
    _available(command)
    models = _models(json_schema(command))
    bad = [f"{model}.{prop}" for model, prop in _walk(json_schema(command))
           if model not in UNIT_CONTAINERS and prop not in UNITLESS and not prop.endswith(UNIT_SUFFIXES)
           and not UNIT_WORDS & set(prop.split("_"))
           and UNIT_IN_FIELD.get(prop) not in models[model]]  # its unit field sits beside it
    assert not bad, bad


@pytest.mark.parametrize("command", EVERY_COMMAND)
def test_every_field_is_described(command: str) -> None:
    _available(command)
    for name, properties in _models(json_schema(command)).items():
        for prop, spec in properties.items():
            assert spec.get("description"), f"{name}.{prop} has no description"


def test_every_unitless_name_is_a_field() -> None:
    """A rename leaves no stale UNITLESS entry behind (one would let a future field of that name pass unchecked)."""
    names = {prop for command in RESULT_MODELS for _, prop in _walk(json_schema(command))}
    assert not (UNITLESS | set(UNIT_IN_FIELD)) - names, sorted((UNITLESS | set(UNIT_IN_FIELD)) - names)


def test_results_are_frozen(capsys: pytest.CaptureFixture[str]) -> None:
    r = TrainingEstimate.model_validate_json(_run(capsys, RUNS["train"]))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        r.step_time_s = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        r.config.tp = 2  # type: ignore[misc]


def test_validation_report_round_trips() -> None:
    from infraplan.validation.results import ValidationReport
    from infraplan.validation.runner import run_validation

    report = run_validation(include_ranking=False, include_sections=False)
    text = report.to_json()
    assert "plan_ranking" not in json.loads(text)  # not asked for: left out, as before
    assert ValidationReport.model_validate_json(text) == report


def test_schema_cli_lists_prints_and_rejects(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(c in listed for c in ("train", "serve-plan", "validate"))
    assert main(["schema", "collective"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "busbw_bytes_per_s" in schema["properties"]
    assert main(["schema", "trian"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'train'" in err and len(err.strip().splitlines()) == 1


def test_registry_models_import_lazily() -> None:
    module = importlib.import_module("infraplan.cli.commands.schema")
    assert all(":" in ref for ref in module.RESULT_MODELS.values())
