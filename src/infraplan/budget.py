"""Memory budget: refuse a question whose working set would not fit, before allocating it.

Three commands hold a working set that grows with the question: the flow simulation (bytes per simulated
flow x flows), the plan search (bytes per candidate plan x plans) and the serving simulation (bytes per
request x requests). Each estimates its peak up front from a per-item cost measured on this code (peak RSS
over two sizes, the slope) and calls `require_memory`, which raises a one-line InputError naming the
estimate, the limit and the cheaper alternative instead of dying with MemoryError minutes later.

The limit is `DEFAULT_MEMORY_LIMIT_BYTES` (8 GiB, what a laptop or a 2-core CI runner can give one process)
unless the environment variable `INFRAPLAN_MEMORY_LIMIT` sets another (e.g. `32GiB`).
"""

from __future__ import annotations

import os

from infraplan.errors import InputError
from infraplan.units import parse_bytes

DEFAULT_MEMORY_LIMIT_BYTES = 8.0 * 2**30
MEMORY_LIMIT_ENV = "INFRAPLAN_MEMORY_LIMIT"
# Serving simulation: peak traced bytes (tracemalloc, numpy included) per request, the slope between 5,000 and
# 50,000 requests of llama3-8b on 8 H100: 60 B open loop, 82 B offline, 89 B with the chat workload's
# sampled lengths (measured on this code); 128 B keeps a margin for the per-request arrays of longer runs.
SERVING_BYTES_PER_REQUEST = 128.0
# Flow simulation: peak RSS per flow, the slope between the 2,048- and 8,192-GPU spread all-to-alls on the 3-tier
# 24k RoCE fabric (1.05 M -> 4.12 M flows, 288 -> 947 MiB, 225 B per flow; measured on this code), as a base plus
# a part per tier (routing's two int32 path columns per tier, the class key, the incidence); 240 B at 3 tiers.
FLOW_BYTES_PER_FLOW = 120.0
FLOW_BYTES_PER_FLOW_PER_TIER = 40.0


def memory_limit_bytes() -> float:
    """The working-set limit in bytes: `INFRAPLAN_MEMORY_LIMIT` if set, else 8 GiB."""
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_MEMORY_LIMIT_BYTES
    try:
        limit = parse_bytes(text)
    except InputError:
        raise InputError(f"{MEMORY_LIMIT_ENV}={text!r}: expected a size such as 8GiB or 32GB") from None
    if not limit > 0:
        raise InputError(f"{MEMORY_LIMIT_ENV}={text!r}: the limit must be positive")
    return limit


def format_bytes(count: float) -> str:
    """Binary-prefixed size with three significant figures: 512 KiB, 1.5 MiB, 7.3 TiB."""
    for power, prefix in ((4, "TiB"), (3, "GiB"), (2, "MiB"), (1, "KiB")):
        if count >= 2 ** (10 * power):
            return f"{count / 2 ** (10 * power):.3g} {prefix}"
    return f"{count:.0f} B"


def require_serving_memory(requests: int) -> None:
    """Refuse a serving simulation whose per-request arrays would not fit the memory limit."""
    require_memory(requests * SERVING_BYTES_PER_REQUEST, f"a serving simulation of {requests:,} requests",
                   "simulate fewer requests with --requests (the latency percentiles settle within a few thousand)")


def require_memory(estimate_bytes: float, what: str, alternative: str) -> None:
    """Raise a one-line InputError when `estimate_bytes` exceeds the limit; `what` names the work."""
    limit = memory_limit_bytes()
    if estimate_bytes > limit:
        raise InputError(f"{what} needs about {format_bytes(estimate_bytes)} of memory, over the "
                         f"{format_bytes(limit)} limit ({MEMORY_LIMIT_ENV} raises it); {alternative}")
