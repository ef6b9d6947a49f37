"""A recommendation device's p99 latency under load: Poisson requests, greedy dynamic batching, one rule.

The one latency rule of `recsys --latency-slo`, fleet-mix's and `plan`'s recsys pools (planning/pool_capacity.py)
and the MLPerf DLRM-v2 Server rows (validation/recsys_mlperf.py, MLPerf LoadGen's Server scenario: Poisson query
arrivals, a p99 latency bound): requests arrive as a Poisson stream at `rate` a device; when the device frees, it
takes every request waiting (at least the next one to arrive) up to the batch cap into one batch, which occupies the
device for its period (max of device time and host-link time: `recsys.estimate.evaluate_batches`) and is answered
after its latency (device + host link). A request's latency is its wait for the batch in service (and any queued
before it) plus its own batch's latency; with no timeout the device never idles while a request waits, so nothing
waits to FILL a batch (the batch-fill wait (B - 1) / lambda of a fixed-size batcher is the cost this policy avoids;
the Triton dynamic batcher at max_queue_delay 0 and TensorRT's MLPerf harness batch so). Batch-service queues of this
kind (M/G^[b]/1 with a general batch-size rule) have no closed-form p99 (Chaudhry & Templeton, "A First Course in Bulk
Queues", 1983, recalled: closed forms cover the mean of fixed-threshold rules), so the p99 is read from a seeded
simulation of `QUERIES` arrivals (numpy; deterministic: `SEED`), and the sustained rate is the highest whose p99 meets
the bound, by `BISECTION_STEPS` halvings below the device's saturated throughput.

`P99_UNDER_LOAD` switches `recsys --latency-slo` (and so the pools) to this rule; off (the default: it fails three
gated custom-silicon cases, see the toggle), an SLO is met by one batch's latency at 100 % busy, which answers a
20 ms p99 with a 14.3 ms batch whose 256 requests take 13.7 ms to arrive (MTIA v2, dlrm-high: 18,702 QPS; on,
10,844 QPS at a p99 of 20.0 ms). A request is one sample (one user-item pair): a request carrying its own candidates
is a batch of its own, the MLPerf rows' `pairs_per_sample`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

import numpy as np

# `recsys --latency-slo` and the recsys pools read the p99 under load; OFF (session 54, hR): on, the custom-silicon
# set's gated MTIA v1 cases at its assumed 20 ms SLO fail (v1 / A100 average 1.23 -> 0.18, v2 / v1 4.03 -> 44.9:
# v1's dlrm-high batch of 1 takes 13.6 ms, so a 20 ms p99 admits almost no load);
# validation/notes/custom_silicon_tried.md, hR (session 54)
P99_UNDER_LOAD = False
QUERIES = 100_000  # simulated arrivals per trial rate, at least
HORIZON_BATCHES = 100  # ... and at least this many full batches of the cap, so that a rate the cap's batch cannot
# sustain builds its backlog within the run (MLPerf's DLRM-v2 cap, 970 queries, stays at QUERIES)
BISECTION_STEPS = 14  # halvings of [0, saturated throughput]: the rate to 2^-14 of the ceiling
SEED = 0
PERCENTILE = 99.0


def unit_arrivals(queries: int = QUERIES) -> np.ndarray:
    """Seeded unit-rate Poisson arrival times (exponential gaps, cumulated); a trial rate divides them."""
    return np.cumsum(np.random.default_rng(SEED).exponential(1.0, queries))


def greedy_batches(arrivals_s: np.ndarray, period_s: np.ndarray, latency_s: np.ndarray,
                   slo_s: float = np.inf) -> tuple[np.ndarray | None, float]:
    """(each request's latency, the seconds the device is occupied) under greedy dynamic batching on one device;
    (None, ...) as soon as so many requests exceed `slo_s` that the p99 must (a trial rate's early exit).

    `arrivals_s` sorted; `period_s[q - 1]` / `latency_s[q - 1]`: how long a batch of q requests occupies the device
    and how long until its results are back. When the device frees, every request waiting (at least the next one)
    up to len(period_s) requests forms the next batch.
    """
    arrivals, period, latency = arrivals_s.tolist(), period_s.tolist(), latency_s.tolist()  # the loop: per batch
    n, cap = len(arrivals), len(period)
    over_limit = n - int(PERCENTILE / 100.0 * (n - 1)) + 1  # this many above the SLO put the p99 above it
    starts, sizes = [], []
    free, i, busy, over = 0.0, 0, 0.0, 0
    while i < n:
        start = max(free, arrivals[i])
        q = min(bisect_right(arrivals, start, i, min(n, i + cap + 1)) - i, cap)  # >= 1: arrivals[i] <= start
        starts.append(start)
        sizes.append(q)
        free = start + period[q - 1]
        busy += period[q - 1]
        if slo_s < np.inf:  # the batch's requests that arrived over slo_s before its answer (1 ns of margin)
            over += bisect_left(arrivals, start + latency[q - 1] - slo_s - 1e-9, i, i + q) - i
            if over >= over_limit:
                return None, busy
        i += q
    size = np.asarray(sizes)
    done = np.repeat(np.asarray(starts) + latency_s[size - 1], size)
    return done - arrivals_s, busy


def p99_s(arrivals_s: np.ndarray, period_s: np.ndarray, latency_s: np.ndarray, slo_s: float = np.inf) -> float:
    """The p99 request latency of greedy dynamic batching (`greedy_batches`); inf once it must exceed `slo_s`."""
    waits = greedy_batches(arrivals_s, period_s, latency_s, slo_s)[0]
    return np.inf if waits is None else float(np.percentile(waits, PERCENTILE))


def sustained_rate(period_s: np.ndarray, latency_s: np.ndarray, ceiling_per_s: float, slo_s: float,
                   queries: int = QUERIES) -> tuple[float, float]:
    """(highest Poisson requests/s on one device whose p99 latency meets `slo_s`, that p99) by bisection below
    `ceiling_per_s` on `queries` seeded arrivals; (0, 0) where none does (a lone request misses the bound)."""
    unit = unit_arrivals(max(queries, HORIZON_BATCHES * period_s.size))
    low, high, p99_low = 0.0, ceiling_per_s, 0.0
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (low + high)
        p99 = p99_s(unit / mid, period_s, latency_s, slo_s)
        if p99 <= slo_s:
            low, p99_low = mid, p99
        else:
            high = mid
    return low, p99_low


def busy_fraction(rate_per_s: float, period_s: np.ndarray, latency_s: np.ndarray,
                  queries: int = QUERIES) -> float:
    """Fraction of time the device is occupied at `rate_per_s` (the simulated span's batches' periods)."""
    if rate_per_s <= 0:
        return 0.0
    arrivals = unit_arrivals(max(queries, HORIZON_BATCHES * period_s.size)) / rate_per_s
    waits, busy = greedy_batches(arrivals, period_s, latency_s)
    assert waits is not None  # no SLO: every request is simulated
    return min(1.0, busy / float(arrivals[-1] + waits[-1]))


def slo_point(period_s: np.ndarray, latency_s: np.ndarray, caps: list[int], slo_s: float,
              most_throughput: bool = True) -> dict[str, float]:
    """The batch cap of `caps` with the highest sustained rate under `slo_s` (`sustained_rate`; the smaller cap on
    ties), its rate, p99 and busy fraction. `period_s` / `latency_s` hold batches of 1 ... max(caps) requests.
    `most_throughput`: with them the batch of the most throughput (A100's dlrm-low: 3,456, where 4,096 adds a wave,
    so a cap above it falls into the slower batch under a backlog). Caps whose own full batch misses the SLO are
    left out but the smallest; they are tried from the largest down, stopping where the rate falls (a smaller cap
    only limits what a backlog may take), so the cheap large-batch trials come first. A cap's rates are tried below
    its full batch's throughput, not the best smaller batch's: a backlog fills every batch to the cap, so a rate
    above cap / period(cap) grows the queue without bound, which a finite run shorter than a few SLOs can miss
    (A100 dlrm-low --batch 4096 at a 1 s p99: the 3,456 batch's 10.03 M QPS on 409,600 arrivals, 41 ms of them)."""
    q = np.arange(1, period_s.size + 1)
    caps = [*caps, int(np.argmax(q / period_s)) + 1] if most_throughput else caps
    fit = sorted({c for c in caps if latency_s[c - 1] <= slo_s} or {min(caps)}, reverse=True)
    best: dict[str, float] = {"batch": float(fit[-1]), "rate_per_s": 0.0, "p99_s": 0.0}
    for cap in fit:
        # under a backlog every batch is the cap's: a rate above its full batch's throughput never drains (hF54)
        rate, p99 = sustained_rate(period_s[:cap], latency_s[:cap], float(cap / period_s[cap - 1]), slo_s)
        if rate < best["rate_per_s"]:
            break
        if rate > 0:
            best = {"batch": float(cap), "rate_per_s": rate, "p99_s": p99}
    cap = int(best["batch"])
    best["busy_fraction"] = busy_fraction(best["rate_per_s"], period_s[:cap], latency_s[:cap])
    return best
