"""How long `serve-plan`'s whole run lasts, and whether it ran long enough to judge (hS49).

The whole run that confirms an answer starts empty and lasts a finite horizon. Near capacity a pool's queue
settles slowly: an M/M/1 queue relaxes towards its steady state in E[S] / (1 - sqrt(rho))^2 (Morse, "Stochastic
properties of waiting lines", Operations Research 3 (1955); Whitt, "Planning queueing simulations", Management
Science 35 (1989): a simulation's run length scales with it), and in heavy traffic a GI/G/1 queue in that times
(ca^2 + cs^2) / 2 (its reflected Brownian motion's variance over M/M/1's: Abate & Whitt, "Transient behavior of
regulated Brownian motion, I", Adv. Appl. Prob. 19 (1987)); unbounded at rho >= 1, where the queue never settles. A
decode engine also fills its slots over the lives of its longest requests (an M/G/infinity system nears its steady
count in the mean residual life E[L^2] / 2 E[L]; Kleinrock, "Queueing Systems" vol. 1, sec. 5.2).

Measured (hB49, hS49): gigawatt-2027's 2026 chat (Llama 3 70B fp8 on GB300 at 2,400 requests/s), 221 prefill + 52
decode replicas, met TTFT p99 over a 100,000-request run (42 s: 1.90 s against 2 s) and missed at 400,000 (167 s:
2.85 s, by quarters 1.94, 2.60, 2.93, 3.18 s): its decode pool sits at utilisation ~1 (here a relaxation time of
508 s; 54 decode replicas 29 s, 56 10 s, the prefill pool 7.4 s). With 240 prefill replicas the same 52 decode
replicas met at 100,000 (1.44 s) and missed at 400,000 (2.83 s). 221 + 56 met at 100,000 (1.86 s; 2.07 s over its
later half) and missed at 400,000 (2.05 s): the run's first quarter (1.49 s) is the decode pool filling.

So (`capacity.search_capacity`'s whole run): it lasts at least RELAXATIONS relaxation times of its slowest pool
(`whole_run_requests`); its TTFT percentile holds past the warm-up (RELAXATIONS / 2 of them) as well as over the
whole (`judged_run`, `later_misses`: the warm-up deleted, as the probes delete theirs); and a pool whose relaxation
time needs a run beyond HORIZON_MAX_REQUESTS is a miss (its queue cannot be shown to settle). Each pool's
(`pool_time_constants`): a prefill pool's service is a replica's offline seconds a prompt (`Candidate.offline_s`,
prefill-only), varying as the prompt tokens (ASSUMPTION: prefill seconds in proportion to tokens); a decode pool's
is `capacity_candidate.decode_request_s`'s engine seconds a request, per request (the least per-sequence step time:
its rho is a lower bound, `decode_utilisation`); a colocated replica's both; arrivals: a replica's round-robin share
of the run's renewal stream (as `replica_share` routes them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.network.collectives import Fabric
from infraplan.serving.capacity_candidate import candidate_for
from infraplan.serving.llm_iteration import Deployment, IterationCost
from infraplan.serving.loop_stepping import cost_tables
from infraplan.serving.workloads import Requests

# The whole run spans at least RELAXATIONS relaxation times of its slowest pool: a warm-up of RELAXATIONS / 2 (within
# e^-4 ~ 2 % of the steady state for an exponential approach) and as long again judged. ASSUMPTION: 8 (hS49: the
# answers judged so meet at 4x their run: gigawatt-2027's 2026 / 2027 chat, and tests/serving/
# test_whole_run_horizon_hS49.py's scaled case).
RELAXATIONS = 8.0
# The most requests a whole run is lengthened to (ASSUMPTION: a CPU bound, ~1 s of simulation for gigawatt-2027's
# 273 replicas at 2,400 requests/s); a pool needing more is judged a miss (`whole_run_requests`).
HORIZON_MAX_REQUESTS = 400_000
# A miss known only by the later half or a pool's settling is retried as a near miss (`replica_search.grown`, its
# ratio just above 1): one more replica lowers the pool's utilisation.
NEAR_MISS_RATIO = math.nextafter(1.0, 2.0)


def cv2(x: np.ndarray) -> float:
    """The squared coefficient of variation of `x` (0 for fewer than two values or a zero mean)."""
    x = np.asarray(x, dtype=np.float64)
    mean = float(x.mean()) if x.size > 1 else 0.0
    return float(x.var() / mean**2) if mean > 0 else 0.0


def share_ca2(arrival_s: np.ndarray, replicas: int) -> float:
    """The squared coefficient of variation of one replica's inter-arrival gaps under round robin: a sum of
    `replicas` consecutive gaps of the run's renewal stream (Poisson, gamma), so the stream's cv^2 / replicas."""
    return cv2(np.diff(np.asarray(arrival_s))) / max(1, replicas)


def queue_time_constant_s(rho: float, ca2: float, cs2: float, service_s: float) -> float:
    """A queue's relaxation time (module docstring): E[S] / (1 - sqrt(rho))^2 for M/M/1, times the variability
    (ca^2 + cs^2) / 2; inf at rho >= 1."""
    if rho >= 1.0:
        return math.inf
    return (ca2 + cs2) / 2.0 * service_s / (1.0 - math.sqrt(rho)) ** 2


def decode_request_seconds(cost: IterationCost, dep: Deployment, lengths: Requests) -> np.ndarray:
    """`capacity_candidate.decode_request_s`'s engine seconds of each request (the same terms, per request)."""
    steps = dep.decode_steps(lengths.output_tokens).astype(np.float64)
    step_s = np.asarray(cost_tables(cost, dep.max_batch)[3][1:])
    per_sequence_s = float(np.min(step_s / np.arange(1, len(step_s) + 1)))
    cached = steps * lengths.input_tokens + cost.decode_growth_tokens * steps * (steps - 1) / 2.0
    return per_sequence_s * steps + cost.kv_token_s * cached + cost.per_finish_s * (steps > 0)


def fill_time_constant_s(cost: IterationCost, dep: Deployment, lengths: Requests) -> float:
    """A decode engine's slot fill: the mean residual life E[L^2] / 2 E[L] of its requests' lives L at a full
    batch (the decode steps at the full batch's step time)."""
    steps = dep.decode_steps(lengths.output_tokens).astype(np.float64)
    life_s = steps * float(cost_tables(cost, dep.max_batch)[3][dep.max_batch])
    mean = float(life_s.mean())
    return float((life_s**2).mean() / (2.0 * mean)) if mean > 0 else 0.0


def pool_time_constants(rate: float, arrival_s: np.ndarray, lengths: Requests, replicas: int,
                        prefill_s: float | None, decode: tuple[IterationCost, Deployment] | None) -> list[float]:
    """The time constants (s) of one pool of `replicas` at `rate` requests/s: its queue's, and a decode engine's
    fill. `prefill_s`: a replica's offline seconds a prompt (None: the pool runs no prefill); `decode`: the cost and
    deployment its decode steps run on (None: no decode)."""
    lam = rate / replicas
    mean_tokens = float(lengths.input_tokens.mean())
    service = np.zeros(len(lengths))
    if prefill_s is not None:  # in proportion to the prompt tokens (ASSUMPTION)
        service += prefill_s * lengths.input_tokens / mean_tokens
    out = []
    if decode is not None:
        cost, dep = decode
        service += decode_request_seconds(cost, dep, lengths) / dep.engines_per_replica
        out.append(fill_time_constant_s(cost, dep, lengths))
    mean_s = float(service.mean())
    out.append(queue_time_constant_s(lam * mean_s, share_ca2(arrival_s, replicas), cv2(service), mean_s))
    return out


def option_time_constants(shape: TransformerShape, acc: Accelerator, fabric: Fabric, dep: Deployment,
                          option: dict[str, Any], rate: float, arrival_s: np.ndarray, offline: tuple[Requests, str],
                          lengths: Requests) -> tuple[list[float], list[float]]:
    """The time constants of an option's pools (`pool_time_constants`): (the prefill pool's or a colocated
    replica's, the decode pool's: empty when colocated). `dep`: its replica's deployment (the search's candidate,
    `candidate_for`); `arrival_s`: a stream at `rate` (its gaps); `offline`: the
    search's offline sample and its fingerprint (a replica's offline prefill seconds a prompt, every prompt present
    at t = 0: `Candidate.offline_s`); `lengths`: a long sample of the workload's lengths (the service times' law)."""
    cand = candidate_for(shape, acc, fabric, dep)
    req, key = offline
    prefill_s = cand.offline_s(req, key, "prefill") / len(req)
    replicas, prefill = option["replicas"], option["prefill_replicas"]
    decode = (cand.priced(lengths, "decode"), cand.dep)
    if not option["disaggregated"]:
        return pool_time_constants(rate, arrival_s, lengths, replicas, prefill_s, decode), []
    return (pool_time_constants(rate, arrival_s, lengths, prefill, prefill_s, None),
            pool_time_constants(rate, arrival_s, lengths, replicas - prefill, None, decode))


def whole_run_requests(rate: float, least: int, time_constants: list[float]) -> tuple[int, bool]:
    """The whole run's requests: at least `least` and RELAXATIONS of the slowest time constant at `rate`, at most
    HORIZON_MAX_REQUESTS; and whether that covers them (False: a pool whose queue cannot be shown to settle, its run
    then `least` requests, judged a miss)."""
    slowest = max(time_constants, default=0.0)
    needed = rate * RELAXATIONS * slowest
    if not math.isfinite(needed) or needed > HORIZON_MAX_REQUESTS:
        return least, False  # a miss whatever it reads: not lengthened
    return max(least, math.ceil(needed)), True


def later_misses(over_whole: int | None, over_first: int | None, later: int, q: float) -> bool:
    """Whether a whole run's requests past its warm-up miss the q-th percentile: those over the SLO (the whole run's
    count less its warm-up's, run alone: on FCFS engines a first token depends only on the requests before it,
    hB49) exceed the share 1 - q / 100 of its `later` requests (None: no SLO counted)."""
    if over_whole is None or over_first is None or later <= 0:
        return False
    return over_whole - over_first > (1.0 - q / 100.0) * later


def unsettled(rate: float, time_constants: list[float]) -> bool:
    """Whether a pool of these time constants needs a run beyond HORIZON_MAX_REQUESTS (`whole_run_requests`)."""
    return not whole_run_requests(rate, 0, time_constants)[1]


def judged_run(simulate: Callable[[Requests], dict[str, Any]], reqs: Requests, key: str, slo: tuple[float, float],
               q: float, sides: tuple[bool, bool], warm_s: float) -> tuple[dict[str, Any], float, float, str]:
    """A whole run's serve metrics, its TTFT and TPOT percentile over their SLOs (a retry's near miss, just above 1,
    where only the steady part or a pool's settling missed: `replica_search.grown`), and why it missed beyond its
    percentiles. `sides`: (the prefill pool or a colocated replica, the decode pool) cannot be shown to settle;
    `warm_s`: the warm-up (RELAXATIONS / 2 of the slowest time constant), whose requests TTFT is also judged
    without."""
    result = simulate(reqs)
    ratios = [result["ttft_s"][key] / slo[0], result["tpot_s"][key] / slo[1]]
    late, why = list(sides), ""
    if any(sides):
        why = f"a pool's queue does not settle within {HORIZON_MAX_REQUESTS:,} requests (utilisation near 1)"
    elif max(ratios) <= 1.0 and 0 < (cut := int(np.searchsorted(reqs.arrival_s, warm_s))) < len(reqs) and (
            later_misses(result["ttft_over_slo_count"], 0, len(reqs) - cut, q)):  # (else none can miss past it)
        # met over the whole run: TTFT past its warm-up too (the warm-up's requests run alone: their first tokens
        # are the whole run's on FCFS engines); not TPOT: run alone, the last of them decode in smaller batches
        alone = simulate(Requests(reqs.arrival_s[:cut], reqs.input_tokens[:cut], reqs.output_tokens[:cut]))
        late[0] = later_misses(result["ttft_over_slo_count"], alone["ttft_over_slo_count"], len(reqs) - cut, q)
        why = "past its warm-up it misses the TTFT SLO (a queue still building)" if late[0] else ""
    ttft_ratio, tpot_ratio = (max(r, NEAR_MISS_RATIO) if m else r for r, m in zip(ratios, late, strict=True))
    return result, ttft_ratio, tpot_ratio, why
