"""LLM services in fleet-mix: how many devices of each pool serve a request rate under TTFT / TPOT SLOs.

Each pool whose device runs LLM serving is sized by the capacity search `infraplan serve-plan` runs
(`serving.capacity.search_capacity`: the same stack, dtypes, SLOs, 1,500 probe requests, seed 0) at the service's
whole peak rate R, within `LLM_MAX_GPUS` accelerators (the limit `plan` searches with; the MILP, not the search,
applies the pool's `available`). Its answer becomes the MILP's integer unit: one replica of the chosen layout
(TP x PP x attention-DP accelerators, `unit_devices`) serving R / replicas requests/s at the SLO. A disaggregated
answer of P prefill and D decode replicas splits as `plan`'s does (`split_units`, hL47's rule): in g = gcd(P, D)
groups of P / g prefill + D / g decode replicas, R / g requests/s each; with no smaller group (5:3) it is one unit
of all its accelerators at R (until 2026-12-04 its P + D replicas were counted as R / (P + D) each, so a pool could
take 4 of a 5 + 3 deployment's replicas, a layout no search ever ran, hN46).

Granularity and linearisation (the MILP counts whole replicas, so a TP8 layout is 8 devices at a time):
- the search's replica count r is the fewest that meets the SLO at R, so one replica's capacity c* lies in
  [R / r, R / (r - 1)); the MILP prices a replica at R / r, under-stating it by less than 1 / (r - 1) (a
  conservative error; none when the whole service lands on one pool: the MILP then takes exactly r replicas,
  serve-plan's answer, and names that deployment);
- where the MILP gives a pool a share (u replicas, fewer than its whole-rate answer), the share's rate
  R_p = R x (u x R / r) / (the capacity all pools got) is searched again within those u replicas' accelerators,
  and that answer (serve-plan's at R_p with `--max-gpus` u x TP x PP) is the deployment named, with its devices:
  never more than the MILP's, sometimes fewer (a smaller layout, or c* above R / r). The MILP's objective is then
  an upper bound of the totals. A disaggregated answer's prefill:decode ratio holds on a share only in
  proportion, and a layout that wins at R may not at R_p: the re-search settles both. If it finds nothing within
  the share's accelerators, the u units (replicas, or groups) of the whole-rate layout stand, said in the row's
  `note` (each unit as the whole-rate answer ran it: a disaggregated group keeps its P / g + D / g replicas);
- a unit serving more than R / FINE_UNITS is coarse: a single-unit answer (one replica, or a disaggregated one whose
  P:D has no smaller group) could take the whole service or none of it, so a pool holding less than that unit, or
  one cheaper for part of R only, could not take a share (hC48, session 45). Such a pool also offers serve-plan's
  answers at R / 2, R / 4, ... (`finer_options` by `finer_units`: at most FINER_HALVINGS searches, each kept
  where its unit holds fewer devices, until a unit serves at most R / FINE_UNITS), each with its own units at its
  own rate; the MILP takes units of any of them where cheaper (a share of 1.5 of one pool's units beside another
  pool's finer units). `plan` offers the same options (`scenario_sizing.size_options`, the same `finer_units`), so
  the same demand asked of both gets one answer (hS48, session 45). Units of several of a pool's options given to
  one service are one share: searched again at its rate within all their accelerators (`llm_shares`), else each
  option's units stand as `llm_share` gives them (`plan` keeps its options' units: it re-searches no share);
- a pool whose search finds nothing at the whole rate within LLM_MAX_GPUS is excluded with the search's reason:
  its replicas down to R / (LLM_MAX_GPUS / unit) requests/s each all missed the SLO (or no layout fits), so a
  share would help only where R needs more than LLM_MAX_GPUS accelerators (not searched).
The replicas sit in the pool's whole servers, which the MILP buys (planning/fleet_mix.py: a TP2 replica is 2 of an
H100 server's 8 devices; the servers' idle devices are in the pool's figures, not the LLM row's); a re-searched
share that needs fewer devices buys fewer servers (the pool is priced at the servers its rows need).
Power per device is the pool's, whatever it serves (planning/fleet_mix.py `_costs`: the power chain's IT load of
the pool's whole servers, what its electricity is billed on), the same as a recsys row's on that pool; the J/token
serve-plan prints is its serving draw (`serving_metrics.power_terms`: accelerator draw and host share), not this peak.
Searches are cached per (model, system, rate, workload, SLOs, dtypes, stack, limit): one per (service, pool) for
the whole rate, up to FINER_HALVINGS for a coarse one, plus one per share the MILP splits.
The stack a pool's deployment runs: the pool's `stack`, else the service's, else the part's vendor default
(`asked_stack`, then `stack_placement.serving_stack_for`, the one place a stack is chosen); each row says which
and why (`serving_stack`, `serving_stack_basis`: `stack_basis`), and its precision (`dtype`, `kv_dtype`, `precision`:
planning/llm_precision.py, hC58), `plan`'s service rows alike.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.serving_loader import load_workload
from infraplan.catalog.versioned_cache import versioned_args_cache
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.limits import MAX_ARRIVAL_RATE_PER_S, MIN_ARRIVAL_RATE_PER_S
from infraplan.planning.fields_read import spec_words
from infraplan.planning.llm_precision import precision_words
from infraplan.serving.capacity import search_capacity
from infraplan.serving.results import ServingPlanResult
from infraplan.serving.serve_results import LLMDeployment
from infraplan.serving.stack_placement import serving_stack_for
from infraplan.units import number_text, significant_text

LLM_MAX_GPUS = 16384  # the search's limit at the whole rate (`plan`'s too: scenario_sizing.SERVING_MAX_GPUS)
LLM_PROBE_REQUESTS = 1500  # serve-plan's default --requests
LLM_SEED = 0  # serve-plan's default --seed
# ASSUMPTION: a pool's unit serving at most a quarter of the service's rate is fine enough (at most a quarter of the
# rate idle in a pool's last unit); a coarser one is refined by halving the searched rate, at most 5 times (R / 32)
FINE_UNITS = 4
FINER_HALVINGS = 5
LLM_SEARCHES_MOST = 1 + FINER_HALVINGS  # sizing searches of one (LLM service, pool): its whole rate, its halvings
_Option = TypeVar("_Option")


def llm_peak_rate(svc: Any) -> float:
    """Peak requests/s of an LLM service (a fleet or a scenario one) before growth and headroom: its `rate`, or
    `tokens_per_day` / 86,400 x peak-to-average / the workload's mean output tokens (a log-normal's mean is
    median x exp(sigma^2 / 2))."""
    if svc.rate is not None:
        return float(svc.rate)
    spec = load_workload(svc.workload or "")
    if spec.output_tokens is None:
        raise InputError(f"service {svc.name!r}: workload {svc.workload!r} has no output lengths")
    out = spec.output_tokens
    mean = out.median * math.exp(out.sigma**2 / 2) if out.distribution == "lognormal" else out.median
    return float(svc.tokens_per_day or 0.0) / 86400.0 * svc.peak_to_average / mean


ServePlanOptions = tuple[str | None, int, float | None, bool]  # kv_dtype, speculative_tokens, acceptance, try_spec.


def llm_options(svc: Any) -> ServePlanOptions:
    """An LLM service's serve-plan options beside its stack and dtypes: `kv_dtype`, `speculative_tokens`,
    `acceptance`, `try_speculative` (serve-plan's --kv-dtype, --speculative-tokens, --acceptance, --try-speculative;
    `serving.capacity_space`)."""
    return svc.kv_dtype, svc.speculative_tokens, svc.acceptance, svc.try_speculative


@versioned_args_cache(maxsize=1024)
def serve_plan_search(model: str, system: str, rate: float, workload: str, ttft: float | None, tpot: float | None,
                      dtypes: tuple[str, ...], stack: str | None, options: ServePlanOptions,
                      max_gpus: int) -> ServingPlanResult:
    """serve-plan's answer at its defaults (1,500 probe requests, seed 0), cached: fleet-mix's and `plan`'s LLM
    services alike (`planning.scenario_sizing.size_llm`), with the service's `options` (`llm_options`). A rate above
    `serve --rate`'s limit is one line."""
    if not math.isfinite(rate) or rate > MAX_ARRIVAL_RATE_PER_S:
        raise InputError(f"peak LLM rate {rate:.3g} requests/s (rate x growth x headroom) is above the "
                         f"{MAX_ARRIVAL_RATE_PER_S:.0e} requests/s limit")
    if rate < MIN_ARRIVAL_RATE_PER_S:  # serve-plan's floor (hH63: 1e-300 reached a search at 0.0 requests/s)
        raise InputError(f"peak LLM rate {rate:.3g} requests/s is below serve-plan's {MIN_ARRIVAL_RATE_PER_S:g} "
                         "requests/s floor")
    kv_dtype, speculative_tokens, acceptance, try_speculative = options
    return search_capacity(model, system, rate, workload=workload, ttft_slo=ttft, tpot_slo=tpot, dtypes=dtypes,
                           max_gpus=max_gpus, requests=LLM_PROBE_REQUESTS, seed=LLM_SEED, stack=stack,
                           kv_dtype=kv_dtype, speculative_tokens=speculative_tokens, acceptance=acceptance,
                           try_speculative=try_speculative, answer_only=True)  # its answer alone is read (hS70)


def asked_stack(svc: Any, pool_stack: str | None) -> str | None:
    """The serving stack asked of an LLM service's deployment on a pool: the pool's `stack`, else the service's,
    else None (`stack_placement.serving_stack_for` then runs the part's vendor default): `plan`'s and
    `fleet-mix`'s precedence (a pool of MTIA parts can run vLLM while the GPU pools keep their default)."""
    return pool_stack if pool_stack is not None else svc.stack


def stack_basis(svc: Any, pool: str, pool_stack: str | None, accelerator: Accelerator) -> tuple[str, str]:
    """(the serving stack the deployment on `pool` ran, why): whose `stack` asked it (`asked_stack`), and the
    lines `stack_placement.serving_stack_for` gives with it (the vendor default's reason; an asked stack priced off
    its vendors). InputError where it refuses (the search refuses the same)."""
    asked = asked_stack(svc, pool_stack)
    engine, lines = serving_stack_for(asked, accelerator)
    if pool_stack is not None:
        over = f" (service {svc.name!r} names {svc.stack})" if svc.stack not in (None, pool_stack) else ""
        whose = f"the `stack` of pool {pool!r}{over}"
    elif svc.stack is not None:
        whose = f"the `stack` of service {svc.name!r} (pool {pool!r} names none)"
    else:
        whose = (f"neither pool {pool!r} nor service {svc.name!r} names a `stack`: the default on "
                 f"{accelerator.vendor} parts")
    return engine.name, "; ".join([whose, *lines])


def _search_for(svc: Any, device: str, rate: float, max_gpus: int, stack: str | None) -> ServingPlanResult:
    return serve_plan_search(svc.model or "", device, rate, svc.workload or "", svc.ttft_slo, svc.tpot_slo,
                   tuple(svc.dtypes), stack, llm_options(svc), max_gpus)


def serve_plan_command(svc: Any, device: str, rate: float, max_gpus: int, stack: str | None = None) -> str:
    """The `infraplan serve-plan` line whose answer a row names (same search, same limit, the asked stack)."""
    args = ["infraplan", "serve-plan", svc.model or "", "--system", device, "--rate", number_text(rate),
            "--workload", svc.workload or "", "--dtypes", ",".join(svc.dtypes), "--max-gpus", str(max_gpus)]
    args += ["--ttft-slo", number_text(svc.ttft_slo)] if svc.ttft_slo is not None else []
    args += ["--tpot-slo", number_text(svc.tpot_slo)] if svc.tpot_slo is not None else []
    kv_dtype, k, acceptance, try_speculative = llm_options(svc)
    args += ["--kv-dtype", kv_dtype] if kv_dtype else []
    args += ["--speculative-tokens", str(k)] if k else []
    args += ["--acceptance", number_text(acceptance)] if acceptance is not None else []
    args += ["--try-speculative"] if try_speculative else []
    return shlex.join(args + (["--stack", stack] if stack else []))


def deployment_short(replicas: int, tp: int, pp: int, dtype: str, devices: int, *, attention_dp: int = 1,
                     max_batch: int | None = None, prefill: int | None = None, decode: int | None = None) -> str:
    """A deployment in a few words (fleet-mix's "operating point" column, `plan`'s LLM detail): "158 replicas of TP1
    PP4 fp8 (4 devices each, 632 in all)", the replica count and the devices both said (hF60: "158 x TP1 PP4" read
    as 158 GPUs); where the replicas are not all TP x PP x attention DP devices (a prefill pool of its own layout,
    replicas of unequal devices) "(632 devices in all)"; then the disaggregated prefill (+ decode) replicas and the
    batch limit where given."""
    each = tp * pp * attention_dp
    size = (f"{each:,} device{'' if each == 1 else 's'} each, {devices:,} in all" if each * replicas == devices
            else f"{devices:,} devices in all")
    pools = ("" if prefill is None else f"{prefill:,} prefill" + (f" + {decode:,} decode" if decode is not None
                                                                   else "") + "; ")
    dp = f" DP-attention{attention_dp}" if attention_dp > 1 else ""
    parts = [f"{replicas:,} replica{'' if replicas == 1 else 's'} of TP{tp} PP{pp}{dp} {dtype} ({pools}{size})"]
    parts += [f"batch <= {max_batch}"] if max_batch is not None else []
    return ", ".join(parts)


def deployment_line(r: ServingPlanResult) -> str:
    """The chosen deployment as serve-plan's first line prints it."""
    d = r.deployment
    assert d is not None
    pre, own = getattr(d, "prefill", None), ""  # a prefill layout of its own (`serving.capacity_layouts`); stub: none
    if pre is not None and _pool_layout(pre) != _pool_layout(d):
        own = f" TP{pre.tp}" + (f" DP-attention{pre.attention_dp} EP{pre.ep}" if pre.attention_dp > 1 else "")
        own += f" MoE-TP{pre.moe_tp}" if getattr(pre, "moe_tp", 1) > 1 else ""  # a MoE-TP prefill pool (hY54)
    pools = (f" ({d.prefill_replicas} prefill{own} + {d.decode_replicas} decode replicas, disaggregated)"
             if d.disaggregated else "")
    idle = f" ({r.gpus - d.gpus} idle)" if getattr(d, "gpus_held", None) and r.gpus else ""  # `replica_packing`
    return (f"{r.gpus} × {r.accelerator}{idle}: {d.replicas} replica{'' if d.replicas == 1 else 's'} of "
            f"{_layout_words(r, pools)}")


def _pool_layout(x: Any) -> tuple[int, ...]:
    """A pool's (TP, attention DP, EP, MoE TP), 1 for what a stub lacks."""
    return tuple(getattr(x, k, 1) for k in ("tp", "attention_dp", "ep", "moe_tp"))


def _layout_words(r: ServingPlanResult, pools: str = "") -> str:
    """The layout of serve-plan's answer: TP PP (attention DP), dtypes, batch cap, `pools`, stack."""
    d = r.deployment
    assert d is not None
    wide = f" DP-attention{d.attention_dp} EP{d.ep}" if d.attention_dp > 1 else ""
    wide += f" MoE-TP{d.moe_tp}" if getattr(d, "moe_tp", 1) > 1 else ""  # `serving.capacity_layouts`
    k = getattr(d, "speculative_tokens", 0)  # serve-plan's drafts (`serving.capacity_space`); a stub's: none
    drafts = f", {k} draft token{'s' if k > 1 else ''} a step (acceptance {d.acceptance:g})" if k else ""
    return (f"TP{d.tp} PP{d.pp}{wide}, {d.dtype} weights, {d.kv_dtype} KV{drafts}, batch ≤ {d.max_batch}{pools}, "
            f"stack {r.stack}")


def missed_slo_note(r: ServingPlanResult) -> str | None:
    """The line a `plan` or `fleet-mix` row of serve-plan's answer `r` carries where that answer is a miss: its probes
    met the SLOs, but no whole run of the search did (`serving.capacity`: "a miss is answered ... only when no level's
    whole runs meet", `meets_slo_full_run` false, `why` its reason). serve-plan warns; the two planners named the
    deployment with no word (hG57: the gigawatt-2027 chat searched within 576 GB300, 441 prefill + 103 decode,
    TTFT p99 1.73 s of 2 s over 100,000 requests, its decode queue unsettled). None where the whole run met."""
    if r.meets_slo_full_run is not False:
        return None
    return (f"serve-plan's answer for {significant_text(r.rate_per_s, 4)} requests/s on {r.gpus} accelerators misses "
            f"its SLOs over its whole run ({r.why}): its probes met them, no whole run of the search did, so this "
            "row's SLOs are not shown met")


def _detail(r: ServingPlanResult, device: str, command: str, basis: tuple[str, str]) -> dict[str, Any]:
    d, s = r.deployment, r.serve
    assert d is not None and s is not None
    missed = missed_slo_note(r)
    return {"deployment": deployment_line(r), "serving_stack": basis[0], "serving_stack_basis": basis[1],
            "tp": d.tp, "pp": d.pp, "attention_dp": d.attention_dp, "dtype": d.dtype, "kv_dtype": d.kv_dtype,
            "precision": precision_words(d.dtype, d.kv_dtype, Cluster.resolve(device).accelerator),
            "replicas": d.replicas, "disaggregated": d.disaggregated,
            "prefill_replicas": d.prefill_replicas, "ttft_p99_s": s.ttft_s.p99, "tpot_p99_s": s.tpot_s.p99,
            "joules_per_token": s.joules_per_token, "meets_slo_full_run": r.meets_slo_full_run,
            "serve_plan": command, **({"note": missed} if missed else {})}


def llm_option(svc: Any, device: str, kind: str, pool: str = "", pool_stack: str | None = None,
               rate: float | None = None) -> dict[str, Any]:
    """Per replica-unit capacity (requests/s) and devices per unit of `device` (pool `pool`, its `stack`) serving
    the LLM service at its whole peak rate (or `rate`: a finer option's, `finer_options`), or {'reason': why not}."""
    if kind in ("cpu", "video-asic"):
        return {"reason": f"{device} ({kind}) does not run LLM serving"}
    rate, stack = llm_peak_rate(svc) if rate is None else rate, asked_stack(svc, pool_stack)
    try:
        r = _search_for(svc, device, rate, LLM_MAX_GPUS, stack)
        basis = stack_basis(svc, pool or device, pool_stack, Cluster.resolve(device).accelerator)
    except InputError as exc:
        return {"reason": spec_words(str(exc), svc)}
    d = r.deployment
    if r.gpus is None or d is None or r.serve is None:  # none found (a miss: `feasible` false, a deployment: hJ57)
        return {"reason": r.why or "no deployment meets the SLOs"}
    units, _ = split_units(d, r.gpus)
    return {"capacity": rate / units, "unit_devices": r.gpus // units, "units": units, "unit": "requests/s",
            "rate": rate, "stack": stack, "basis": basis, "unit_words": (*_unit_words(d, units), _layout_words(r)),
            "detail": _detail(r, device, serve_plan_command(svc, device, rate, LLM_MAX_GPUS, stack), basis)}


def finer_options(svc: Any, device: str, kind: str, pool: str, pool_stack: str | None,
                  whole: dict[str, Any]) -> list[dict[str, Any]]:
    """Options of finer units than the whole-rate answer `whole` where its unit serves more than R / FINE_UNITS:
    serve-plan's answers at R / 2, R / 4, ... (`finer_units`, the rule `plan` runs too), each split into its own
    units (`split_units`). Each is an option the MILP may take units of beside the whole-rate one."""
    def at(rate: float) -> tuple[float, int, dict[str, Any]] | None:
        opt = llm_option(svc, device, kind, pool, pool_stack, rate)
        return None if "reason" in opt else (opt["capacity"], opt["unit_devices"], opt)

    return finer_units(whole["rate"], whole["capacity"], whole["unit_devices"], at)


def finer_units(rate: float, capacity: float, unit_devices: int,
                option_at: Callable[[float], tuple[float, int, _Option] | None]) -> list[_Option]:
    """The finer options of a whole-rate answer at `rate` whose unit serves `capacity` requests/s on `unit_devices`
    devices (module doc; fleet-mix's `finer_options` and `plan`'s `scenario_sizing.size_options`, one rule): while
    the last option kept serves more than rate / FINE_UNITS, `option_at(rate / 2**k)` for k = 1 ..
    FINER_HALVINGS (its (capacity, unit devices, option), or None where the search finds nothing: no halving
    below helps), each kept where its unit holds fewer devices than every coarser option's. A unit of one device
    has no finer one (no unit holds fewer), so the halvings below it are not searched: the options are the same
    (the benchmark's 8B services on H100, H200 and B200 ran 30 such searches, every answer dropped, hP25)."""
    out: list[_Option] = []
    last, coarsest = capacity, unit_devices
    for k in range(1, FINER_HALVINGS + 1):
        if last <= rate / FINE_UNITS * (1 + 1e-9) or coarsest <= 1:
            break
        got = option_at(rate / 2**k)
        if got is None:
            break
        if got[1] < coarsest:
            last, coarsest = got[0], got[1]
            out.append(got[2])
    return out


def split_units(d: LLMDeployment, gpus: int) -> tuple[int, str]:
    """(u, why one unit) of serve-plan's answer `d` on `gpus` accelerators: the whole-rate units the MILP may split
    over pools, each at R / u requests/s on gpus / u accelerators, so every replica keeps the load it carried in the
    whole-rate answer. Colocated: its replicas (u = replicas). Disaggregated, P prefill + D decode replicas: g =
    gcd(P, D) groups of P / g + D / g (a group's KV transfer stays in its pool; R / P per prefill and R / D per decode
    replica as before). One unit (u = 1, with why) where the replicas' devices do not divide into u equal units, or
    P and D have no common factor."""
    if not d.disaggregated:
        return (d.replicas, "") if d.replicas > 0 and gpus % d.replicas == 0 else (1, "its replicas are of unequal "
                                                                                    "devices")
    p, dec = d.prefill_replicas or 0, d.decode_replicas or 0
    g = math.gcd(p, dec)
    if g <= 1:
        return 1, (f"a disaggregated deployment of {p} prefill + {dec} decode replicas has no smaller group in that "
                   "ratio")
    per = [x.tp * x.pp * x.attention_dp for x in (d.prefill, d.decode) if x is not None]
    if len(per) != 2 or p * per[0] + dec * per[1] != gpus:
        return 1, "its devices do not divide into equal groups of that ratio"
    return g, ""


def _unit_words(d: LLMDeployment, units: int) -> tuple[str, int, int | None]:
    """(what one MILP unit is, its replicas, its prefill replicas): one replica, or one disaggregated group."""
    if not d.disaggregated:
        return "replica", d.replicas // units, None
    p, dec = (d.prefill_replicas or 0) // units, (d.decode_replicas or 0) // units
    return f"{p} prefill + {dec} decode replicas", p + dec, p


def llm_shares(svc: Any, device: str, parts: list[tuple[dict[str, Any], int]],
               share_rate: float) -> tuple[int, dict] | None:
    """(devices, detail) of units of several options of one pool (the whole-rate answer's and `finer_options`') the
    MILP gave one service: serve-plan's answer at their share within all their accelerators, one deployment; None
    where it finds nothing (each option's units then stand as `llm_share` gives them)."""
    opt, limit = parts[0][0], sum(units * o["unit_devices"] for o, units in parts)
    return _share_search(svc, device, opt, limit, share_rate)[0]


def _share_search(svc: Any, device: str, opt: dict[str, Any], limit: int,
                  share_rate: float) -> tuple[tuple[int, dict] | None, str | None]:
    """serve-plan's answer at `share_rate` within `limit` accelerators of `device`, on option `opt`'s stack: its
    (devices, detail) where it finds a deployment (a miss too: said by `missed_slo_note`), else None and its why."""
    r = _search_for(svc, device, share_rate, limit, opt["stack"])
    if r.gpus is not None and r.deployment is not None and r.serve is not None:
        return (r.gpus, _detail(r, device, serve_plan_command(svc, device, share_rate, limit, opt["stack"]),
                                opt["basis"])), None
    return None, r.why


def llm_share(svc: Any, device: str, opt: dict[str, Any], units: int, share_rate: float) -> tuple[int, dict]:
    """(devices, detail) of `units` units (replicas, or disaggregated groups: `split_units`) the MILP gave `device`
    for `share_rate` requests/s (module doc): the whole-rate answer when the share is the whole rate, else
    serve-plan's answer at the share within those units' accelerators, else the units of the whole-rate answer as it
    ran them (a group keeps its prefill and decode replicas), with a note."""
    limit = units * opt["unit_devices"]
    if units == opt["units"] and math.isclose(share_rate, opt["rate"], rel_tol=1e-12):
        return limit, opt["detail"]
    found, why = _share_search(svc, device, opt, limit, share_rate)
    if found is not None:
        return found
    whole, (what, replicas, prefill, layout) = opt["detail"], opt["unit_words"]
    many = ("replica" if units == 1 else "replicas") if prefill is None else \
        f"group{'' if units == 1 else 's'} of {what}, disaggregated,"
    return limit, {**whole, "deployment": f"{limit} × {device}: {units} {many} of {layout}",
                   "replicas": units * replicas, "prefill_replicas": None if prefill is None else units * prefill,
                   "note": f"serve-plan finds no deployment for {significant_text(share_rate, 4)} requests/s within "
                           f"{limit} accelerators ({why}); {units} {'unit' if units == 1 else 'units'} of the "
                           f"whole-rate answer ({what} each, {significant_text(opt['capacity'], 4)} requests/s as it "
                           "ran them) stand"}

