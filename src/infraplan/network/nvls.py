"""NCCL's NVLS (NVLink SHARP) all-reduce inside one NVSwitch domain: in-switch reduction and multicast.

NCCL (>= 2.17, `NCCL_NVLS_ENABLE` on by default) runs all-reduce on NVSwitch gen3+ (HGX H100 / H200) with the
NVLS algorithm when its tuner predicts it faster: the switch reduces (multimem.ld_reduce) and multicasts the result
(multimem.st). In the reduce-scatter half each rank sends its whole buffer S into the switch and receives its
reduced S/n slice; in the all-gather half it sends its slice and receives all of S. So (1 + 1/n) S cross each
rank's links per direction:

    t_nvls = L_nvls + (1 + 1/n) S / B_nvls,

against the ring's 2 (n - 1)/n S: NVLS wins from ~4 ranks up, a TP2 pair stays on the ring. L_nvls is the latency
NCCL's own tuner gives NVLS (`NVLS_LATENCY_S`, 25 us), not two NVLink steps: with 2 L (6 us on the H100 board's 3 us
step) NVLS undercut the tree 3x at 8 B to 1 MiB, where AIConfigurator's measured NCCL 2.29.2 all-reduce on 8x H100
takes 18.7-25.4 us (catalog/nccl/aiconfigurator_h100_all_reduce.csv), and a size threshold had to keep it out.
B_nvls is the per-rank rate NVLS reaches (`Fabric.nvls_bytes_per_s`), derived from the accelerator's published NVLS
all-reduce busbw on the 8 GPUs of one board (`catalog.kernel_fits.KernelEfficiency.nvls_all_reduce_bus_bytes_per_s`: 8x
H100 SXM ~480 GB/s, GTC 2024 S62129 and nccl-tests users; 8x H200 475 GB/s, nccl-tests #272; against
365-370 GB/s for the ring, nccl-tests #212). The message-size efficiency is the ring's NVLink column
(`network.collective_efficiency`, ASSUMPTION: no published per-size NVLS curve found); below 16
MiB the measured in-domain all-reduce curve (`network.nvlink_all_reduce`, NCCL's own choice of algorithm by size) is
scaled to NVLS's rate where the fabric has it. NVLS takes part in `auto` at every size, with no size threshold of
its own: NCCL's tuner picks the algorithm and protocol of least predicted time (src/graph/tuning.cc), and NVLS's 25
us against the tree's and ring's latencies keeps it out of small messages (8 H100, alpha-beta: from ~3.8 MiB, where
its fewer bytes per rank repay the latency; hN, session 38, validation/notes/network_flow_tried.md).

On where the accelerator's entry enables it (`nvls_all_reduce_enabled`: h100-sxm, h200, h800: 215 GB/s, nccl issue
#1374, hF session 52), as NCCL enables NVLS by default. `network.collective_formulas._all_reduce` takes it in the
`auto` all-reduce (and by name, "nvls"), `_all_reduce_seconds` spells the same operations out on floats, and the
`collective` command prices it by name or in its `auto` with the same candidates (`network.collective_schedules`;
its flow simulation runs the ring and says so). Measured by toggling the flag on one tree (mean |error|, off ->
on): gated training 6.12 -> 6.12 %,
vTrain 7.58 -> 7.58 %, frontier training 13.06 -> 13.06 % (training TP runs reduce-scatter / all-gather),
dense Hopper serving 25.54 -> 25.32 % (TTFT 35.2 -> 34.8, TPOT 15.9 -> 15.8), MoE/MLA serving 20.43 -> 20.85 %,
disaggregated 42.2 -> 38.8 %, MLPerf v4.1 (inference section) 7.28 -> 7.28 %, MLPerf v5.1 24.4 -> 23.4 %, the
network section's NVLS case (now gated, run with `auto`) -23.2 -> -0.0 %, the section's 5 cases 5.1 -> 0.5 % (its
figure is also this model's input, so it is a consistency check). The MoE/MLA set moves because its TTFT is
already under-predicted (time the model misses elsewhere), not because NVLS is slower than priced.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infraplan.network.collective_efficiency import sized_time_xp
from infraplan.network.fabric import Fabric, group_domain
from infraplan.scalar_path import NUMPY_OPS, MathOps

# NCCL's predicted latency of an NVLS all-reduce inside one node: its tuner's (src/graph/tuning.cc) baseLat of NVLS
# (Simple protocol) is 0 and its NVLink hwLat 25 us, the latency of a one-node NVLS being that one term (nNodes > 1
# adds the network's; NVLS runs only the Simple protocol, its LL / LL128 entries are 0). Read from the NCCL 2.30.7
# binary (PyPI nvidia-nccl-cu13 2.30.7, lib/libnccl.so.2: the double tables at file offset 2946848, baseLat
# {6.8, 14, 8.4} tree, {6.6, 14, 8.4} ring, 0 for CollNet and NVLS, then hwLat NVLink {.6, 1.25, 4} tree,
# {.6, 1.9, 3.4} ring, {0, 0, 3.7} / {0, 0, 2.8} CollNet, {0, 0, 25} NVLS, {0, 0, 25} NVLS tree); how tuning.cc
# combines them for NVLS (latency = intraLat on one node) is from its source as remembered, not re-read here.
NVLS_LATENCY_S = 25e-6


def nvls_available(fabric: Fabric, n: float, stride: float) -> bool:
    """Whether NVLS can run the group at all: the fabric has an NVLS rate and the `n` ranks `stride` apart stay
    inside one scale-up (NVSwitch) domain."""
    return fabric.nvls_bytes_per_s > 0.0 and n * stride <= group_domain(fabric, n, stride)


def nvls_time_xp(xp: MathOps, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    """Seconds of an NVLS all-reduce of `size` bytes per rank over `n` ranks `stride` apart (`sized`: the
    message-size efficiency bound), infinite where NVLS does not run: the fabric has no NVLS rate or the group
    leaves the scale-up domain. The latency is NCCL's tuner's (`NVLS_LATENCY_S`), at every size."""
    if not fabric.nvls_bytes_per_s > 0.0:
        return math.inf
    inside = n * stride <= group_domain(fabric, n, stride)
    if xp is NUMPY_OPS and not np.any(inside):  # no group in one domain: `where`'s infinities, in its shape, the
        # sized time it would drop not priced
        return np.full(np.broadcast_shapes(np.shape(size), np.shape(n), np.shape(stride)), math.inf)
    bandwidth = (1.0 + 1.0 / n) * size / fabric.nvls_bytes_per_s
    t = sized_time_xp(xp, fabric, bandwidth + NVLS_LATENCY_S, bandwidth, size, n, stride, False, sized)
    return xp.where(inside, t, math.inf)
