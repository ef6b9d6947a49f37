"""NCCL's small-message latency inside one NVLink domain: a base plus one LL step per ring hop (hK, session 60).

NCCL's tuning model prices a ring collective's latency as baseLat + nsteps x hwLat (src/graph/tuning.cc; the
constants read from the 2.20.5 / 2.23.4 binaries, validation/notes/network_flow_tried.md hD session 57: ring LL
baseLat 6.6 us, NVLink ring LL hwLat 0.6 us), with nsteps = 2 (n - 1) for an all-reduce and n - 1 for an all-gather or
reduce-scatter; inside one node its tree is a chain through the n ranks (2 (n - 1) intra-node hops, the form
`network.fabric.PIPELINED_TREE_LATENCY` cites), so below the bandwidth-bound sizes NCCL runs the LL ring. NVIDIA
AIConfigurator 0.12.0's NCCL 2.29.2 tables (validation/calibration/aic_nccl_collectives.py) show that line on every
board: at 1-4 KiB the all-gather / reduce-scatter time is base + (n - 1) x step over 2 / 4 / 8 ranks, and the
all-reduce (not read here) base + 2 (n - 1) x step with the same two constants (H100 4.36 us + 0.86 us a step:
6.1 / 9.5 / 16.4 us at 2 / 4 / 8 ranks priced, 6.2 / 9.5 / 15.6 measured at 512 B; B300 6.55 + 1.34: 25.3 priced,
24.6 measured at 8). Across the 4-GPU trays of one GB300 NVL72 domain (NCCL treats an NVL72 as one node: MNNVL) the
same line holds out of sample: 25.3 / 46.7 us priced at 8 / 16 ranks, 27.9 / 48.1 measured at 512 B (SGLang
0.5.14's PyNCCL fallback, gb300/comm/sglang/0.5.14/custom_allreduce_perf.parquet; TensorRT-LLM's NCCL fallback at 8:
27.27), where the alpha-beta tree priced 18 / 24 us.

So, with `IN_DOMAIN_LL_LATENCY` on, a sized collective inside one NVLink domain of an accelerator with a measured
table (`nvlink_collectives.table_file`) is priced as NCCL picks its protocol by size: the faster of LL (the line plus
the bandwidth term at LL's half rate, `LL_BANDWIDTH_SHARE`) and the large-message protocols (the model's alpha-beta
time: 3 us a ring step, `fabric.SCALE_UP_LATENCY_S`, the in-domain tree's 2 ceil(log2 n) steps, NVLS) held at least
at the line, LL's latency being NCCL's lowest (its tuner: LL 6.6 + 0.6 us a step, LL128 14 + 1.9, Simple 8.4 + 3.4).
The all-gather / reduce-scatter line has n - 1 steps, the all-reduce's 2 (n - 1) (one LL price whatever algorithm is
named: the line is a ring's, and NCCL's tree inside a node is a chain of the same steps), the all-to-all its own
line fitted on the table's all-to-all column (`ALL_TO_ALL_LINE`: its n - 1 sends / receives run as one group, so the
step is a peer's issue cost, 0.17-0.43 us). The measured curves still bound every size from below. The line is the
least-squares fit of the smallest time at <= 4 KiB (noise only adds) against the step count, per accelerator.
Large messages are unchanged (the alpha-beta time there is above the line: the network validation cases keep their
bits), and so are groups across domains (outside their in-domain legs) and accelerators without a table. Beyond 16
ranks the ring line is extrapolated (no measurement: at 72 ranks 187-196 us for a tiny Blackwell all-reduce, where NCCL
may run NVLS, which the catalog gives no Blackwell rate). Measured with the switches on and off:
validation/notes/network_flow_tried.md, hK (session 60).

The all-to-all's line is held at the tables' largest group (8 GPUs, 7 peers) beyond it (`A2A_LINE_HELD`, hF66).
Extrapolated, a slope fitted on three noisy floors (1 / 3 / 7 peers) was multiplied ten-fold at an NVL72's 71 peers:
B200's 9.08 us + 0.246 us a peer gave 26.6 us, B300's 8.23 + 0.430 gave 38.7 us, from 8-GPU floors 10.67 and 11.19 us
(its 2-GPU floors 9.06 and 8.56); GB300 takes B300's table, so each of wide-EP R1 decode's 116 dispatch / combine
all-to-alls cost 12.2 us more on GB300 than on GB200 (1.41 ms a step), TPOT p50 11.61 against 10.99 ms at 36
requests/s. The one measurement beyond 8 ranks on an NVL72 (AIConfigurator 0.12.0 systems/data/gb200/comm/trtllm/
1.3.0rc10/trtllm_alltoall_perf.parquet, TensorRT-LLM's NVLinkTwoSided all-to-all, 1 token, nvfp4) does not grow
with the peers: dispatch 12.32 / 12.20 / 12.20 / 12.14 us at EP 8 / 16 / 32 / 64 (combine 14.18 / 14.14 us at EP 8 /
32, 18.5-24.6 us at 4-16 tokens on EP64). Held: 10.8 us on GB200 and 11.2 us on GB300 at <= 4 KiB. ASSUMPTION for
NCCL's own all-to-all beyond 8 ranks, which no table measures. A serving engine with its own measured NVL72 all-to-all
(TensorRT-LLM's wide EP) prices its MoE dispatch / combine from that table instead (`serving.ep_alltoall_tables`, hW67).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from infraplan.catalog.data_files import read_rows
from infraplan.network import nvlink_collectives
from infraplan.network.fabric import Fabric, group_domain
from infraplan.scalar_path import NUMPY_OPS, MathOps

IN_DOMAIN_LL_LATENCY = True  # the measured LL line inside a domain (module docstring); False: alpha-beta latency
ALL_TO_ALL_LINE = True  # the all-to-all's own line too (with IN_DOMAIN_LL_LATENCY; module docstring)
# NCCL's LL protocol stores 8 data bytes with their flags in each 16-byte line (ncclLLFifoLine, src/device/
# prims_ll.h, RECALLED: ASSUMPTION), so it moves data at half the link's rate; Simple at the full rate
LL_BANDWIDTH_SHARE = 0.5
A2A_LINE_HELD = True  # the all-to-all line held beyond the tables' 8 GPUs (docstring, hF66); False: extrapolated
A2A_LINE_MAX_PEERS = float(max(nvlink_collectives.TABLE_GPUS) - 1)  # the tables' largest group: 8 GPUs, 7 peers
LATENCY_ROWS_MAX_BYTES = 4096  # the table rows read as pure latency (the bandwidth term < 0.1 % of the time)

# (base seconds, seconds a step) of the ring collectives and of the all-to-all
Line = tuple[float, float]


def fit_line(steps: list[float], seconds: list[float]) -> Line:
    """Least-squares (intercept, slope) of `seconds` against `steps`."""
    slope, intercept = np.polyfit(np.asarray(steps), np.asarray(seconds), 1)
    return float(intercept), float(slope)


@cache
def table_lines(table: str) -> tuple[Line, Line]:
    """(ring line, all-to-all line) of a catalog/nccl collectives table: the smallest measured time at
    <= LATENCY_ROWS_MAX_BYTES per GPU count, the ring's the mean of the all-gather and reduce-scatter columns."""
    rows = [r for r in read_rows("infraplan.catalog", "nccl", table)
            if float(r["size_bytes"]) <= LATENCY_ROWS_MAX_BYTES]

    def floor_s(op: str, gpus: int) -> float:
        return 1e-6 * min(float(r[f"{op}_{gpus}gpu_us"]) for r in rows)

    gpu_counts = nvlink_collectives.TABLE_GPUS  # the table's columns
    steps = [g - 1.0 for g in gpu_counts]
    ring = [0.5 * (floor_s("all_gather", g) + floor_s("reduce_scatter", g)) for g in gpu_counts]
    return fit_line(steps, ring), fit_line(steps, [floor_s("alltoall", g) for g in gpu_counts])


def prices(accelerator: str) -> bool:
    """Whether the line prices an in-domain collective of `accelerator`: the switch on and a measured table."""
    return IN_DOMAIN_LL_LATENCY and nvlink_collectives.table_file(accelerator) is not None


def lines(fabric: Fabric) -> tuple[Line, Line] | None:
    """The accelerator's lines, or None: the switch off, or no measured table."""
    if not prices(fabric.accelerator):
        return None
    table = nvlink_collectives.table_file(fabric.accelerator)
    return None if table is None else table_lines(table)


def _inside(xp: MathOps, fabric: Fabric, n: Any, stride: Any) -> Any:
    domain = group_domain(fabric, n, stride)
    return (n * stride <= domain) & (n > 1) if xp is NUMPY_OPS else (n * stride <= domain and n > 1)


def alpha_beta(xp: MathOps, fabric: Fabric, n: Any, stride: Any, steps: Any, bandwidth_s: Any, plain_latency_s: Any,
               all_to_all: bool = False, known_inside: bool = False) -> Any:
    """The alpha-beta time of a sized ring collective (or all-to-all) of `steps` steps: `bandwidth_s` plus
    `plain_latency_s` (the Simple protocol's line, the model's alpha-beta), or where the group lies in one domain of
    an accelerator with a line the faster of that and the LL protocol's: the line plus the bandwidth term at LL's
    share (`LL_BANDWIDTH_SHARE`), as NCCL picks the protocol by size. `known_inside`: the caller knows one group of
    n > 1 ranks in one domain (the float collectives' `not crosses`): the in-domain test's True, not asked again."""
    both = lines(fabric)
    if both is None or (all_to_all and not ALL_TO_ALL_LINE):
        return bandwidth_s + plain_latency_s
    base, step = both[1] if all_to_all else both[0]
    # the all-to-all's line held at the table's largest group beyond it (`A2A_LINE_HELD`, hF66)
    held = xp.minimum(steps, A2A_LINE_MAX_PEERS) if all_to_all and A2A_LINE_HELD else steps
    line = base + held * step
    ll = bandwidth_s / LL_BANDWIDTH_SHARE + line
    simple = bandwidth_s + xp.maximum(plain_latency_s, line)  # (LL's latency is NCCL's lowest)
    if known_inside:  # (`xp.where`'s pick of a true test)
        return xp.minimum(ll, simple)
    return xp.where(_inside(xp, fabric, n, stride), xp.minimum(ll, simple), bandwidth_s + plain_latency_s)


def all_reduce_plain(xp: MathOps, fabric: Fabric, n: Any, stride: Any, ring_bw_s: Any, plain: Any,
                     algorithm: str = "auto", known_inside: bool = False) -> Any:
    """A sized in-domain all-reduce of `algorithm` before the measured bound: the faster of the LL protocol (the
    line's 2 (n - 1) steps plus the ring's bandwidth term `ring_bw_s` at LL's share; the line is a ring's, and
    NCCL's tree inside a node is a chain of the same steps, so one LL price whatever the algorithm) and the
    alpha-beta time `plain` (the model's ring, tree and NVLS: the large-message protocols) held at least at the
    line (LL's latency is NCCL's lowest); `plain` elsewhere, and for NVLS asked for by name. `known_inside`: as
    `alpha_beta`'s."""
    both = lines(fabric)
    if both is None or algorithm == "nvls":
        return plain
    base, step = both[0]
    line = base + 2.0 * (n - 1.0) * step
    fastest = xp.minimum(ring_bw_s / LL_BANDWIDTH_SHARE + line, xp.maximum(plain, line))
    return fastest if known_inside else xp.where(_inside(xp, fabric, n, stride), fastest, plain)
