"""What one replica receives under the router `serve-plan` assumes: its share of the whole workload's arrivals.

The router (ROUTER, named in `serve-plan`'s result): round robin in arrival order over the fleet's engines, as
`serving_sim.run_pool` dispatches a whole run (request k to engine k mod r E, for r replicas of E engines: PP virtual
engines and attention-DP ranks; replica j holds engines jE .. jE + E - 1, as `wide_ep_lockstep` groups the ranks of a
replica). Round robin is SGLang's data-parallel default (sglang 0.5.6.post2 wheel, srt/server_args.py:365
`load_balance_method = "round_robin"`, srt/managers/data_parallel_controller.py:471-477); ASSUMPTION: a least-loaded
router (Dynamo's, SGLang's shortest_queue) balances at least as well, so it needs no more replicas. Replica 0's share
is global requests (m // E) r E + m mod E, m = 0, 1, ...: its first E - 1 gaps of a block are single gaps of the whole
stream, the next one spans (r - 1) E + 1 of them (`share_spans`). So its engine e gets requests e, e + rE, ...
exactly as engine e of the whole run does, and the stream is smoother than the whole workload's:
the sum of m i.i.d. gaps has cv / sqrt(m) (a gamma process of cv 2 at r = 16 single-engine replicas: cv 0.5).

Before (session 44 and earlier) a probe ran the whole workload's process thinned to rate / r, keeping its cv whole
(Poisson cv 1, the code-completion preset's gamma cv 2), while the whole run that checks the answer round-robins the
full stream; the probes so overstated the queues at many replicas (hN45, validation/notes/product_review_tried.md).

The share is drawn directly in its exact law (`workloads.arrival_times(spans=...)`: a sum of m Gamma(k, theta) gaps
is Gamma(m k, theta)), n requests at O(n), not the r n of the whole stream (the doubling probes up to the replica
limit: 16,384 replicas x 1,500 requests would be 24.6 M draws); lengths are i.i.d., so the share's are n draws. One
replica (r = 1) gives the whole stream itself, the same draws as `serve`'s.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.serving_loader import WorkloadSpec
from infraplan.serving.workloads import Requests, clip_to_context, fixed_requests, workload_requests

ROUTER = "round_robin"  # `serve-plan`'s result names it (module docstring)


def share_indices(n: int, replicas: int, engines: int) -> np.ndarray:
    """The whole stream's requests (of n, in arrival order) that replica 0 of `replicas` replicas of `engines` engines
    each receives: those `run_pool` sends to engines 0 .. engines - 1 of replicas x engines."""
    return np.flatnonzero(np.arange(n) % (replicas * engines) < engines)


def share_spans(n: int, replicas: int, engines: int) -> np.ndarray:
    """How many of the whole stream's gaps each of the share's n gaps spans (the first, before t = 0, one)."""
    spans = np.ones(n, dtype=np.int64)
    spans[engines::engines] = (replicas - 1) * engines + 1
    return spans


def replica_requests(spec: WorkloadSpec | None, input_len: int | None, output_len: int | None, n: int,
                     rate_per_s: float, seed: int, replicas: int, engines: int, context: int) -> Requests:
    """n requests of replica 0's share (module docstring) of the seeded stream at `rate_per_s` (the workload preset
    `spec`, else fixed lengths), a preset's long tail truncated to the `context` as `serve` truncates it."""
    spans = share_spans(n, replicas, engines)
    if spec is not None:
        drawn = workload_requests(spec, n, rate_per_s, seed, spans)
    else:
        drawn = fixed_requests(n, int(input_len or 0), int(output_len or 0), rate_per_s, seed, spans=spans)
    return clip_to_context(drawn, context)[0]
