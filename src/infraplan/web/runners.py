"""Run a web request through the same Python API the CLI calls, returning the same typed result.

One function per command, each the body of the matching `cli/commands/*.py` function without its rendering:
same API calls, same defaults, so `POST /api/train` and `infraplan train ... --json` print the same JSON
(tests/web checks that by running the request's `cli()` line). `RESULT_MODELS` names each command's response
model for the OpenAPI spec (the union of its variants, as `infraplan schema` lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from pydantic import ValidationError

from infraplan.catalog.loader import model_config_warnings
from infraplan.cluster import Cluster
from infraplan.cluster.cost import CostOverrides
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import reliability_report
from infraplan.facility.results import FacilityReport, ReliabilityReport
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.costs import describe_fabric
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.results import CollectiveResult, NetworkReport
from infraplan.planning.campus import check_fleet_options, plan_campus, plan_fleet
from infraplan.planning.compare import compare_scenarios, plan_share, tornado, vary_ranges, vary_warnings
from infraplan.planning.fleet_mix_results import FleetMixResult
from infraplan.planning.results import CampusPlan, FleetSitesResult, SearchRunResult, TrainingRunResult
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioComparison, ScenarioPlan
from infraplan.planning.search_run import estimate_with_run, run_flags, search_with_run, searched_top
from infraplan.planning.shrunk_plan import PLAN_NOT_TAKEN, RELIABILITY_MODEL, check_plan_model, plan_reliability
from infraplan.planning.training_run import network_with_zone_note, serving_with_fabric_note
from infraplan.raised_warnings import raised_warnings
from infraplan.recsys.estimate import estimate_recsys
from infraplan.recsys.results import RecsysEstimate
from infraplan.results import Result, with_warnings
from infraplan.serving import run_progress
from infraplan.serving.capacity import search_capacity
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.results import ImageServingResult, ServingPlanResult, ServingResult
from infraplan.serving.serve_inputs import DEFAULT_REQUESTS, closed_loop_requests
from infraplan.serving.serving_api import estimate_serving
from infraplan.training.ep_choice import EVERY_EP
from infraplan.training.estimate import estimate_training
from infraplan.training.evaluation import eval_options
from infraplan.training.optimizer_models import checkpoint_bytes_per_param
from infraplan.training.results import PlanSearchResult, ScalingResult, TrainingEstimate
from infraplan.training.run_options import check_run_options
from infraplan.training.search import search_plans
from infraplan.units import (
    parse_bytes,
    parse_stated_bytes,
    parse_stated_power_w,
)
from infraplan.video.results import VideoEstimate
from infraplan.video.transcode import estimate_video
from infraplan.web.fleet_mix import run_fleet_mix
from infraplan.web.infrastructure_requests import (
    WEB_MAX_FLOW_GPUS,
    CampusRequest,
    CollectiveRequest,
    CompareRequest,
    FacilityRequest,
    NetworkRequest,
    PlanRequest,
    ReliabilityRequest,
)
from infraplan.web.request_fields import strict_type_words
from infraplan.web.requests import (
    WEB_MAX_REQUESTS,
    ModelOnSystemRequest,
    RecsysRequest,
    SearchRequest,
    ServePlanRequest,
    ServeRequest,
    TrainRequest,
    VideoRequest,
    WebRequest,
)
from infraplan.web.scenarios import read_warnings, resolve_request
from infraplan.web.uploads import on_disk, ref, uploads

Progress = Callable[[float], None]
"""A job's progress callback: the fraction done, 0..1."""


def train_estimate(r: TrainRequest) -> TrainingEstimate:
    """`train`'s estimate of the request's plan (its run aside): the web's train, and reliability's plan."""
    return estimate_training(ref(r.model), ref(r.system), r.gpus, tp=r.tp, pp=r.pp, dp=r.dp, cp=r.cp, ep=r.ep,
                               vpp=r.vpp, seq_len=r.seq_len, global_batch=r.global_batch, micro_batch=r.micro_batch,
                               recompute=r.recompute, recompute_layers=r.recompute_layers,
                               offload_layers=r.offload_layers, zero=r.zero,
                               dtype=r.dtype, attention=r.attention, order=r.order,
                               sequence_parallel=r.sequence_parallel, schedule=r.schedule,
                               stack=ref(r.stack), etp=r.etp, sharp=r.sharp, zero_shard=r.zero_shard,
                               lora_rank=r.lora_rank, lora_targets=r.lora_targets, optimizer=r.optimizer,
                             dsa_stage=r.dsa_stage, memory_margin=r.memory_margin)  # as `train --memory-margin`


def run_train(r: TrainRequest, progress: Progress | None = None) -> Result:
    evaluated = eval_options(r.eval_every, r.eval_samples, r.tokens, r.seq_len, r.global_batch)  # as `train`
    result = train_estimate(r)
    if r.tokens is not None:  # the CLI's `train --tokens` (`search_run.estimate_with_run`)
        return estimate_with_run(result, ref(r.model), ref(r.system), r.tokens, stack=ref(r.stack), sharp=r.sharp,
                                 location=ref(r.location),
                                 overrides=CostOverrides().merged(server_usd_per_accelerator=r.server_price),
                                 evaluated=evaluated, no_spare_policy=r.no_spare_policy)
    check_run_options(r.tokens, r.location, r.server_price, no_spare_policy=r.no_spare_policy)
    return result


def run_search(r: SearchRequest, progress: Progress | None = None) -> Result:
    evaluated = eval_options(r.eval_every, r.eval_samples, r.tokens, r.seq_len, r.global_batch)  # as `search`
    check_run_options(r.tokens, r.location, r.server_price, gpu_counts=len(r.gpus), no_spare_policy=r.no_spare_policy)
    results: list[PlanSearchResult] = []
    in_order: list[Callable[[Sequence[int]], PlanSearchResult]] = []  # (one search's answer in the runs' order)
    for i, n in enumerate(r.gpus):
        def tick(done: int, total: int, i: int = i) -> None:
            if progress is not None and total > 0:
                progress((i + done / total) / len(r.gpus))

        searched = partial(search_plans, ref(r.model), ref(r.system), n, r.seq_len, r.global_batch, dtype=r.dtype,
                           top=searched_top(r.top, r.tokens),  # (--tokens: its runs rank the first)
                           objective=r.objective, cross_node_tp=r.cross_node_tp,
                           schedules=(r.schedule,) if r.schedule else (), stack=ref(r.stack),
                           mfu_guard=r.mfu_guard, sharp=r.sharp, memory_margin=r.memory_margin,
                           compare_dtypes=len(r.gpus) == 1,  # as `search` (hD50)
                           lora_rank=r.lora_rank, lora_targets=r.lora_targets, optimizer=r.optimizer,
                           dsa_stage=r.dsa_stage,
                           ep_mask=None if len(r.gpus) == 1 else EVERY_EP)  # (nor an EP line)
        results.append(searched(progress=tick, in_order=in_order))
    if r.tokens is not None:  # the best plan's whole run, as the CLI's `search --tokens` (`search_with_run`)
        return search_with_run(results[0], ref(r.model), ref(r.system), r.tokens, stack=ref(r.stack), sharp=r.sharp,
                               memory_margin=r.memory_margin, location=ref(r.location),
                               overrides=CostOverrides().merged(server_usd_per_accelerator=r.server_price),
                               evaluated=evaluated, optimizer=r.optimizer, no_spare_policy=r.no_spare_policy,
                               flags=run_flags(r.tokens, ref(r.location), r.server_price, None, r.eval_every,
                                               r.eval_samples, r.no_spare_policy), top=r.top,
                               in_order=in_order[0])  # (its lines of the runs' best, hL75; hR76: no 2nd search)
    return results[0] if len(results) == 1 else ScalingResult.from_searches(results)


def serve_requests(r: ServeRequest) -> int | None:
    """The requests a web `serve` simulates: as given; a closed loop's default (10 per client, serving_api) within
    the web's cap (hU53); None: serving_api's own default. `run_serve`'s run simulates it (`estimate_serving` cuts
    the default to its `requests_cap`, said in a note) and `jobs.is_long` sizes it."""
    if r.requests is None and r.concurrency is not None:
        return min(closed_loop_requests(None, r.concurrency, None) or DEFAULT_REQUESTS, WEB_MAX_REQUESTS)
    return r.requests


def run_serve(r: ServeRequest, progress: Progress | None = None) -> Result:
    """`serve`; `progress` hears the share of its requests simulated and may stop the run (`serving.run_progress`;
    an image run reports none)."""
    with run_progress.reporting(progress):
        return _served(r)


def _served(r: ServeRequest) -> Result:
    return serving_with_fabric_note(estimate_serving(
        ref(r.model), ref(r.system), r.gpus, tp=r.tp, pp=r.pp, ep=r.ep, dtype=r.dtype, kv_dtype=r.kv_dtype,
        offline=r.offline, rate=r.rate, input_len=r.input_len, output_len=r.output_len, workload=ref(r.workload),
        trace=None,
        requests=r.requests, max_batch=r.max_batch, token_budget=r.token_budget, ttft_slo=r.ttft_slo,
        tpot_slo=r.tpot_slo, seed=r.seed, prefill_gpus=r.prefill_gpus, usd_per_gpu_hour=r.usd_per_hour,
        concurrency=r.concurrency, stack=ref(r.stack), engine=r.engine, attention_dp=r.attention_dp, moe_tp=r.moe_tp,
        speculative_tokens=r.speculative_tokens, acceptance=r.acceptance,
        prefill=PrefillLayout(r.prefill_tp, r.prefill_pp, r.prefill_ep, r.prefill_attention_dp, r.prefill_max_batch,
                              r.prefill_moe_tp, r.prefill_token_budget),
        requests_cap=WEB_MAX_REQUESTS),
        Cluster.resolve(ref(r.system)), r.usd_per_hour)  # as the CLI: the zoned-fabric note beyond one zone


def run_serve_plan(r: ServePlanRequest, progress: Progress | None = None) -> Result:
    return search_capacity(ref(r.model), ref(r.system), r.rate, workload=ref(r.workload), input_len=r.input_len,
                           output_len=r.output_len, ttft_slo=r.ttft_slo, tpot_slo=r.tpot_slo,
                           dtypes=tuple(r.dtypes), batch_caps=tuple(r.max_batch), token_budget=r.token_budget,
                           percentile=r.percentile,
                           max_gpus=r.max_gpus, requests=r.requests, disaggregation=r.disaggregation, seed=r.seed,
                           stack=ref(r.stack), kv_dtype=r.kv_dtype, speculative_tokens=r.speculative_tokens,
                           acceptance=r.acceptance, try_speculative=r.try_speculative,
                           progress=_job_stages(progress))  # its PP levels' searches and whole runs (hJ58)


def run_recsys(r: RecsysRequest, progress: Progress | None = None) -> Result:
    return estimate_recsys(ref(r.model), ref(r.accelerator), batch=r.batch, latency_slo_s=r.latency_slo)


def run_video(r: VideoRequest, progress: Progress | None = None) -> Result:
    return estimate_video(ref(r.device), r.input, r.ladder, r.codec, r.quality, r.daily_hours, r.peak_to_average,
                          ref(r.baseline))


def run_network(r: NetworkRequest, progress: Progress | None = None) -> Result:
    cluster = Cluster.resolve(ref(r.system))  # an accelerator preset at any size, as the CLI
    sized = cluster if r.gpus is None else cluster.for_gpus(r.gpus)
    return network_with_zone_note(describe_fabric(with_fabric(sized.system, r.fabric), r.gpus, None,
                                                   whole=sized.generic), sized, r.fabric)


def run_collective(r: CollectiveRequest, progress: Progress | None = None) -> Result:
    if r.sim == "flow" and r.gpus > WEB_MAX_FLOW_GPUS:
        raise InputError(f"--sim flow from the web is limited to {WEB_MAX_FLOW_GPUS:,} GPUs (the CLI has no limit)")
    cluster = sized = Cluster.resolve(ref(r.system)).for_gpus(r.gpus)
    if r.fabric is not None:
        cluster = replace(cluster, system=with_fabric(cluster.system, r.fabric))
    return network_with_zone_note(estimate_collective(
        r.op, cluster, r.gpus, parse_bytes(r.size, name="--bytes"), placement=r.placement, algorithm=r.algorithm,
        sim=r.sim, flows_per_pair=r.flows_per_pair, seed=r.seed, failed_links=r.failed_links, sharp=r.sharp),
        sized, r.fabric)


def run_facility(r: FacilityRequest, progress: Progress | None = None) -> Result:
    overrides = CostOverrides().merged(pue=r.pue, electricity_usd_per_mwh=r.electricity_price,
                                       server_usd_per_accelerator=r.server_price)
    return size_facility(system=ref(r.system), accelerator=ref(r.accelerator), count=r.count, cooling=r.cooling,
                         location=ref(r.location), build_type=r.build_type,
                         rack_power_w=parse_stated_power_w(r.rack_power, "--rack-power") if r.rack_power else None,
                         overrides=overrides)


def run_campus(r: CampusRequest, progress: Progress | None = None) -> Result:
    overrides = CostOverrides().merged(pue=r.pue, electricity_usd_per_mwh=r.electricity_price,
                                       server_usd_per_accelerator=r.server_price)
    if r.fleet:
        check_fleet_options(r.power, r.accelerator, r.reserve, **{"--phases": r.phases, "--cooling": r.cooling,
                            "--location": r.location, "--build-type": r.build_type})
        return plan_fleet(ref(r.fleet), overrides)
    if not r.power or not r.accelerator:
        raise InputError("give --power and --accelerator (or --fleet SPEC.yaml)")
    return plan_campus(parse_stated_power_w(r.power, "--power"), ref(r.accelerator), r.cooling, r.phases,
                       ref(r.location), r.build_type, overrides, reserve=r.reserve)


def run_reliability(r: ReliabilityRequest, progress: Progress | None = None) -> Result:
    size = parse_stated_bytes(r.checkpoint_size, "--checkpoint-size") if r.checkpoint_size is not None else None
    if size is not None and size <= 0:
        raise InputError(f"--checkpoint-size must be above 0 bytes, got {r.checkpoint_size!r}")
    model, optimizer = ref(r.model) or RELIABILITY_MODEL, r.optimizer or "adam"  # (null: not given, hR76)
    options: dict[str, Any] = {
        "days": r.days, "model": model, "failure_rate": ref(r.failure_rate), "restart_s": r.restart_s,
        "checkpoint_size_bytes": size, "spare_trays_per_domain": r.spare_trays_per_domain, "repair_s": r.repair_s,
        "checkpoint_interval_s": r.checkpoint_interval_s,
        "checkpoint_bytes_per_param": checkpoint_bytes_per_param(optimizer, model if size is None else None),
        "optimizer": optimizer,  # as `reliability --optimizer`
        "no_spare_policy": r.no_spare_policy, "shrink_unit_gpus": r.shrink_unit}
    if r.plan is None:
        return reliability_report(ref(r.system), r.gpus, **options)
    plan = reliability_plan(r)  # `reliability --plan`: the job's plan, shrunk as train --tokens shrinks it
    return plan_reliability(train_estimate(plan), ref(r.system), sharp=plan.sharp, **options)


def reliability_plan(r: ReliabilityRequest) -> TrainRequest:
    """The train request of reliability's `plan` (train's fields, read by the web's train request: its one
    parser), on the job's model (given: `check_plan_model`), system, GPUs and optimizer (given, else train's)."""
    if given := [k for k in (r.plan or {}) if k in PLAN_NOT_TAKEN]:
        raise InputError(f"plan takes train's plan fields (tp, pp, seq_len, global_batch, ...), not {given[0]}: the "
                         "job's model, system, gpus and optimizer are reliability's own")
    check_plan_model(r.model is not None, "model")
    try:  # (optimizer null: train's, as the CLI's --optimizer not given)
        return TrainRequest.model_validate({**(r.plan or {}), "model": r.model, "system": r.system, "gpus": r.gpus,
                                            "optimizer": r.optimizer})
    except ValidationError as exc:  # in the body's words (1e30: "must be a whole number; ... is too large", hB76)
        first = exc.errors()[0]
        words = strict_type_words(first) or str(first["msg"]).replace("Input should be", "must be")
        raise InputError(f"plan.{'.'.join(str(p) for p in first['loc'])}: {words}") from None


def _job_stages(progress: Progress | None) -> Callable[[str, float, float], None]:
    """A plan's stages (`planning.scenario.plan_scenario`'s progress), or serve-plan's
    (`serving.replica_search.SearchProgress`), as the job's fraction done."""
    def stages(_stage: str, done: float, total: float) -> None:
        if progress is not None:
            progress(done / total)
    return stages


def run_plan(r: PlanRequest, progress: Progress | None = None) -> Result:
    spec = resolve_request(r)[0]  # as `plan_with_tornado`, from a validated spec instead of a path
    ranges = vary_ranges(spec, list(r.vary))  # a bad range refused before the plan runs
    stages = _job_stages(progress)
    plans = 1 + 2 * len(r.vary)  # the plan, then each --vary range's two ends (`planning.compare.tornado`)
    plan = plan_scenario(spec, r.optimality_gap, plan_share(stages, 0, plans, "plan") if r.vary else stages)
    plan = plan.model_copy(update={"tornado": tornado(spec, list(r.vary), stages, 1, ranges)}) if r.vary else plan
    # what the CLI prints on stderr reading the file and the ranges (an old price key, a bare electricity range)
    read = [*read_warnings(r.scenario), *vary_warnings(list(r.vary))]
    return plan.model_copy(update={"warnings": [*read, *plan.warnings]}) if read else plan


def run_compare(r: CompareRequest, progress: Progress | None = None) -> Result:
    comparison = compare_scenarios(list(resolve_request(r)), _job_stages(progress))
    # each scenario's, as run_plan's (and as the CLI's compare --json: cli/commands/compare.py)
    return comparison.with_read_warnings([read_warnings(item, i) for i, item in enumerate(r.scenarios)])


RUNNERS: dict[str, Callable[[Any, Progress | None], Result]] = {
    "train": run_train, "search": run_search, "serve": run_serve, "serve-plan": run_serve_plan,
    "recsys": run_recsys, "video": run_video, "network": run_network, "collective": run_collective,
    "facility": run_facility, "campus": run_campus, "reliability": run_reliability, "plan": run_plan,
    "compare": run_compare, "fleet-mix": run_fleet_mix,
}
"""Command -> the function that answers its request."""

RESULT_MODELS: dict[str, Any] = {
    "train": TrainingEstimate | TrainingRunResult,
    "search": SearchRunResult | PlanSearchResult | ScalingResult,
    "serve": ServingResult | ImageServingResult,
    "serve-plan": ServingPlanResult,
    "recsys": RecsysEstimate,
    "video": VideoEstimate,
    "network": NetworkReport,
    "collective": CollectiveResult,
    "facility": FacilityReport,
    "campus": CampusPlan | FleetSitesResult,
    "reliability": ReliabilityReport,
    "plan": ScenarioPlan,
    "compare": ScenarioComparison,
    "fleet-mix": FleetMixResult,
}
"""Command -> its response model (a union where the command has variants), for the OpenAPI spec."""


def config_warnings(request: WebRequest, local: WebRequest) -> list[str]:
    """The lines the CLI prints on stderr reading an uploaded config.json (a key not understood, no model_type, a
    default filled in: `catalog.loader.model_config_warnings`), which reached only the server's log (hG56): said
    again from the file, where the run's own record (`raised_warnings`) may lack them (a config a concurrent request's
    `warnings.catch_warnings` read). A preset states every key (tests/catalog): none."""
    if not isinstance(local, ModelOnSystemRequest | ReliabilityRequest) or "model" not in uploads(request):
        return []  # recsys's model is a recsys model YAML, not a config.json
    try:
        return list(model_config_warnings(ref(local.model) or ""))  # (an upload: a path)
    except InputError:  # the runner read the same file: unreachable, but a note is not worth a failed answer
        return []


def run(request: WebRequest, progress: Progress | None = None) -> Result:
    """The typed result of one request (InputError on bad input, as the CLI). Uploaded files (`web.uploads`) are
    read from a temporary folder by the CLI's loaders; the lines and the result name each by its file name. The
    warnings the run raised are in the answer as in the CLI's `--json` (`results.with_warnings`, hJ59)."""
    with on_disk(request) as (local, shown):
        try:
            with raised_warnings() as raised:
                result = RUNNERS[request.command](local, progress)
            result = with_warnings(result, [*raised, *config_warnings(request, local)])
        except InputError as exc:
            raise InputError(shown(str(exc))) from None
        if local is not request and (text := result.model_dump_json()) != shown(text):
            result = type(result).model_validate_json(shown(text))  # a note naming the file: its name, not the folder
        return result
