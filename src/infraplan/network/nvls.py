"""NCCL's NVLS (NVLink SHARP) all-reduce inside one NVSwitch domain: in-switch reduction and multicast.

NCCL (>= 2.17, `NCCL_NVLS_ENABLE` on by default) runs all-reduce on NVSwitch gen3+ (HGX H100 / H200) with the
NVLS algorithm when its tuner predicts it faster: the switch reduces (multimem.ld_reduce) and multicasts the result
(multimem.st). In the reduce-scatter half each rank sends its whole buffer S into the switch and receives its
reduced S/n slice; in the all-gather half it sends its slice and receives all of S. So (1 + 1/n) S cross each
rank's links per direction, in two switch steps:

    t_nvls = 2 L + (1 + 1/n) S / B_nvls,

against the ring's 2 (n - 1)/n S: NVLS wins from ~4 ranks up, a TP2 pair stays on the ring. B_nvls is the per-rank
rate NVLS reaches (`Fabric.nvls_bytes_per_s`), derived from the accelerator's published NVLS all-reduce busbw on
the 8 GPUs of one board (`catalog.schemas.KernelEfficiency.nvls_all_reduce_bus_bytes_per_s`: 8x H100 SXM ~480 GB/s,
GTC 2024 S62129 and nccl-tests users; 8x H200 475 GB/s, nccl-tests #272; network.md; against 365-370 GB/s for
the ring, nccl-tests #212). The message-size efficiency is the ring's NVLink column (`network.collective_efficiency`,
ASSUMPTION: no per-size NVLS curve is published in the reference data).

Off by default (`nvls_all_reduce_enabled`): toggled on the validation sets it improves dense Hopper serving, the
disaggregated set and MLPerf v5.1 but moves the MoE/MLA serving set 20.4 -> 20.9 % (TTFT already under-predicted),
so it waits. `network.collectives._all_reduce` takes it in the `auto` all-reduce; `_all_reduce_seconds` spells the
same operations out on floats.
"""

from __future__ import annotations

import math
from typing import Any

from infraplan.network.collective_efficiency import sized_time_xp
from infraplan.network.fabric import Fabric
from infraplan.scalar_path import MathOps

# NVLS is picked by NCCL's tuner only for messages at least this large. ASSUMPTION: NCCL runs NVLS with the Simple
# protocol only (src/graph/tuning.cc), and below ~1 MiB its LL/LL128 ring and tree protocols have the lower latency,
# so its tuner keeps them there; the figure is not a published threshold. Messages below it are far under the SimAI
# tables' first row (16 MiB), where ring and NVLS would share the message-size efficiency anyway.
NVLS_MIN_BYTES = 2**20


def nvls_time_xp(xp: MathOps, fabric: Fabric, size: Any, n: Any, stride: Any, lat: Any, sized: bool) -> Any:
    """Seconds of an NVLS all-reduce of `size` bytes per rank over `n` ranks `stride` apart with step latency `lat`
    (`sized`: the message-size efficiency bound), infinite where NVLS does not run: the fabric has no NVLS rate,
    the group leaves the scale-up domain or the message is under `NVLS_MIN_BYTES`."""
    if not fabric.nvls_bytes_per_s > 0.0:
        return math.inf
    bandwidth = (1.0 + 1.0 / n) * size / fabric.nvls_bytes_per_s
    t = sized_time_xp(xp, fabric, bandwidth + 2.0 * lat, bandwidth, size, n, stride, False, sized)
    return xp.where((n * stride <= fabric.scale_up_domain) & (size >= NVLS_MIN_BYTES), t, math.inf)
