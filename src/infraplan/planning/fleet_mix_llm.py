"""LLM services in fleet-mix: how many devices of each pool serve a request rate under TTFT / TPOT SLOs.

Each pool whose device runs LLM serving is sized by the capacity search `infraplan serve-plan` runs
(`serving.capacity.search_capacity`: the same stack, dtypes, SLOs, 1,500 probe requests, seed 0) at the service's
whole peak rate R, within `LLM_MAX_GPUS` accelerators (the limit `plan` searches with; the MILP, not the search,
applies the pool's `available`). Its answer becomes the MILP's integer unit: one replica of the chosen layout
(TP x PP x attention-DP accelerators, `unit_devices`) serving R / replicas requests/s at the SLO; a disaggregated
answer's prefill and decode replicas share one layout and count alike (R / (prefill + decode) per replica).

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
  the share's accelerators, the u replicas of the whole-rate layout stand, said in the row's `note`;
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
the whole rate, plus one per share the MILP splits.
The stack a pool's deployment runs: the pool's `stack`, else the service's, else the part's vendor default
(`asked_stack`, then `serving.engines.serving_stack_for`, the one place a stack is chosen); each row says which
and why (`serving_stack`, `serving_stack_basis`: `stack_basis`), `plan`'s service rows alike.
"""

from __future__ import annotations

import math
import shlex
from typing import Any

from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.serving_loader import load_workload
from infraplan.catalog.versioned_cache import versioned_args_cache
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.limits import MAX_ARRIVAL_RATE_PER_S
from infraplan.serving.capacity import search_capacity
from infraplan.serving.engines import serving_stack_for
from infraplan.serving.results import ServingPlanResult
from infraplan.units import number_text

LLM_MAX_GPUS = 16384  # the search's limit at the whole rate (`plan`'s too: scenario_sizing.SERVING_MAX_GPUS)
LLM_PROBE_REQUESTS = 1500  # serve-plan's default --requests
LLM_SEED = 0  # serve-plan's default --seed


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


@versioned_args_cache(maxsize=1024)
def serve_plan_search(model: str, system: str, rate: float, workload: str, ttft: float | None, tpot: float | None,
                      dtypes: tuple[str, ...], stack: str | None, max_gpus: int) -> ServingPlanResult:
    """serve-plan's answer at its defaults (1,500 probe requests, seed 0), cached: fleet-mix's and `plan`'s LLM
    services alike (`planning.scenario_sizing.size_llm`). A rate above `serve --rate`'s limit is one line."""
    if not math.isfinite(rate) or rate > MAX_ARRIVAL_RATE_PER_S:
        raise InputError(f"peak LLM rate {rate:.3g} requests/s (rate x growth x headroom) is above the "
                         f"{MAX_ARRIVAL_RATE_PER_S:.0e} requests/s limit")
    return search_capacity(model, system, rate, workload=workload, ttft_slo=ttft, tpot_slo=tpot, dtypes=dtypes,
                           max_gpus=max_gpus, requests=LLM_PROBE_REQUESTS, seed=LLM_SEED, stack=stack)


def asked_stack(svc: Any, pool_stack: str | None) -> str | None:
    """The serving stack asked of an LLM service's deployment on a pool: the pool's `stack`, else the service's,
    else None (`serving.engines.serving_stack_for` then runs the part's vendor default): `plan`'s and
    `fleet-mix`'s precedence (a pool of MTIA parts can run vLLM while the GPU pools keep their default)."""
    return pool_stack if pool_stack is not None else svc.stack


def stack_basis(svc: Any, pool: str, pool_stack: str | None, accelerator: Accelerator) -> tuple[str, str]:
    """(the serving stack the deployment on `pool` ran, why): whose `stack` asked it (`asked_stack`), and the
    lines `serving.engines.serving_stack_for` gives with it (the vendor default's reason; an asked stack priced off
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
                   tuple(svc.dtypes), stack, max_gpus)


def serve_plan_command(svc: Any, device: str, rate: float, max_gpus: int, stack: str | None = None) -> str:
    """The `infraplan serve-plan` line whose answer a row names (same search, same limit, the asked stack)."""
    args = ["infraplan", "serve-plan", svc.model or "", "--system", device, "--rate", number_text(rate),
            "--workload", svc.workload or "", "--dtypes", ",".join(svc.dtypes), "--max-gpus", str(max_gpus)]
    args += ["--ttft-slo", number_text(svc.ttft_slo)] if svc.ttft_slo is not None else []
    args += ["--tpot-slo", number_text(svc.tpot_slo)] if svc.tpot_slo is not None else []
    return shlex.join(args + (["--stack", stack] if stack else []))


def deployment_short(replicas: int, tp: int, pp: int, dtype: str, *, times: str = "x", max_batch: int | None = None,
                     prefill: int | None = None, decode: int | None = None) -> str:
    """A deployment in a few words (fleet-mix's "operating point" column, `plan`'s LLM detail): replicas x TP PP
    dtype, then the batch limit and the disaggregated prefill (+ decode) replicas where given."""
    parts = [f"{replicas} {times} TP{tp} PP{pp} {dtype}"]
    parts += [f"batch <= {max_batch}"] if max_batch is not None else []
    parts += [f"{prefill} prefill" + (f" + {decode} decode" if decode is not None else "")] if prefill is not None \
        else []
    return ", ".join(parts)


def deployment_line(r: ServingPlanResult) -> str:
    """The chosen deployment as serve-plan's first line prints it."""
    d = r.deployment
    assert d is not None
    pools = (f" ({d.prefill_replicas} prefill + {d.decode_replicas} decode replicas, disaggregated)"
             if d.disaggregated else "")
    wide = f" DP-attention{d.attention_dp} EP{d.ep}" if d.attention_dp > 1 else ""
    return (f"{r.gpus} × {r.accelerator}: {d.replicas} replica{'' if d.replicas == 1 else 's'} of TP{d.tp} "
            f"PP{d.pp}{wide}, {d.dtype} weights, {d.kv_dtype} KV, batch ≤ {d.max_batch}{pools}, stack {r.stack}")


def _detail(r: ServingPlanResult, command: str, basis: tuple[str, str]) -> dict[str, Any]:
    d, s = r.deployment, r.serve
    assert d is not None and s is not None
    return {"deployment": deployment_line(r), "serving_stack": basis[0], "serving_stack_basis": basis[1],
            "tp": d.tp, "pp": d.pp, "attention_dp": d.attention_dp,
            "dtype": d.dtype, "replicas": d.replicas, "disaggregated": d.disaggregated,
            "prefill_replicas": d.prefill_replicas, "ttft_p99_s": s.ttft_s.p99, "tpot_p99_s": s.tpot_s.p99,
            "joules_per_token": s.joules_per_token, "meets_slo_full_run": r.meets_slo_full_run,
            "serve_plan": command}


def llm_option(svc: Any, device: str, kind: str, pool: str = "", pool_stack: str | None = None) -> dict[str, Any]:
    """Per replica-unit capacity (requests/s) and devices per unit of `device` (pool `pool`, its `stack`) serving
    the LLM service at its whole peak rate, or {'reason': why not}."""
    if kind in ("cpu", "video-asic"):
        return {"reason": f"{device} ({kind}) does not run LLM serving"}
    rate, stack = llm_peak_rate(svc), asked_stack(svc, pool_stack)
    try:
        r = _search_for(svc, device, rate, LLM_MAX_GPUS, stack)
        basis = stack_basis(svc, pool or device, pool_stack, Cluster.resolve(device).accelerator)
    except InputError as exc:
        return {"reason": str(exc)}
    d = r.deployment
    if not r.feasible or r.gpus is None or d is None or r.serve is None:
        return {"reason": r.why or "no deployment meets the SLOs"}
    gpr = r.gpus // d.replicas
    return {"capacity": rate / d.replicas, "unit_devices": gpr, "units": d.replicas, "unit": "requests/s",
            "rate": rate, "stack": stack, "basis": basis,
            "detail": _detail(r, serve_plan_command(svc, device, rate, LLM_MAX_GPUS, stack), basis)}


def llm_share(svc: Any, device: str, opt: dict[str, Any], units: int, share_rate: float) -> tuple[int, dict]:
    """(devices, detail) of `units` replicas the MILP gave `device` for `share_rate` requests/s (module doc): the
    whole-rate answer when the share is the whole rate, else serve-plan's answer at the share within those units'
    accelerators, else the units of the whole-rate layout with a note."""
    limit = units * opt["unit_devices"]
    if units == opt["units"] and math.isclose(share_rate, opt["rate"], rel_tol=1e-12):
        return limit, opt["detail"]
    r = _search_for(svc, device, share_rate, limit, opt["stack"])
    if r.feasible and r.gpus is not None and r.deployment is not None and r.serve is not None:
        return r.gpus, _detail(r, serve_plan_command(svc, device, share_rate, limit, opt["stack"]), opt["basis"])
    whole = opt["detail"]
    line = whole["deployment"].split(": ", 1)[1].split(" of ", 1)[1]
    return limit, {**whole, "deployment": f"{limit} × {device}: {units} replicas of {line}", "replicas": units,
                   "note": f"serve-plan finds no deployment for {share_rate:.4g} requests/s within {limit} "
                           f"accelerators ({r.why}); the whole-rate layout at {opt['capacity']:.4g} requests/s "
                           "per replica stands"}

