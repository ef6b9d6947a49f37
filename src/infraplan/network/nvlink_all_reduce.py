"""All-reduce inside one NVLink (NVSwitch) domain: the small-message bound from measured latency tables (issue 12
item 3) and NCCL's NVLS (NVLink SHARP) algorithm. Merged with nvls.py unchanged (hM, session 62).

The alpha-beta line and the SimAI efficiency tables (`network.collective_efficiency`, first row 16 MiB) left
the in-domain all-reduce of 0.25-8 MiB about 2x too fast: below 16 MiB the tables' smallest-size efficiency
held, while the measured bus bandwidth keeps falling (NCCL picks fewer channels and the LL / LL128 protocols,
and the custom kernels run on a few CTAs). These are exactly the decode all-reduces of serving (a 405B model
at TP8 moves 32 KiB per token: 1-8 MiB at batch 32-256).

The measured curve (catalog/nccl/aiconfigurator_h100_all_reduce.csv, NVIDIA AIConfigurator 0.12.0's tables
for 8x H100 SXM: NCCL 2.29.2 nccl-tests all-reduce and TensorRT-LLM 1.3.0rc20's AllReduce with its one-shot /
two-shot custom kernels, bf16, 2 / 4 / 8 GPUs, 64 KiB to 512 MiB) is read as a bus-bandwidth efficiency,
nccl-tests' convention and the SimAI tables' (busbw = 2 (n - 1)/n S / t):

    efficiency(S, n) = e_512 x busbw(S, n) / busbw_NCCL(512 MiB, n) = S / tau(S, n),
    tau(S, n) = t(S, n) x (512 MiB / t_NCCL(512 MiB, n)) / e_512   (the bytes NCCL moves at its peak meanwhile)

where e_512 = 0.94 ties the table's last row to the SimAI NVLink column there (the catalog's rates are
large-message figures, nccl-tests at several GiB; the measured busbw still grows past 512 MiB, as the custom
column's 1 GiB row shows). tau is interpolated linearly in log2(S) between the rows (so the time grows with S
wherever the measured time does; the first row's efficiency holds below the table, the last row's above it),
the efficiency linearly in log2(n) (n = 2, 4, 8; larger in-domain groups take the 8-GPU column, ASSUMPTION: no
larger NVSwitch group is in the table).

An in-domain all-reduce then takes at least the model's own large-message time of the group (the faster of the
ring's 2 (n - 1)/n S / B and, where the fabric has NVLS, NVLS's (1 + 1/n) S / B_nvls; NVLS below) over that
efficiency: the measured curve scaled to the model's large-message rate, one rule for every size. Inside a
domain this bound replaces the SimAI NVLink column for the all-reduce (that column is one 8-GPU curve; the table
has 2 / 4 / 8 GPUs); the alpha-beta candidates still price the latency of tiny messages, and groups outside a
domain keep the SimAI NIC tables. Reduce-scatter, all-gather and all-to-all keep the SimAI tables (the wheel has
NCCL tables for them too; not taken here).

Model / measured on 8x H100 (dgx-h100-superpod) at 0.125-32 MiB: NCCL 2 GPUs 0.93, 4 GPUs 1.00-1.14, 8 GPUs
0.99-1.07; custom 0.93-1.02 (before: 8 GPUs at 0.5-8 MiB 0.36-0.69, 4 GPUs at 16-32 MiB 1.16-1.23). Measured by
toggling `MEASURED_NVLINK_ALL_REDUCE` on one tree (mean |error|, off -> on): dense Hopper serving rows 20.93 ->
20.72 % (TPOT at TP8 14.2 -> 12.4 %, TTFT at TP8 29.4 -> 30.2 %), MoE/MLA serving 19.52 -> 19.31 %,
disaggregated 29.26 -> 27.79 %, gated training 6.12 -> 5.94 % (Megatron SC21's in-node TP all-reduce), vTrain
7.58 -> 7.60 %, frontier training 12.16 -> 12.16 %, MLPerf v4.1 inference 6.58 -> 6.58 %, MLPerf v5.1 25.56 ->
25.60 % (Llama 3.1 405B, already under-predicted), the network section 0.48 -> 0.48 %.

Each accelerator with a measured table in the wheel takes its own (`ACCELERATOR_TABLE_FILES`, the same NCCL
2.29.2 / TensorRT-LLM 1.3.0rc20 tables, same rows, same rule): H200 (h200_sxm), B200 (b200_sxm), B300 (b300_sxm);
GB200 and GB300 take the 8-GPU HGX board's table of their chip (B200's, B300's: the wheel's gb200 / gb300 tables
have 2 and 4 GPUs only, and there agree with b200 / b300 within 0.89-1.06 x, NCCL within 0.95-1.06 x); every
other accelerator takes H100's (ASSUMPTION: no table of its own in the wheel; A100 has one, not taken here).
Blackwell's curve differs from Hopper's: NCCL's small all-reduce is slower (8 GPUs: ~28 us flat up to 1 MiB
against H100's 19-25 us) while its 512 MiB rate is 1.6x H100's, so its efficiency at 1 MiB is half H100's. Model /
measured, 128 KiB - 32 MiB, NCCL and custom (H100's curve for all -> own table): H200 8 GPUs 0.88-1.16 ->
1.03-1.05, 2 GPUs 0.91-1.07 either way; B200 2 GPUs 0.42-0.87 -> 0.79-0.95, 4 GPUs 0.42-0.93 -> 0.94-1.24, 8 GPUs
0.62-1.06 -> 1.04-1.22 (8 GPUs at 1 MiB 20.9 -> 31.4 us, measured 30.1 us). The flat NCCL ratio per GPU count is
the catalog's large-message rate against the table's 512 MiB rate (B200 2 GPUs: 0.79); the custom ratios above
1.1 are 16-32 MiB, where TensorRT-LLM's kernels still beat NCCL and `custom_all_reduce_time` takes NCCL's time.
Where a table's flat small-message times dip by a few per cent from one row to the next (H200, B200, B300 at
128-512 KiB: measurement noise), the running maximum over sizes is taken (an all-reduce of more bytes takes at
least the time of fewer; H100's table has no dip). `PER_ACCELERATOR_TABLES` = False gives every accelerator
H100's table (to measure the effect on one tree). Its effect (mean |error|, H100's curve for all -> own tables, one
tree): MLPerf v5.1 29.66 -> 29.68 % (Llama 3.1 405B B200 TP4 -10.8 / -10.6 / +8.4 -> -11.4 / -11.3 / +7.6 %; the
over-predicted B200 rows, Llama 2 70B and Llama 3.1 8B, run TP1 replicas and DeepSeek-R1 attention-DP: no
all-reduce, unchanged), MLPerf v4.1 6.58 -> 6.58 %, dense Hopper serving 20.72 -> 20.73 %, MoE/MLA 19.21 ->
19.22 %, disaggregated 29.29 -> 29.64 %, the Hopper serving section 29.41 -> 29.42 % (H200 rows move by < 3
points either way), training unchanged (gated 5.94 %, vTrain 7.60 %, frontier 12.05 %: the B200 / GB200 rows' TP
collectives are reduce-scatter / all-gather under sequence parallelism, their gradients reduce-scatter; the
in-domain all-reduces left, the fp8 amax and the loss, are below the table's first row, where the alpha-beta
latency sets the time).

The custom column serves every stack with `custom_all_reduce` (TensorRT-LLM's kernels; ASSUMPTION for vLLM and
SGLang, whose tables in the same wheel are within ~30 % at 1-8 MiB on 8 GPUs) but a release that names its own
measured table (`serving.release_tables`: TensorRT-LLM 1.0.0rc3, vLLM 0.12.0).

Past the table's last row (512 MiB) the bound's efficiency is no longer held (`STREAMED_TAIL`, hC52): the message
moves the last row's bytes in the last row's time and every further byte at the large-message rate the catalog's
figures are (nccl-tests at several GiB, above), efficiency S / (tau_512 + S - 512 MiB): 0.938 at 512 MiB, 0.968 at
1 GiB, 0.996 at 8 GiB (8-GPU H100 column). Held at 0.938, 8 GiB all-reduces were priced 6.2-6.8 % below the
network validation cases that measure them (8x A100 ring 216.7 against 232.5 GB/s, 8x H100 NVLS 450 against 480;
streamed: 230.1 and 478.0), and `collective`'s answer, the priced time since hC52, with them.

`MEASURED_NVLINK_ALL_REDUCE` switches the bound off (to measure its effect on one tree). The array and float
paths run the same IEEE operations in the same order (`scalar_path`, issue 18).

NVLS (formerly network/nvls.py): NCCL's NVLS (NVLink SHARP) all-reduce inside one NVSwitch domain: in-switch reduction
and multicast. NCCL (>= 2.17, `NCCL_NVLS_ENABLE` on by default) runs all-reduce on NVSwitch gen3+ (HGX H100 / H200) with
the NVLS algorithm when its tuner predicts it faster: the switch reduces (multimem.ld_reduce) and multicasts the result
(multimem.st). In the reduce-scatter half each rank sends its whole buffer S into the switch and receives its reduced
S/n slice; in the all-gather half it sends its slice and receives all of S. So (1 + 1/n) S cross each rank's links per
direction:

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
from functools import cache
from typing import Any

import numpy as np

from infraplan import scalar_path
from infraplan.catalog.data_files import read_rows
from infraplan.network.collective_efficiency import sized_time_xp
from infraplan.network.fabric import Fabric, group_domain
from infraplan.network.nvlink_collectives import TABLE_GPUS
from infraplan.network.simai_nccl_tables import efficiency_lists
from infraplan.scalar_path import NUMPY_OPS, MathOps

MEASURED_NVLINK_ALL_REDUCE = True  # the measured in-domain all-reduce bound (module docstring); False: alpha-beta only
PER_ACCELERATOR_TABLES = True  # each accelerator's own measured table (module docstring); False: H100's for all
STREAMED_TAIL = True  # past the last row the extra bytes stream at the large-message rate (module docstring, hC52)
TABLE_FILE = "aiconfigurator_h100_all_reduce.csv"  # the default table (accelerators without one of their own)
# catalog accelerator -> its measured table (module docstring); GB200 / GB300 take the 8-GPU HGX board's table
ACCELERATOR_TABLE_FILES = {
    "h200": "aiconfigurator_h200_all_reduce.csv",
    "b200": "aiconfigurator_b200_all_reduce.csv",
    "gb200": "aiconfigurator_b200_all_reduce.csv",
    "b300": "aiconfigurator_b300_all_reduce.csv",
    "gb300": "aiconfigurator_b300_all_reduce.csv",
}
KINDS = ("nccl", "custom")


def table_file(accelerator: str) -> str:
    """The measured table of a catalog accelerator: its own where the catalog has one, else H100's."""
    return ACCELERATOR_TABLE_FILES.get(accelerator, TABLE_FILE) if PER_ACCELERATOR_TABLES else TABLE_FILE


@cache
def tau_columns(table: str = TABLE_FILE) -> tuple[list[float], dict[str, tuple[list[float], ...]]]:
    """(log2 sizes in bytes, {kind: tau column per GPU count}) of a measured table: each measured time times
    NCCL's large-message rate for the same GPU count (bytes: module docstring)."""
    rows = read_rows("infraplan.catalog", "nccl", table)
    sizes = [float(r["size_bytes"]) for r in rows]
    # the last row (512 MiB) is not yet the large-message busbw the catalog's rates are: tie it to the SimAI NVLink
    # column's efficiency there (0.94 of its 16 GiB value)
    log_simai, simai = simai_nvlink_column()
    last_row_efficiency = float(np.interp(np.log2(sizes[-1]), log_simai, simai))
    columns: dict[str, tuple[list[float], ...]] = {}
    for kind in KINDS:
        per_gpus = []
        for gpus in TABLE_GPUS:
            nccl_peak_bytes_per_us = sizes[-1] / float(rows[-1][f"nccl_{gpus}gpu_us"]) / last_row_efficiency
            # the running maximum over sizes: a larger message takes at least a smaller one's time (module docstring)
            times_us = np.maximum.accumulate([float(r[f"{kind}_{gpus}gpu_us"]) for r in rows])
            per_gpus.append([float(t) * nccl_peak_bytes_per_us for t in times_us])
        columns[kind] = tuple(per_gpus)
    return [float(np.log2(s)) for s in sizes], columns


def simai_nvlink_column() -> tuple[list[float], list[float]]:
    """(log2 sizes, efficiency) of the SimAI NVLink table's in-node column, normalised to its largest message."""
    log_sizes, columns = efficiency_lists("nvlink")
    return log_sizes, columns[0]


def efficiency_columns(table: str = TABLE_FILE) -> tuple[list[float], dict[str, tuple[list[float], ...]]]:
    """`tau_columns` as efficiencies at the rows (size / tau, at most 1): for reports and tests."""
    log_sizes, taus = tau_columns(table)
    return log_sizes, {kind: tuple([min(2.0**x / t, 1.0) for x, t in zip(log_sizes, column, strict=True)]
                                   for column in columns) for kind, columns in taus.items()}


def _log2(x: float) -> float:
    """`float(np.log2(x))`, exact (the exponent) at powers of two."""
    mantissa, exponent = math.frexp(x)
    return float(exponent - 1) if mantissa == 0.5 else float(np.log2(x))


def measured_efficiency_xp(xp: MathOps, size: Any, n: Any, kind: str = "nccl", table: str = TABLE_FILE) -> Any:
    """Bus-bandwidth efficiency of an in-domain all-reduce of `size` bytes over `n` GPUs relative to NCCL's
    large-message busbw (module docstring): the table's columns interpolated in log2(size), weighted by hat
    functions of log2(n) over the 2 / 4 / 8-GPU columns (each column added, in order, zero weights included; on
    floats a zero weight's column is not read: it adds +0.0, every column being positive and finite); the
    size is held to the table's rows below the first (the first row's efficiency) and, with `STREAMED_TAIL` off,
    above the last (the last row's); with it on, a larger message moves the last row's bytes in the last row's time
    and the rest at the large-message rate: S / (tau_last + S - S_last)."""
    log_sizes, columns = tau_columns(table)
    first, last = 2.0 ** log_sizes[0], 2.0 ** log_sizes[-1]
    if xp is NUMPY_OPS:
        held = np.minimum(np.maximum(np.asarray(size, dtype=np.float64), first), last)
        log_size = np.log2(held)
        log_n = np.minimum(np.maximum(np.log2(np.maximum(np.asarray(n, dtype=np.float64), 1.0)), 1.0), 3.0)
        efficiency: Any = np.zeros(np.shape(log_size * log_n))
        for j, column in enumerate(columns[kind]):
            weight = np.maximum(1.0 - np.abs(log_n - (j + 1.0)), 0.0)
            efficiency = efficiency + weight * (held / np.interp(log_size, log_sizes, column))
        efficiency = np.minimum(np.maximum(efficiency, 1e-3), 1.0)
        if not STREAMED_TAIL:
            return efficiency
        sizes = np.asarray(size, dtype=np.float64)  # beyond the last row: its bytes moved, then the rest streamed
        return np.where(sizes > last, sizes / (last / efficiency + (sizes - last)), efficiency)
    one: float = first if size < first else (last if size > last else float(size))
    one_log_size = _log2(one)
    one_log_n = _log2(1.0 if n < 1.0 else n)
    one_log_n = 1.0 if one_log_n < 1.0 else (3.0 if one_log_n > 3.0 else one_log_n)
    value = 0.0
    for j, column in enumerate(columns[kind]):
        hat = 1.0 - abs(one_log_n - (j + 1.0))
        if hat > 0.0:  # (a zero weight adds 0.0 x a finite positive ratio, +0.0, to a sum from +0.0: not read)
            value = value + hat * (one / scalar_path.interp(one_log_size, log_sizes, column))
    value = 1e-3 if value < 1e-3 else value
    value = 1.0 if value > 1.0 else value
    return size / (last / value + (size - last)) if STREAMED_TAIL and size > last else value


def in_domain_bound_xp(xp: MathOps, fabric: Fabric, size: Any, n: Any, stride: Any, ring_bw_s: Any,
                       kind: str = "nccl", table: str | None = None, known_inside: bool = False) -> Any:
    """Least seconds of an all-reduce of `size` bytes over `n` ranks `stride` apart by the measured curve: the
    group's large-message time (the ring's bandwidth term `ring_bw_s`, or NVLS's where the fabric has it and it
    is shorter) over `measured_efficiency_xp`; 0 outside one scale-up domain, for one rank or with the bound off.
    `table`: a catalog/nccl table in the same format to read instead of the accelerator's (a serving release's own
    measured custom all-reduce, `serving.llm_iteration`). `known_inside`: the caller knows one group of n > 1 ranks in
    one domain (the float collectives' `not crosses`): the test's True, not asked again."""
    if not MEASURED_NVLINK_ALL_REDUCE:
        return 0.0
    peak = ring_bw_s
    if fabric.nvls_bytes_per_s > 0.0:
        nvls = (1.0 + 1.0 / xp.maximum(n, 1.0)) * size / fabric.nvls_bytes_per_s
        peak = xp.minimum(peak, nvls)
    bound = peak / measured_efficiency_xp(xp, size, n, kind, table or table_file(fabric.accelerator))
    if known_inside:  # (`xp.where`'s pick of a true test)
        return bound
    domain = group_domain(fabric, n, stride)  # the job's placement (`network.placement`)
    inside = (n * stride <= domain) & (n > 1) if xp is NUMPY_OPS else (n * stride <= domain and n > 1)
    return xp.where(inside, bound, 0.0)


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
    # no group in one domain: `where`'s infinities, in its shape, the sized time it would drop not priced
    if xp is NUMPY_OPS and not scalar_path.anywhere(inside):
        return np.full(np.broadcast_shapes(np.shape(size), np.shape(n), np.shape(stride)), math.inf)
    bandwidth = (1.0 + 1.0 / n) * size / fabric.nvls_bytes_per_s
    t = sized_time_xp(xp, fabric, bandwidth + NVLS_LATENCY_S, bandwidth, size, n, stride, False, sized)
    return xp.where(inside, t, math.inf)
