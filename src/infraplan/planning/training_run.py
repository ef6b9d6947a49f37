"""Totals of a whole training run: wall-clock time with failures and checkpoints, GPU-hours, energy, CO2, cost.

`training_run_totals` takes the estimate `infraplan.training.estimate_training(...)` returns and the number of
tokens to train on. Compute time = tokens / tokens_per_s; the reliability model (facility/reliability.py) gives
the job's MTTF, the Daly checkpoint interval and the goodput, so time_to_train_s = compute time / goodput, the
goodput with repairs where the job's system runs out of spares at times (`goodput_with_repairs`: what the job does
then, `--no-spare-policy`, facility/spare_policy.py; the goodput itself where spares always suffice). A run
that evaluates (`train --eval-every N --eval-samples S`, `training.evaluation.InRunEvaluation`) pays one forward-only
evaluation at the end of every whole interval of ceil(N / global batch) steps, the validation runner's rule
(`evaluation.with_evaluation_rate`, MLPerf's time to train): time_to_train_s = (compute time + evaluations) / goodput,
and GPU-hours, energy, CO2 and cost follow that wall clock, on the job's whole servers (`WHOLE_SERVERS`). Energy
counts every allocated accelerator at its share of the cluster's peak IT load (accelerator at TDP, host,
network, storage) times the site's PUE and load factor, for the whole wall-clock time: the average draw under load,
the one load factor (economics.yaml, 0.8) `facility`'s energy and the cost model's electricity count (hC57,
`RUN_ENERGY_AT_LOAD_FACTOR`; before, the peak: the run's energy was 1.25x the electricity its $/GPU-hour priced).
`co2_model_card_t` is the cards' own formula, GPU-hours x TDP x PUE x grid, beside it (hC56: on a DGX A100 a card's
tonnes are 1.8x below co2_t, the host, network and storage share; 2.3x at peak); cost = GPU-hours
x the cluster's price of an owned accelerator-hour (cluster/cost.py, the one cost model); CO2 is location-based
(carbon.py), with the amortised embodied share.
Time, GPU-hours, energy and CO2 need no price: without a server price for the accelerator (catalog, --server-price
or a --costs file) the cost fields are None and `cost_reason` says which price is missing (as `facility` does).
"""

from __future__ import annotations

import dataclasses
import shlex
from typing import Any, TypeVar

from infraplan.catalog import load_model
from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import System
from infraplan.cluster import Cluster
from infraplan.cluster.cost import (
    SECONDS_PER_HOUR,
    ClusterCost,
    CostOverrides,
    SiteInputs,
    cluster_cost,
    job_site_cost,
    missing_server_price,
    price_note,
    site_inputs,
)
from infraplan.cluster.generic import generic_part_notes
from infraplan.errors import InputError
from infraplan.facility.campus_fabric import built_load, zone_accelerators
from infraplan.facility.carbon import amortised_embodied_co2_t, model_card_co2_t, operational_co2_t
from infraplan.facility.facility import embodied_per_accelerator_kg
from infraplan.facility.failure_rate_notes import goodput_basis_note
from infraplan.facility.outage import DEFAULT_REPAIR_S, domain_hold, domain_note
from infraplan.facility.reliability import held_goodput, job_reliability, resolve_failure_rate, spare_note
from infraplan.facility.spare_policy import PlanSpeed, plan_shrink_unit, short_of_spares, unused_policy_note
from infraplan.limits import DEFAULT_NO_SPARE_POLICY, MAX_TRAINING_TOKENS, check_policy
from infraplan.network.results import CollectiveResult, NetworkReport
from infraplan.planning.results import TrainingRunTotals
from infraplan.planning.shrunk_plan import shrunk_speed
from infraplan.serving.results import ImageServingResult, ServingResult
from infraplan.training.evaluation import InRunEvaluation, evaluations_in_run, no_evaluation_note
from infraplan.training.flops import forward_flops_per_token_layer
from infraplan.training.optimizer_models import OPTIMIZERS, checkpoint_bytes_per_param
from infraplan.training.results import TrainingEstimate
from infraplan.units import counted, significant_text

RUN_ENERGY_AT_LOAD_FACTOR = True  # hC57: a run's energy at the average draw (peak x load factor), not the peak


def training_run_totals(train_result: TrainingEstimate, system: str | System | Cluster, tokens: float,
                        location: str | None = None, cooling: str | None = None, failure_rate: str | None = None,
                        storage: str = "tectonic", restart_s: float | None = None,
                        overrides: CostOverrides | None = None, typed: str | None = None,
                        evaluation: InRunEvaluation | None = None, shape: TransformerShape | None = None,
                        no_spare_policy: str = DEFAULT_NO_SPARE_POLICY, sharp: bool = False) -> TrainingRunTotals:
    """Wall-clock, goodput, MTTF, checkpoint interval, GPU-hours, energy, CO2 and cost of training on `tokens`.
    `typed`: what the user typed for the system, which the notes' commands name where it is a file (`typed_part`).
    `evaluation`: the run's periodic evaluation (`training.evaluation.in_run_evaluation`), its time in the wall
    clock. `shape`: the model priced, whose parameter groups size an optimizer's checkpoint
    (`optimizer_checkpoint_bytes`; None: the estimate's model by its preset name). `no_spare_policy`: what the job
    does while its system has no spare unit (`facility.spare_policy`: the wall clock at `goodput_with_repairs`, a
    shrunk job at its smaller plan's speed, `shrunk_plan`; `sharp`: `train --sharp`, which that plan keeps)."""
    check_policy(no_spare_policy)
    if not 0 < tokens <= MAX_TRAINING_TOKENS:
        raise InputError(f"--tokens must be positive and at most {MAX_TRAINING_TOKENS:.0e} (~25x the largest "
                         f"published corpus), got {tokens:g}")
    step_tokens = int(train_result.config.global_batch) * int(train_result.config.seq_len)
    if tokens < step_tokens:  # a run trains whole steps: a fraction of one step has no wall clock, MTTF or checkpoints
        raise InputError(f"--tokens {tokens:,.6g} is less than one step's {step_tokens:,} tokens (global batch "
                         f"{train_result.config.global_batch:,} x sequence {train_result.config.seq_len:,})")
    gpus = int(train_result.config.gpus)
    cluster = Cluster.resolve(system).for_gpus(gpus)
    tokens_per_s = float(train_result.tokens_per_s)
    if tokens_per_s <= 0:
        raise InputError("the training estimate has no throughput")
    accelerator = cluster.accelerator  # a what-if: its preset's failure rate; a file from scratch: the default's
    rel = job_reliability(accelerator, gpus, float(checkpointed_params(train_result)), failure_rate, storage, None,
                          restart_s, checkpoint_size_bytes=optimizer_checkpoint_bytes(train_result, shape),
                          server_accelerators=cluster.layout.accelerators_per_server)
    speed = shrunk_speed(train_result, system, shape, sharp)
    repaired, short, hold = goodput_with_repairs(cluster, train_result.config, rel, failure_rate, no_spare_policy,
                                                 speed)
    spares = spare_note(cluster, gpus, rel, hold, DEFAULT_REPAIR_S, short)  # what the goodput assumes, and the policy
    compute_s = tokens / tokens_per_s
    evaluations = evaluations_in_run(tokens, step_tokens, evaluation.steps_between) if evaluation else 0
    evaluation_time_s = evaluations * evaluation.seconds if evaluation else 0.0
    wall_s = (compute_s + evaluation_time_s) / repaired
    running_s = wall_s * (short["full_size_fraction"] if short and short["policy"] == "wait" else 1.0)  # (not idle)
    billed = int(rel["accelerators_held"])  # its whole servers: a partial server is billed whole (`WHOLE_SERVERS`)
    billed = billed if WHOLE_SERVERS else gpus
    gpu_hours = billed * wall_s / SECONDS_PER_HOUR
    site = site_inputs(cluster.layout, cooling, location, None, overrides)
    no_price = missing_server_price(cluster.accelerator, site.overrides)
    if no_price is not None:  # $0 servers only to reach the power and energy; the cost fields are then None
        site = dataclasses.replace(site, overrides=site.overrides.merged(server_usd_per_accelerator=0.0))
    money = job_site_cost(cluster, gpus, site)
    facility_w_per_gpu = money.load.it_w * site.pue / money.load.accelerators
    load_factor = site.load_factor if RUN_ENERGY_AT_LOAD_FACTOR else 1.0
    energy_mwh = gpu_hours * facility_w_per_gpu * load_factor / 1e6
    embodied_kg = embodied_per_accelerator_kg(cluster.accelerator, site.overrides)
    embodied_t = (float(amortised_embodied_co2_t(billed, embodied_kg, wall_s / SECONDS_PER_HOUR,
                                                 site.lives_years["servers"]))
                  if embodied_kg is not None else None)
    price = None if no_price is not None else money.usd_per_accelerator_hour
    return TrainingRunTotals(
        time_to_train_s=wall_s,
        goodput=rel["goodput"],
        expected_gpus_out_of_service=hold["expected_gpus_out_of_service"],
        goodput_of_gpus_held=held_goodput(rel["goodput"], gpus, hold),
        no_spare_policy=no_spare_policy, goodput_with_repairs=repaired,
        full_size_fraction=None if short is None else short["full_size_fraction"],
        job_mttf_s=rel["job_mttf_s"],
        checkpoint_interval_s=rel["checkpoint_interval_s"],
        gpu_hours=gpu_hours,
        billed_accelerators_count=billed,
        energy_mwh=energy_mwh,
        co2_t=float(operational_co2_t(energy_mwh, site.grid_gco2_per_kwh)),
        co2_model_card_t=float(model_card_co2_t(gpu_hours, float(cluster.accelerator.tdp_w), site.pue,
                                                site.grid_gco2_per_kwh)),
        cost_usd=None if price is None else gpu_hours * price,
        tokens=tokens,
        compute_time_s=compute_s,
        checkpoint_bytes=rel["checkpoint_bytes"],
        checkpoint_write_s=rel["checkpoint_write_s"],
        restart_s=rel["restart_s"],
        failure_rate=rel["failure_rate"],
        expected_interruptions=(running_s / rel["job_mttf_s"]
                                + rel["planned_interruptions_per_day"] * running_s / 86400.0),
        facility_power_w_per_gpu=facility_w_per_gpu,
        load_factor=load_factor,
        pue=site.pue,
        location=site.location_name,
        grid_gco2_per_kwh=site.grid_gco2_per_kwh,
        usd_per_gpu_hour=price,
        co2_embodied_t=embodied_t,
        cost_reason=no_price,
        price_note=price_note(cluster.accelerator, site.overrides),
        **(evaluation_fields(evaluation, evaluations, evaluation_time_s, wall_s) if evaluation else {}),
        notes=[*(n for n in [unfit_run_note(train_result), goodput_basis_note(rel, gpus),
                             spares and domain_note(hold, 0, DEFAULT_REPAIR_S, gpus, rel["device_word"]), spares,
                             short and speed.fewer_note(rel["device_word"]),  # a restart on fewer, faster (hE2 76)
                             unused_policy_note(no_spare_policy, cluster, hold, short, rel["device_word"]),  # hL75
                             adapter_checkpoint_note(train_result), optimizer_checkpoint_note(train_result, shape),
                             evaluation and no_evaluation_note(tokens, step_tokens, evaluation.steps_between),
                             whole_server_note(cluster, gpus, billed, typed),
                             zoned_fabric_note(cluster, site, money, price is not None, typed=typed)]
                 if n),  # the run's energy prices the host: the generic rule's share said (hU50; CLI, web, API)
               *(generic_part_notes(cluster.accelerator, host=True, node=False) if cluster.generic else [])],
    )


def goodput_with_repairs(cluster: Cluster, config: Any, rel: dict[str, Any], failure_rate: str | None = None,
                         policy: str = DEFAULT_NO_SPARE_POLICY, speed: PlanSpeed | None = None
                         ) -> tuple[float, dict[str, Any] | None, dict[str, Any]]:
    """(the goodput a run's wall clock is priced at, `facility.spare_policy.short_of_spares`'s dict or None, the
    job's `domain_hold`) for a plan's job (`config`: its parallel degrees): `reliability`'s hold at the 3-day repair
    with no spare trays (hR73), and the GPUs the job sheds together its data-parallel replica's, times the replicas
    an expert-parallel group folds over (`plan_shrink_unit`). The one rule `train --tokens`, `search --tokens` and
    `plan` / `scenario` training rows price the wall clock by; the goodput itself where spares always suffice.
    `speed`: the plan's share of full-size throughput on the GPUs a shrunk job keeps (`shrunk_plan.ShrunkSpeed`)."""
    hold = domain_hold(int(config.gpus), cluster.layout.accelerators_per_server,
                       cluster.layout.packing_unit_accelerators, 0, rel["failure_rate"],
                       resolve_failure_rate(cluster.accelerator.catalog_name, failure_rate)[1], DEFAULT_REPAIR_S,
                       rel["device_word"], cluster.system.node)
    unit = plan_shrink_unit(config.tp, config.cp, config.pp, config.ep, config.etp)
    short = short_of_spares(cluster, int(config.gpus), rel, hold, DEFAULT_REPAIR_S, policy, unit, speed)
    return (rel["goodput"] if short is None else float(short["goodput_with_repairs"])), short, hold


def unfit_run_note(estimate: TrainingEstimate) -> str | None:
    """One line where the run's plan does not fit memory (`fits` false: an answer, not a refusal, as `train` keeps
    it): the run's figures are of a plan that cannot run, which its own table did not say (hG56); None where it fits."""
    if estimate.fits:
        return None
    gib = 2.0**30
    used, capacity = (significant_text(b / gib, 3) for b in (estimate.memory_per_gpu_bytes,
                                                             estimate.memory_capacity_bytes))
    return (f"the plan does not fit memory ({used} GiB per accelerator of {capacity} GiB; "
            f"{estimate.memory_overflow_term} is the largest term): this run's wall clock, GPU-hours, energy and "
            "cost are of a plan that cannot run; `infraplan search` (or more TP / PP / EP, ZeRO, recompute) finds "
            "one that fits")


def checkpointed_params(estimate: TrainingEstimate) -> int:
    """The parameters a run's checkpoint holds with their optimizer states (the catalog's bytes per parameter,
    facility/reliability.yaml `checkpoint`): the model's; a LoRA run's adapters alone (`train --lora-rank`): Megatron-
    Bridge saves "adapter-only" checkpoints, the model sections filtered to the adapters' parameters
    (megatron-bridge 0.6.0 training/checkpointing.py:1268-1272, `apply_peft_adapter_filter_to_state_dict` :3256-3287;
    0.3.1 :620-621), and the optimizer holds the trainable parameters' states only; the frozen base is not saved; a
    DSA warm-up's indexer alone (`train --dsa-stage warmup`, ASSUMPTION: saved as a LoRA run's adapters are)."""
    trainable = getattr(estimate, "trainable_params_count", None)  # (a LoRA estimate's; a planned row has none)
    return int(estimate.parameters) if trainable is None else int(trainable)


def optimizer_checkpoint_bytes(estimate: TrainingEstimate, shape: TransformerShape | None = None) -> float | None:
    """The checkpoint's bytes where the run's optimizer keeps other state than Adam's two fp32 moments, which the
    catalog's bytes per parameter count (facility/reliability.yaml `checkpoint`), at the optimizer's figure
    (`training.optimizer_models.checkpoint_bytes_per_param` over `shape`'s parameter groups: Muon 10 B a matrix
    parameter, AdamW's 14 B on the embedding and head); None for Adam. hN60: was Adam's; hD62: was 10 B on every
    parameter. A LoRA run's adapters (`checkpointed_params`) are matrices all: the matrices' rate. `shape`: the run's
    model (None: the estimate's model by name, a preset's; `estimate_with_run` passes the one it priced)."""
    optimizer = getattr(estimate, "optimizer", "adam")
    if optimizer not in OPTIMIZERS or OPTIMIZERS[optimizer].moments == OPTIMIZERS["adam"].moments:
        return None
    whole = getattr(estimate, "trainable_params_count", None) is None  # (the model's groups, not adapters alone)
    grouped = (shape if shape is not None else load_model(estimate.model)) if whole else None
    return float(checkpointed_params(estimate)) * checkpoint_bytes_per_param(optimizer, grouped)


def optimizer_checkpoint_note(estimate: TrainingEstimate, shape: TransformerShape | None = None) -> str | None:
    """What a run's checkpoint holds of an optimizer other than Adam (`optimizer_checkpoint_bytes`)."""
    size = optimizer_checkpoint_bytes(estimate, shape)
    if size is None:
        return None
    per = size / float(checkpointed_params(estimate))
    groups = ("Adam's two on the embedding and LM head, AdamW's as on every parameter of an Adam run: the catalog's "
              "figure" if getattr(estimate, "trainable_params_count", None) is None else  # (hP62: a LoRA's adapters,
              "the trained parameters, the adapters or the DSA warm-up's indexer, are matrices all")  # the indexer)
    return (f"checkpoints hold optimizer {estimate.optimizer}'s state: {per:.4g} B a parameter with the bf16 weights "
            f"and fp32 master (one fp32 momentum a matrix parameter; {groups})")


def adapter_checkpoint_note(estimate: TrainingEstimate) -> str | None:
    """What a LoRA run's checkpoint holds (`checkpointed_params`); None for a run that trains every weight."""
    trainable = getattr(estimate, "trainable_params_count", None)
    if trainable is None:
        return None
    if getattr(estimate, "dsa_stage", None) == "warmup":  # (`train --dsa-stage warmup`: the indexer alone trains)
        return (f"checkpoints hold the {trainable:,} lightning-indexer parameters and their optimizer states, the "
                "only ones DSA's warm-up trains (ASSUMPTION: the frozen model not saved again, as a LoRA run's base; "
                "a restart reloads it within restart_s)")
    return (f"checkpoints hold the {trainable:,} adapter parameters and their optimizer states "
            "(Megatron-Bridge's adapter-only checkpoint), not the frozen base, which a restart reloads within "
            "restart_s")


def evaluation_fields(evaluation: InRunEvaluation, evaluations: int, evaluation_time_s: float, wall_s: float
                      ) -> dict[str, float | int]:
    """The run's evaluation as `TrainingRunTotals` states it (fields left out of a run that does not evaluate)."""
    return {"eval_every_sequences": evaluation.every_sequences, "eval_every_steps": evaluation.steps_between,
            "eval_samples": evaluation.eval_samples, "evaluations": evaluations, "evaluation_s": evaluation.seconds,
            "evaluation_time_s": evaluation_time_s, "evaluation_share": evaluation_time_s / wall_s}


WHOLE_SERVERS = True
"""hF71: a job on part of a server is billed its whole servers (`facility.reliability.accelerators_held`: 12 GPUs on
8-GPU servers hold 16), as `facility --count 12` counts 16 in every figure (power, capex, energy) and the cost model
prices an accelerator-hour of whole servers (`cluster.cost.job_site_cost`), so the run's GPU-hours, energy, CO2 and
cost count the 16; False: the job's own 12 (its share of the 2 servers: 12 GPU-hours an hour where `facility` bills
16)."""


def whole_server_note(cluster: Cluster, gpus: int, billed: int, typed: str | None = None) -> str | None:
    """One line where the run's GPU-hours, energy, CO2 and cost count more accelerators than the job's: its whole
    servers (`WHOLE_SERVERS`), the figure `facility --count` gives on an accelerator preset (hH53's
    `job_accelerators`); None where the job fills whole servers."""
    if billed == gpus:
        return None
    layout = cluster.layout
    name, per = layout.accelerator.name, layout.accelerators_per_server
    again = f", as `facility --accelerator {typed_part(name, typed)} --count {gpus}` counts them" if cluster.generic \
        else ""
    return (f"a partial server is billed whole: the {gpus:,}-{layout.accelerator.device_word} job holds "
            f"{counted(billed // per, 'server')} of {per} ({billed:,} {name}), and its GPU-hours, energy, CO2 and cost "
            f"count all {billed:,}{again}")


def typed_part(name: str, typed: str | None) -> str:
    """How a command a note suggests names the accelerator: the file's path the user gave (`typed`, quoted for a
    shell), else the preset's name (hU53: after `facility --accelerator ./x1.yaml` the note said `network x1`, a
    name no command resolves)."""
    return shlex.quote(typed) if typed is not None and looks_like_path(typed) else name


def zoned_fabric_note(cluster: Cluster, site: SiteInputs, money: ClusterCost, priced: bool,
                      priced_on: str = "the step time is priced on", typed: str | None = None) -> str | None:
    """Why the run's $/GPU-hour and power differ from `facility --accelerator A --count N`'s for an accelerator
    preset beyond one zone: the run pays for the one non-blocking Clos its step time was priced on (the generic
    cluster, cluster/generic.py), `facility`, `campus` and `plan` build that many as zones joined at 1:7
    (facility/campus_fabric.py). Both figures are given; None where the two are one fabric. `serve` says the same
    of its $/M tokens (`serving_fabric_note`). `typed`: the `--system` the user gave (`typed_part`)."""
    layout, n = cluster.layout, money.load.accelerators  # those `money` houses (`cluster.cost.job_accelerators`)
    if not beyond_one_zone(cluster) or n <= zone_accelerators(layout):
        return None
    zoned = cluster_cost(layout, built_load(layout, n, site.cooling, site.cooling_name), site)

    def figures(cost: ClusterCost) -> str:
        watts = f"{cost.load.it_w * site.pue / cost.load.accelerators:,.0f} W per GPU"
        return f"${cost.usd_per_accelerator_hour:,.3f}/GPU-h, {watts}" if priced else watts

    again = f"`facility --accelerator {typed_part(layout.accelerator.name, typed)} --count {n}`"
    return (f"cost and power of one non-blocking Clos of {n:,} {layout.accelerator.name}, the fabric {priced_on} "
            f"({figures(money)}); {again}, `campus` and `plan` build as many as {zoned.load.network_model} "
            f"({figures(zoned)})")


def beyond_one_zone(cluster: Cluster) -> bool:
    """Whether a cluster is an accelerator preset's generic one of more than one zone's accelerators (2,048 NIC
    links, `facility.campus_fabric.zone_accelerators`): there every command but `train` / `serve` / `network`
    builds zones joined at 1:7, those three one non-blocking Clos."""
    return cluster.layout.generic and cluster.total_accelerators > zone_accelerators(cluster.layout)


def serving_fabric_note(cluster: Cluster, gpus: int, typed: str | None = None) -> str | None:
    """`zoned_fabric_note` for `serve`'s $/M tokens on `gpus` accelerators, priced at the catalog's default site for
    the layout as `train --tokens` charges a job (`cluster.cost.job_site_cost`, the price
    `serving_api.estimate_serving` takes, hI53): the non-blocking Clos of the deployment's accelerators where
    `facility` builds zones. None within one zone or on a catalog system."""
    if not beyond_one_zone(cluster):
        return None
    site = site_inputs(cluster.layout)
    return zoned_fabric_note(cluster, site, job_site_cost(cluster, gpus, site), True, "its $/M tokens are priced on",
                             typed)


def zoned_network_note(cluster: Cluster, typed: str | None = None,
                       built: str = "the fabric `train` and `serve` price on") -> str | None:
    """What `network ACC --gpus N` adds beyond one zone: it builds the one non-blocking Clos `train` and `serve`
    price on, `facility`, `campus` and `plan` build zones joined at 1:7 (facility/campus_fabric.py, Llama 3 Sec.
    3.3.1), whose switches, network capex and power are given (the default site's cooling, as `facility`'s)."""
    if not beyond_one_zone(cluster):
        return None
    layout, n = cluster.layout, cluster.total_accelerators
    site = site_inputs(layout)
    zoned = built_load(layout, n, site.cooling, site.cooling_name)
    return (f"one non-blocking Clos of {n:,} {layout.accelerator.name}, {built}; "
            f"`facility --accelerator {typed_part(layout.accelerator.name, typed)} --count {n}`, `campus` and `plan` "
            f"build as many as {zoned.network_model}: {zoned.switches:,} switches, "
            f"${zoned.network_capex_usd / 1e6:,.1f} M, {zoned.network_w / 1e3:,.0f} kW of network")


NotedT = TypeVar("NotedT", NetworkReport, CollectiveResult)


def network_with_zone_note(report: NotedT, cluster: Cluster, fabric: str | None, typed: str | None = None
                           ) -> NotedT:
    """`network`'s report, or `collective`'s answer (hN70: a collective on 8,192 H100 was timed on the one
    non-blocking Clos without a word, where `facility` builds 4 zones joined at 1:7), CLI and web, with
    `zoned_network_note` where its fabric is the default one; `typed`: the system the user gave (`typed_part`)."""
    built = ("the fabric this collective is timed on, as `train` and `serve` price it"
             if isinstance(report, CollectiveResult) else "the fabric `train` and `serve` price on")
    note = zoned_network_note(cluster, typed, built) if fabric in (None, "clos") else None  # clos: the default
    return report if note is None else report.model_copy(update={"notes": [*report.notes, note]})


def serving_with_fabric_note(result: ServingResult | ImageServingResult, cluster: Cluster, usd_per_hour: float | None,
                             typed: str | None = None) -> ServingResult | ImageServingResult:
    """`serve`'s result (CLI and web) with `serving_fabric_note` where the catalog priced it (no --usd-per-hour);
    `typed`: the system the user gave (`typed_part`)."""
    if usd_per_hour is not None or result.usd_per_hour_per_gpu is None:
        return result
    note = serving_fabric_note(cluster.for_gpus(result.deployment.gpus), result.deployment.gpus, typed)
    return result if note is None else result.model_copy(update={"warnings": [*result.warnings, note]})


def wall_floor_s(model: str, parts: list[str], gpus: int, seq_len: int, tokens: float,
                 forward_only: bool = False) -> float:
    """A lower bound on any plan's wall-clock seconds for `tokens` on `gpus` accelerators of `parts` (the device and
    the system `plan` names; the fastest's peak is taken): the weights' matmuls and the LM head every token runs,
    forward + backward (6 FLOPs a parameter a token, `training.flops`: MoE at its active experts, no attention
    scores, no recompute, no embedding look-up), at every accelerator's highest dense peak of any dtype, goodput 1.
    A bound because the FLOPs the priced kernels execute never run above peak (`training.flops`,
    `executed_flops_utilisation` <= 1) and goodput is at most 1; measured 2.8-26x below the searched wall (hA62:
    llama3-8b / 405b, mixtral-8x7b on H100, deepseek-v3 on B200, llama3-70b on GB300 at 8-4,096 GPUs).
    `forward_only`: a DSA warm-up alone (`train --dsa-stage warmup`: the model frozen, forward only, no LM head
    needed for the indexer's KL target): the layers' weight matmuls once, 2 FLOPs a parameter a token (lead, session
    62: the 6-FLOP floor sat above such a run's wall and skipped counts that meet a deadline)."""
    shape = load_model(model)
    peak = max(float(f) for part in parts for f in Cluster.resolve(part).accelerator.peak_flops_per_s.values())
    weights, _ = forward_flops_per_token_layer(shape, seq_len)
    per_token = (1.0 * shape.num_layers * float(weights) if forward_only
                 else 3.0 * shape.num_layers * float(weights) + 6.0 * shape.hidden_size * shape.vocab_size)
    return tokens * per_token / (gpus * peak)
