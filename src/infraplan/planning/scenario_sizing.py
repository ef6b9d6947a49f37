"""Sizing each service of a scenario on each pool with the single-layer models (no physics of its own).

- training: `training.search.search_plans` gives the best plan's tokens/s at a GPU count (with the service's
  `optimizer`, else the stack's or its model recipe's, as `train`); the reliability model
  (`facility.reliability.job_reliability`) its goodput, the checkpoint at that optimizer's bytes per parameter
  (`training.optimizer_models.checkpoint_bytes_per_param`, as `train --tokens`: Adam 14 B; Muon 10 B a matrix
  parameter, 14 B on the embedding and head; every run's was Adam's 14 B until hB61, Muon's 10 B on every parameter
  until hD62); wall clock = tokens / (tokens/s x goodput with repairs), as `planning.training_run`
  (`goodput_with_repairs`: a job filling a catalog system's pool is short of spares at times, `facility.spare_policy`,
  its default policy). With a deadline the GPU count is the smallest power of two meeting it (from where the
  training state fits, `first_training_count`), refined in quarters between the last miss and the first hit, a count
  whose wall floor (`training_run.wall_floor_s`) misses it unsearched (hA62); with a GPU budget, that count. One
  whole job per pool; its wall clock, MFU and goodput travel as numbers (`Sized.time_to_train_s`, ...), and a deadline
  no count meets names the fastest run the search found (every count searched then).
- LLM serving: `serving.capacity.search_capacity` (what `serve-plan` runs: the fewest accelerators over dtype, TP,
  batch cap and disaggregated prefill/decode meeting p99 TTFT/TPOT) at the phase's peak rate R. `tokens_per_day`
  becomes a peak rate: tokens/day / 86,400 x peak-to-average / mean output tokens of the workload (the mean of a
  log-normal is median x exp(sigma^2 / 2)). The MILP's unit is one replica of that answer's layout (TP x PP x
  attention-DP devices) serving R / r requests/s of its r replicas, as fleet-mix's (planning/fleet_mix_llm.py), so
  a service's replicas split over pools (a capped clean site takes what it holds, the rest goes elsewhere): each
  replica carries the per-replica rate it carried in the whole-rate answer, so a share of u replicas meets the SLO
  at u x R / r (conservative: a replica's capacity c* is in [R / r, R / (r - 1)); the whole service on one pool is
  exactly r replicas, serve-plan's answer). A disaggregated answer of P prefill and D decode replicas splits the
  same way in g = gcd(P, D) groups of P / g prefill + D / g decode replicas, R / g requests/s each (every replica
  at the load of the whole-rate answer; a group's KV transfer stays in its pool); where P and D have no common
  factor (1:3) it stays one whole deployment (capacity R), said in its detail (until 2026-12-04 every
  disaggregated answer did, hL47; fleet-mix re-searches a share, `plan` does not). A unit serving more than a
  quarter of R (one replica, or a 1:3 deployment) comes with serve-plan's answers at R / 2, R / 4 ... as finer
  options (`size_options`: fleet-mix's rule, `fleet_mix_llm.finer_units`, so the same demand asked of `plan` and
  `fleet-mix` gets one answer; hS48, session 45: until then a small pool beside it could take no share). On the
  pool's `stack`, else the service's, else the part's vendor default (`fleet_mix_llm.asked_stack`,
  `stack_placement.serving_stack_for`), said in `Sized.serving_stack` / `serving_stack_basis`, and its precision
  (weights, activations, KV: `Sized.weight_dtype` / `kv_dtype` / `precision`, planning/llm_precision.py, hC58).
- image generation: `planning.image_capacity` (the diffusion serving model, `serving/diffusion.py`, bisected for
  the most images/s per accelerator with p99 image latency within the SLO); accelerators serve independently, so
  the service splits over pools by the MILP like recsys. `images_per_day` becomes a peak rate: / 86,400 x
  peak-to-average.
- recsys and video: fleet-mix's per-device options (`planning.pool_capacity.pool_option`: recsys QPS at the best batch
  meeting the latency SLO, video real-time streams per device); services split over pools by the MILP.
Results are cached per distinct input, so phases and compared scenarios reuse them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from infraplan.catalog import load_model
from infraplan.catalog.inference_loader import is_video_device
from infraplan.catalog.loader import looks_like_path
from infraplan.catalog.versioned_cache import versioned_args_cache
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.facility.failure_rate_notes import goodput_basis_note
from infraplan.facility.reliability import job_reliability
from infraplan.limits import DEFAULT_NO_SPARE_POLICY, peak_demand_at_most
from infraplan.planning import fleet_spec
from infraplan.planning.dsa_training_stages import (
    checkpointed_params,
    staged_point,
    state_bytes_per_param,
    warmup_floor,
)
from infraplan.planning.fields_read import spec_words
from infraplan.planning.fleet_mix_llm import (
    LLM_MAX_GPUS,
    LLM_PROBE_REQUESTS,
    asked_stack,
    deployment_short,
    finer_units,
    llm_options,
    missed_slo_note,
    serve_plan_search,
    split_units,
    stack_basis,
)
from infraplan.planning.fleet_mix_llm import llm_peak_rate as llm_peak_rate  # one rule, fleet-mix's
from infraplan.planning.image_capacity import DEFAULT_IMAGE_WORKLOAD, image_capacity
from infraplan.planning.llm_precision import precision_words
from infraplan.planning.pool_capacity import pool_option
from infraplan.planning.scenario_spec import PoolSpec, ServiceSpec
from infraplan.planning.scenario_types import Sized as Sized  # (its readers import it from here, as before hA62)
from infraplan.planning.scenario_types import TrainingPoint as TrainingPoint
from infraplan.planning.scenario_types import duration_text
from infraplan.planning.shrunk_plan import ShrunkSpeed
from infraplan.planning.training_run import goodput_with_repairs, wall_floor_s
from infraplan.serving.serve_results import LLMDeployment, PoolLayout
from infraplan.training.dtype_choice import choice_short
from infraplan.training.ep_choice import EVERY_EP
from infraplan.training.optimizer_models import checkpoint_bytes_per_param
from infraplan.training.optimizers import training_stack
from infraplan.training.search import search_plans
from infraplan.training.state_memory import trained_bytes_per_param
from infraplan.units import significant_text

SERVING_PROBE_REQUESTS = LLM_PROBE_REQUESTS  # serve-plan's default --requests (a plan's LLM service = its answer)
SERVING_MAX_GPUS = LLM_MAX_GPUS  # the capacity search doubles replicas up to this: it bounds an unmeetable SLO's cost
TRAINING_MIN_GPUS = 8
TRAINING_MAX_GPUS = 1 << 18


def pool_kind(pool: PoolSpec) -> str:
    return "video-asic" if is_video_device(pool.device) else Cluster.resolve(pool.device).accelerator.kind


def pool_accelerator(pool: PoolSpec) -> str:
    """The pool's accelerator as a reference that loads again: a preset name or a what-if file's path (its `name`
    alone does not load), a system's `accelerator:`; a video ASIC's device."""
    if is_video_device(pool.device):
        return pool.device
    cluster = Cluster.resolve(pool.device)
    return pool.device if cluster.generic else cluster.system.accelerator


def serving_system(pool: PoolSpec) -> str:
    return pool.system or pool.device


def repeated_parts(services: Sequence[ServiceSpec], pools: Sequence[PoolSpec]) -> bool:
    """Whether an LLM service is sized on two pools that name different serving systems of one part (meta-2024's
    `meta-rsc` and `dgx-a100-superpod`, both A100 80GB): `shared_part_pools` is not empty."""
    return bool(shared_part_pools(services, pools))


def shared_part_pools(services: Sequence[ServiceSpec], pools: Sequence[PoolSpec]) -> list[int]:
    """The pools (indices, in order) that an LLM service is sized on and whose part another such pool names under a
    different serving system: serve-plan's searches are keyed on the system name, and their layouts within one node
    run the same engine runs, which `plan` recalls while it sizes an LLM service on these pools (`serving.engine_memo`;
    hA63: only there, its digests cost ~7 % of meta-2024 where nothing repeats). Only the time depends on this; an
    unknown part counts as none (`plan_scenario` refuses it in its own words)."""
    if not any(s.kind == "llm" for s in services):
        return []
    systems: dict[str, dict[str, list[int]]] = {}  # part -> serving system -> its pools
    for i, pool in enumerate(pools):
        if pool.serves is not None and "llm" not in pool.serves:  # never searched (`size`)
            continue
        try:
            systems.setdefault(pool_accelerator(pool), {}).setdefault(serving_system(pool), []).append(i)
        except (InputError, OSError, ValueError):
            continue
    return sorted(i for named in systems.values() if len(named) > 1 for ids in named.values() for i in ids)


def demand(svc: ServiceSpec, phase: str, headroom: float) -> float:
    """Demand of `svc` in `phase` in its unit (runs, requests/s, QPS, streams); 0 when it does not run."""
    if svc.phases is not None and phase not in svc.phases:
        return 0.0
    if svc.kind == "training":
        return 1.0
    growth = svc.growth.get(phase, 1.0) * (1.0 + headroom)
    if svc.kind == "llm":
        return llm_peak_rate(svc) * growth
    if svc.kind == "recsys":
        return peak_demand_at_most(svc.name, "recsys", float(svc.qps or 0.0) * growth, "qps x growth x headroom")
    if svc.kind == "image":
        if svc.rate is not None:
            return float(svc.rate) * growth
        return float(svc.images_per_day or 0.0) / 86400.0 * svc.peak_to_average * growth
    return peak_demand_at_most(svc.name, "video", float(svc.daily_hours or 0.0) / 24.0 * svc.peak_to_average * growth,
                               "daily_hours / 24 x peak_to_average x growth x headroom")


@versioned_args_cache(maxsize=1024)
def _training_point(model: str, device: str, system: str | None, gpus: int, seq_len: int, global_batch: int,
                    dtype: str, stack: str | None, tokens: float, optimizer: str | None = None,
                    dsa_stage: str = "sparse", no_spare_policy: str = DEFAULT_NO_SPARE_POLICY) -> TrainingPoint | str:
    """(wall-clock seconds, plan, MFU, goodput) of the best plan on `gpus` in the DSA stage, or the search's reason
    where it found none; the wall clock at train --tokens's goodput with repairs under `no_spare_policy`."""
    cluster = Cluster.resolve(system) if system else None
    beyond = ""  # a named system smaller than the job: said, with the command that reruns it (hV53)
    if cluster is not None and cluster.total_accelerators < gpus:
        part = device if looks_like_path(device) else cluster.accelerator.name
        beyond = f"; on `--system {part}`'s generic node and Clos: system {system} holds {cluster.total_accelerators:,}"
    if cluster is None or cluster.total_accelerators < gpus:
        cluster = Cluster.for_accelerator(Cluster.resolve(device).accelerator, gpus)
    result = search_plans(model, cluster, gpus, seq_len, global_batch, dtype=dtype, top=1, stack=stack,
                          compare_dtypes=True, ep_mask=EVERY_EP,  # auto: the detail names the best other precision
                          optimizer=optimizer, dsa_stage=dsa_stage)  # None: the stack's or its recipe's, as train's
    if result.best is None:
        return result.reason or f"no plan on {gpus:,} devices"  # (the binding rule and what to change: `search`'s)
    best = result.best
    params = checkpointed_params(model, stack, optimizer, dsa_stage)  # (a warm-up's: its indexer, as train's)
    grouped = None if dsa_stage == "warmup" else load_model(model)  # (the indexer's matrices: the matrices' rate)
    rel = job_reliability(cluster.accelerator, gpus, params,  # as train's: the optimizer's groups at their own rates
                          checkpoint_size_bytes=params * checkpoint_bytes_per_param(result.optimizer, grouped),
                          server_accelerators=cluster.layout.accelerators_per_server)
    speed = ShrunkSpeed(model, cluster, best.config, best.tokens_per_s, stack=result.stack, optimizer=result.optimizer,
                        dsa_stage=dsa_stage)  # a shrunk run's smaller plans, priced as train --tokens prices them
    wall = tokens / best.tokens_per_s / goodput_with_repairs(cluster, best.config, rel, None, no_spare_policy, speed)[0]
    c = best.config
    plan = (f"TP{c.tp} CP{c.cp} PP{c.pp} DP{c.dp} EP{c.ep} {c.dtype}, MFU {best.mfu * 100:.0f} % of the {c.dtype} "
            f"peak, goodput {rel['goodput'] * 100:.0f} %, {wall / 86400:.1f} days"
            + ("" if result.dtype_choice is None else f"; {choice_short(result.dtype_choice, best.step_time_s)}")
            + beyond)
    return TrainingPoint(wall, plan, float(best.mfu), float(rel["goodput"]), goodput_basis_note(rel, gpus),
                         result.optimizer, float(rel["checkpoint_bytes"]), float(rel["checkpoint_write_s"]))


def first_training_count(svc: ServiceSpec, pool: PoolSpec) -> int:
    """The first device count `size_training` tries under a deadline: where the weights, gradients and optimizer
    state, fully sharded, fit the devices' memory at the bytes a parameter `train`'s memory model holds for the
    service's optimizer and stack (`training.state_memory.trained_bytes_per_param`: Adam 18 B; Muon 14 B a matrix
    parameter and 18 B on the embedding and head, Llama 3 8B 14.52 B; Adam's 16 B whatever the optimizer until hP61,
    Muon's 14 B on every parameter until hD62), a power of two, at least TRAINING_MIN_GPUS."""
    shape = load_model(svc.model or "")
    per = state_bytes_per_param(svc.dsa_stage, svc.dsa_warmup_tokens,
                                lambda: trained_bytes_per_param(training_stack(svc.stack, shape, svc.optimizer), shape))
    floor = per * float(shape.total_params()) / Cluster.resolve(pool.device).accelerator.memory_bytes
    return max(TRAINING_MIN_GPUS, 1 << max(0, math.ceil(math.log2(max(floor, 1.0)))))


def size_training(svc: ServiceSpec, pool: PoolSpec) -> Sized | str:
    args = (svc.model or "", pool.device, pool.system, svc.seq_len, svc.global_batch, svc.dtype, svc.stack,
            float(svc.tokens or 0.0), svc.optimizer, svc.no_spare_policy)
    tried: dict[int, TrainingPoint] = {}
    why: dict[int, str] = {}  # the search's reason at a count with no plan

    def point(g: int) -> TrainingPoint | None:
        m, dev, system, seq, gb, dt, st, tok, opt, pol = args
        got = staged_point(lambda t, d, b, n: _training_point(m, dev, system, n, seq, b, dt, st, t, opt, d, pol), g,
                           tok, gb, svc.dsa_stage, svc.dsa_warmup_tokens, svc.dsa_warmup_global_batch,  # (DSA's stages)
                           1 if svc.dsa_warmup_tokens is None else warmup_floor(
                               m, Cluster.resolve(pool.device).accelerator.memory_bytes))
        if isinstance(got, str) or got is None:
            why[g] = got or ""
            return None
        tried[g] = got
        return got

    def sized(gpus: int, got: TrainingPoint, head: float | None) -> Sized:
        return Sized(1.0, gpus, True, "runs", head, got.plan, got.wall_s, got.optimizer, got.checkpoint_bytes,
                     got.checkpoint_write_s, got.mfu, got.goodput, got.goodput_note)

    deadline = svc.deadline
    if svc.gpus is not None:
        got = point(svc.gpus)
        if got is None:
            return f"no plan of {svc.model} fits {svc.gpus} devices" + (f": {why[svc.gpus]}" * bool(why.get(svc.gpus)))
        if deadline is not None and got[0] > deadline:
            return f"{svc.gpus} devices take {duration_text(got[0])}, beyond the {duration_text(deadline)} deadline"
        return sized(svc.gpus, got, None if deadline is None else 1.0 - got[0] / deadline)
    assert deadline is not None
    limit_s: float = deadline

    floored: list[int] = []  # counts whose wall floor misses the deadline (hA62): searched only if none meets

    def in_time(g: int) -> tuple[int, TrainingPoint] | None:  # (g, its point) when a plan on g meets the deadline
        if wall_floor_s(args[0], [x for x in (pool.device, pool.system) if x], g, args[3], args[7],
                        forward_only=svc.dsa_stage == "warmup" and svc.dsa_warmup_tokens is None) > limit_s:
            floored.append(g)
            return None
        got = point(g)
        return (g, got) if got is not None and got[0] <= limit_s else None

    g, last_miss, hit = first_training_count(svc, pool), 0, None
    while g <= TRAINING_MAX_GPUS and (hit := in_time(g)) is None:  # doubling until one meets it
        last_miss, g = g, g * 2
    if hit is None:
        list(map(point, floored))  # the "fastest found" reads every count (sorted: in the doubling's order)
        fastest = min(sorted(tried.items()), key=lambda kv: kv[1].wall_s, default=None)
        best = ("" if fastest is None else f" (fastest found: {duration_text(fastest[1].wall_s)} on "
                f"{fastest[0]:,} devices, {fastest[1].plan.split(',')[0]})")
        return f"no plan meets the {duration_text(deadline)} deadline within {TRAINING_MAX_GPUS:,} devices{best}"
    if last_miss:  # then the first of four steps between the last miss and that hit
        step = max(1, (hit[0] - last_miss) // 4)
        hit = next(filter(None, map(in_time, range(last_miss + step, hit[0], step))), hit)
    gpus, got = hit
    return sized(gpus, got, 1.0 - got.wall_s / deadline)


def size_llm(svc: ServiceSpec, pool: PoolSpec, rate: float) -> Sized | str:
    """serve-plan's answer for the service at `rate` (the pool's `stack`, else the service's, as `--stack`; its
    `dtypes` as `--dtypes`: bf16 / fp8 by default, as serve-plan), the search fleet-mix runs
    (`fleet_mix_llm.serve_plan_search`)."""
    r = serve_plan_search(svc.model or "", serving_system(pool), rate, svc.workload or "", svc.ttft_slo, svc.tpot_slo,
                          tuple(svc.dtypes), asked_stack(svc, pool.stack), llm_options(svc), SERVING_MAX_GPUS)
    if r.gpus is None or r.deployment is None:  # none found (a miss, `feasible` false, is used and said: hG57, hJ57)
        return r.why or "no deployment meets the SLOs"
    d, head = r.deployment, None
    if r.serve is not None and r.slo is not None:
        p99 = (r.serve.ttft_s.p99 or 0.0) / r.slo.ttft_s, ((r.serve.tpot_s.p99 or 0.0) / r.slo.tpot_s  # None:
                                                           if r.slo.tpot_s else 0.0)  # --output-len 1 (hR73)
        head = 1.0 - max(p99)
    split = (d.prefill_replicas, d.decode_replicas) if d.disaggregated else (None, None)
    layouts: list[PoolLayout | LLMDeployment] = [x for x in (d.prefill, d.decode) if x is not None] or [d]
    accelerator = Cluster.resolve(serving_system(pool)).accelerator
    stack, basis = stack_basis(svc, pool.name, pool.stack, accelerator)
    short = deployment_short(d.replicas, d.tp, d.pp, d.dtype, r.gpus, attention_dp=d.attention_dp,
                             max_batch=d.max_batch, prefill=split[0], decode=split[1])
    replica = max(x.tp * x.pp * x.attention_dp for x in layouts)
    missed = missed_slo_note(r)  # a whole-run miss is said in the plan's notes (fleet-mix: the row's note)
    notes = (missed,) if missed else ()

    def said(sized: Sized) -> Sized:  # its notes and precision (hC58: every LLM row names it)
        return replace(sized, notes=notes, weight_dtype=d.dtype, kv_dtype=d.kv_dtype,
                       precision=precision_words(d.dtype, d.kv_dtype, accelerator))
    if d.disaggregated:
        return said(_disaggregated(rate, r.gpus, d, head, short, replica, stack, basis))
    if r.gpus % d.replicas:  # replicas of unequal devices: the deployment is one unit
        return said(Sized(rate, r.gpus, True, "requests/s", head, short, replica_devices=replica,
                          unit_replicas=d.replicas, serving_stack=stack, serving_stack_basis=basis))
    return said(Sized(rate / d.replicas, r.gpus // d.replicas, False, "requests/s", head,  # replicas split over pools
                      f"replicas of serve-plan's answer at {_rate(rate)} requests/s ({_rate(rate / d.replicas)} "
                      f"each), {short}",
                      replica_devices=replica, unit_replicas=1, serving_stack=stack, serving_stack_basis=basis))


def _rate(value: float) -> str:
    """A rate in a detail line: 4 significant digits, never in e-notation ("24,000", was "2.4e+04"; hU, session 51)."""
    return significant_text(value, 4)


def _disaggregated(rate: float, gpus: int, d: LLMDeployment, head: float | None, short: str, replica: int,
                   stack: str | None, basis: str | None) -> Sized:
    """A disaggregated answer's MILP unit (module docstring): its P prefill and D decode replicas in g = gcd(P, D)
    groups of P / g + D / g, each at R / g requests/s, so each replica keeps the load it carried in the whole-rate
    answer (R / P on a prefill, R / D on a decode replica) and a group's KV cache moves within its pool; g = 1 (a
    ratio with no smaller group, 1:3) or groups of unequal devices keep the deployment one unit of rate R."""
    p, dec = d.prefill_replicas or 0, d.decode_replicas or 0
    g, why = split_units(d, gpus)  # fleet-mix's rule, the one place it is written
    if g <= 1:
        unit = f"{p}:{dec} has no smaller group in that ratio" if math.gcd(p, dec) <= 1 else why
        return Sized(rate, gpus, True, "requests/s", head, f"{short} (one unit: {unit})", replica_devices=replica,
                     unit_replicas=p + dec, serving_stack=stack, serving_stack_basis=basis, whole_why=why)
    return Sized(rate / g, gpus // g, False, "requests/s", head,  # groups split over pools, as replicas
                 f"groups of {p // g} prefill + {dec // g} decode replicas of serve-plan's answer at {_rate(rate)} "
                 f"requests/s ({_rate(rate / g)} each), {short}", replica_devices=replica,
                 unit_replicas=(p + dec) // g, serving_stack=stack, serving_stack_basis=basis)


def size_image(svc: ServiceSpec, pool: PoolSpec) -> Sized | str:
    got = image_capacity(svc.workload or DEFAULT_IMAGE_WORKLOAD, svc.model, serving_system(pool), svc.latency_slo)
    if isinstance(got, str):
        return got
    return Sized(got.images_per_s, 1, False, "images/s", 1.0 - got.p99_latency_s / got.slo_s,
                 f"{got.diffusion_model}, batch <= {got.max_batch}, {got.images_per_s:.3g} images/s per device "
                 f"(saturates at {got.offline_images_per_s:.3g})", serving_stack_basis=got.stack_basis)


def size_inference(svc: ServiceSpec, pool: PoolSpec) -> Sized | str:
    fpool = fleet_spec.PoolSpec(name=pool.name, device=pool_accelerator(pool), host_power_w=pool.host_power_w)
    opt = pool_option(svc, fpool)
    if "reason" in opt:
        return str(opt["reason"])
    d = opt["detail"]
    if svc.kind == "recsys":
        head = 1.0 - d["latency_s"] / float(svc.latency_slo or 1.0)
        return Sized(opt["capacity"], 1, False, "qps", head, f"batch {d['batch']}, {d['bound']}-bound",
                     notes=tuple(opt["notes"]))
    return Sized(opt["capacity"], 1, False, "streams", None, f"{d['encoder']}, {d['bound']}-bound",
                 notes=tuple(opt["notes"]))


def size_options(svc: ServiceSpec, pool: PoolSpec, need: float) -> list[Sized] | str:
    """The options the MILP chooses from for `need` of `svc` on `pool` (`size`'s answer), or why it cannot serve:
    an LLM service's whole-rate answer and, where its unit serves more than a quarter of `need`, serve-plan's
    answers at need / 2, need / 4 ... (`fleet_mix_llm.finer_units`, fleet-mix's rule: the same option set), each
    a unit of its own rate the MILP may take any number of."""
    got = size(svc, pool, need)
    if isinstance(got, str) or svc.kind != "llm":
        return got if isinstance(got, str) else [got]

    def at(rate: float) -> tuple[float, int, Sized] | None:
        finer = size(svc, pool, rate)
        if isinstance(finer, str):
            return None
        share = round(need / rate)  # 2**k
        return finer.capacity, finer.unit_devices, replace(
            finer, whole=False, whole_why="",  # a unit of its own rate: as many as the share needs
            detail=f"{finer.detail}; a finer unit: serve-plan's answer at 1/{share} of the {_rate(need)} requests/s")

    return [got, *finer_units(need, got.capacity, got.unit_devices, at)]


def size(svc: ServiceSpec, pool: PoolSpec, need: float) -> Sized | str:
    """How `pool` serves `need` of `svc`, or why it cannot."""
    kind = pool_kind(pool)
    if pool.serves is not None and svc.kind not in pool.serves:
        return f"the pool serves only {', '.join(pool.serves)}"
    if svc.kind in ("training", "llm", "image") and kind in ("cpu", "video-asic"):
        what = {"training": "training", "llm": "LLM serving", "image": "image generation"}[svc.kind]
        return f"{pool.device} ({kind}) does not run {what}"
    try:
        if svc.kind == "training":
            return size_training(svc, pool)
        if svc.kind == "llm":
            return size_llm(svc, pool, need)
        if svc.kind == "image":
            return size_image(svc, pool)
        return size_inference(svc, pool)
    except InputError as exc:
        return spec_words(str(exc), svc)
