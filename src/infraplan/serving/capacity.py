"""Capacity search: the fewest accelerators, and the deployment, that serve a QPS target within SLOs.

Candidates: weight dtype (every one the accelerator supports among those asked), TP (powers of two inside
the scale-up domain dividing the heads; PP 2/4/8 only when no TP alone fits), batch cap, and colocated or
disaggregated prefill/decode pools. For each candidate:

1. an offline run of one replica gives its peak output rate, hence a lower bound on replicas
   (`rate * mean output tokens / peak`); candidates whose bound already exceeds the best answer are pruned;
2. replicas are found by doubling from the bound, then bisection: one replica is simulated under Poisson
   arrivals at `rate / replicas` (the share round-robin routing gives it), and meets the target when the
   p-th percentile of TTFT and of TPOT are within their SLOs (MLPerf Server uses p99 for both);
   a disaggregated candidate sizes its prefill pool on TTFT (prefill-only engines) and its decode pool on
   TPOT (decode-only engines fed the prompts' KV caches) separately;
3. the winner (fewest GPUs; ties: lowest mean end-to-end latency) is re-simulated as a whole deployment at
   the full rate and reported with the serve metrics.

The serving stack (`stack`, as `serve --stack`: a profile name, a versioned engine name or a YAML;
`serving.engines`) is given, not searched: its KV-memory convention sizes every candidate's cache, its
scheduler runs the probes, its batch limit caps the batch caps tried and its token budget is the chunked-
prefill budget unless one is given.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.cluster.cost import usd_per_accelerator_hour_if_priced
from infraplan.errors import InputError
from infraplan.network.collectives import Fabric
from infraplan.serving.engines import ServingEngine, load_engine
from infraplan.serving.kv_cache import kv_capacity
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.results import ServingPlanResult
from infraplan.serving.serving_api import build_requests
from infraplan.serving.serving_sim import fit_check, run_pool, simulate_deployment
from infraplan.serving.workloads import Requests, clip_to_context

DTYPES = ("bf16", "fp8", "int8", "int4")
BATCH_CAPS = (64, 256)
FULL_RUN_REQUESTS_PER_REPLICA = 300
FULL_RUN_MAX_REQUESTS = 100_000


def _meets(ttft: np.ndarray | None, tpot: np.ndarray | None, slo: tuple[float, float], q: float) -> bool:
    ok = True
    if ttft is not None:
        ok &= bool(np.percentile(ttft, q) <= slo[0])
    if tpot is not None and tpot.size:
        ok &= bool(np.percentile(tpot, q) <= slo[1])
    return ok


class _Candidate:
    """One (dtype, TP, PP, batch cap) deployment shape: its cost tables and replica-level probes."""

    def __init__(self, shape: TransformerShape, acc: Accelerator, fabric: Fabric, dep: Deployment) -> None:
        self.dep = dep
        self.cost = build_iteration_cost(shape, acc, fabric, dep)
        cap = kv_capacity(shape, acc, dep.tp, dep.pp, dep.dtype, dep.kv_dtype, dep.token_budget, dep.max_batch,
                          dep.block_tokens, engine=dep.stack)
        self.cap = cap
        self.blocks = cap.blocks // dep.pp

    def run(self, req: Requests, mode: str):
        zeros = np.zeros_like(req.input_tokens)
        inp, out = req.input_tokens, req.output_tokens
        if mode == "prefill":
            return run_pool(self.cost, self.dep, self.blocks, req.arrival_s, inp, zeros, zeros, self.dep.pp)
        if mode == "decode":
            return run_pool(self.cost, self.dep, self.blocks, req.arrival_s, zeros, inp, out - 1, self.dep.pp)
        return run_pool(self.cost, self.dep, self.blocks, req.arrival_s, inp, zeros, out - 1, self.dep.pp)

    def meets(self, req: Requests, mode: str, slo: tuple[float, float], q: float) -> bool:
        r = self.run(req, mode)
        ttft = r.first_token_s - req.arrival_s
        multi = req.output_tokens > 1
        tpot = (r.finish_s - r.first_token_s)[multi] / (req.output_tokens[multi] - 1)
        if mode == "decode":
            tpot = (r.finish_s - req.arrival_s)[multi] / (req.output_tokens[multi] - 1)
            return _meets(None, tpot, slo, q)
        return _meets(ttft, None if mode == "prefill" else tpot, slo, q)


def _fewest_replicas(meets, low: int, high: int) -> int | None:
    """Smallest r in [low, high] with meets(r) (assumed monotone), by doubling then bisection."""
    r = max(low, 1)
    while not meets(r):
        if r >= high:
            return None
        low, r = r + 1, min(2 * r, high)
    hi = r
    while low < hi:
        mid = (low + hi) // 2
        if meets(mid):
            hi = mid
        else:
            low = mid + 1
    return hi


def search_capacity(model: str, system: str, rate: float, *, workload: str | None = None,
                    input_len: int | None = None, output_len: int | None = None, ttft_slo: float | None = None,
                    tpot_slo: float | None = None, dtypes: tuple[str, ...] = ("bf16", "fp8"),
                    batch_caps: tuple[int, ...] = BATCH_CAPS, token_budget: int | None = None,
                    percentile: float = 99.0, max_gpus: int | None = None, requests: int = 1500,
                    disaggregation: bool = True, seed: int = 0,
                    stack: str | ServingEngine | None = None) -> ServingPlanResult:
    """The fewest accelerators serving `rate` requests/s of the workload within the SLOs (see module doc).

    `stack`: the serving stack profile (None: the default, `serving.engines`); `token_budget` None: the stack's.
    """
    if not rate > 0:
        raise InputError(f"--rate must be > 0 requests/s, got {rate}")
    if (workload is None) == (input_len is None or output_len is None):
        raise InputError("give --workload or both --input-len and --output-len")
    spec = load_workload(workload) if workload else None
    if spec is not None and spec.kind != "llm":
        raise InputError(f"serve-plan searches LLM deployments; workload {workload!r} is {spec.kind}")
    ttft = ttft_slo if ttft_slo is not None else (spec.ttft_slo_s if spec else None)
    tpot = tpot_slo if tpot_slo is not None else (spec.tpot_slo_s if spec else None)
    if ttft is None or tpot is None:
        raise InputError("give --ttft-slo and --tpot-slo (or a workload that defines them)")
    if not 0 < percentile <= 100:
        raise InputError("--percentile must be in (0, 100]")
    engine = load_engine(stack)
    budget = engine.token_budget if token_budget is None else token_budget
    caps = sorted({min(c, engine.offline_max_batch) for c in batch_caps})  # the stack's batch limit binds
    shape = load_model(model)
    cluster = Cluster.resolve(system)
    sys_spec, acc, fabric = cluster.system, cluster.accelerator, cluster.fabric
    limit = max_gpus or sys_spec.total_accelerators
    unknown = set(dtypes) - set(DTYPES)
    if unknown:
        raise InputError(f"unknown dtype {sorted(unknown)[0]!r}; choose from {', '.join(DTYPES)}")
    kinds = [d for d in dtypes if d in ("bf16", "int4") or acc.supports(d)]
    slo = (ttft, tpot)
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= sys_spec.node.scale_up_domain and shape.num_heads % t == 0]

    def probe(rate_r: float | None, seed_r: int, n: int = requests) -> Requests:
        r = build_requests(spec, None, input_len, output_len, n, rate_r, seed_r)
        return clip_to_context(r, shape.max_seq_len)[0]

    sample = probe(None, seed)

    options: list[dict[str, Any]] = []
    rejected: list[str] = []
    best = math.inf
    evaluated = 0
    for pp in (1, 2, 4, 8):
        for dtype in kinds:
            for tp in tps:
                for cap_b in caps:
                    dep = Deployment(tp=tp, pp=pp, dtype=dtype, kv_dtype="fp8" if dtype == "fp8" else "bf16",
                                     max_batch=cap_b, token_budget=max(budget, cap_b), engine=engine.engine,
                                     stack=engine.ref)
                    if dep.gpus_per_replica > limit or shape.num_layers < pp:
                        continue
                    cand = _Candidate(shape, acc, fabric, dep)
                    why = fit_check(shape, cand.cap, dep, sample, acc)
                    if why:
                        rejected.append(f"{dtype} TP{tp} PP{pp} batch {cap_b}: {why}")
                        continue
                    evaluated += 1
                    gpr = dep.gpus_per_replica
                    peak = cand.run(sample, "mixed")
                    peak_rate = float(sample.output_tokens.sum() / np.nanmax(peak.finish_s))
                    low = max(1, math.ceil(rate * float(sample.output_tokens.mean()) / peak_rate))
                    if low * gpr > min(best, limit):
                        continue
                    high = limit // gpr
                    modes = [("mixed",)] + ([("prefill", "decode")] if disaggregation and high >= 2 else [])
                    for mode in modes:
                        counts = []
                        for part in mode:
                            def ok(r: int, part: str = part, cand: _Candidate = cand) -> bool:
                                return cand.meets(probe(rate / r, seed), part, slo, percentile)
                            start = 1 if part == "prefill" else (low if part == "mixed" else 1)
                            counts.append(_fewest_replicas(ok, start, high))
                        if any(c is None for c in counts) or sum(counts) > high:  # type: ignore[arg-type]
                            continue
                        total = sum(counts) * gpr  # type: ignore[arg-type]
                        best = min(best, total)
                        options.append({"gpus": total, "dtype": dtype, "tp": tp, "pp": pp, "max_batch": cap_b,
                                        "replicas": sum(counts),  # type: ignore[arg-type]
                                        "prefill_replicas": counts[0] if len(counts) == 2 else 0,
                                        "disaggregated": len(counts) == 2})
        if options:
            break  # pipeline parallelism only when nothing fits without it
    if not options:
        return ServingPlanResult(model=shape.name, system=sys_spec.name, rate_per_s=rate, feasible=False,
                                 stack=engine.name,
                                 why=(rejected[-1] if rejected and not evaluated else
                                      f"no deployment within {limit} accelerators meets the SLOs"),
                                 rejected=rejected[:20])
    options.sort(key=lambda o: (o["gpus"], o["disaggregated"], o["tp"], -o["max_batch"]))
    chosen = options[0]
    dep = Deployment(tp=chosen["tp"], pp=chosen["pp"], dtype=chosen["dtype"],
                     kv_dtype="fp8" if chosen["dtype"] == "fp8" else "bf16", max_batch=chosen["max_batch"],
                     token_budget=max(budget, chosen["max_batch"]), engine=engine.engine, stack=engine.ref)
    dep = replace(dep, replicas=chosen["replicas"])
    n_full = min(max(requests, FULL_RUN_REQUESTS_PER_REPLICA * chosen["replicas"]), FULL_RUN_MAX_REQUESTS)
    full = probe(rate, seed, n_full)
    price = usd_per_accelerator_hour_if_priced(cluster)
    result = simulate_deployment(shape, cluster, dep, full, prefill_replicas=chosen["prefill_replicas"],
                                 ttft_slo_s=ttft, tpot_slo_s=tpot, usd_per_hour=price)
    key = "p99" if percentile >= 99 else ("p90" if percentile >= 90 else "p50")
    return ServingPlanResult.model_validate({
        "model": shape.name, "system": sys_spec.name, "accelerator": acc.name,
        "workload": workload or f"fixed {input_len}/{output_len}", "rate_per_s": rate, "feasible": True,
        "stack": engine.name,
        "gpus": chosen["gpus"], "deployment": result["deployment"],
        "slo": {"ttft_s": ttft, "tpot_s": tpot, "percentile": percentile},
        "meets_slo_full_run": bool(result["ttft_s"][key] <= ttft and result["tpot_s"][key] <= tpot),
        "serve": {k: result[k] for k in ("output_tokens_per_s", "requests_per_s", "ttft_s", "tpot_s", "e2e_s",
                                         "slo_attainment", "joules_per_token", "usd_per_million_tokens")},
        "alternatives": options[1:10], "candidates_evaluated": evaluated, "rejected": rejected[:20],
    })
