"""Measured in-domain all-gather, reduce-scatter and all-to-all: NCCL over one NVSwitch board (AIConfigurator 0.12.0).

The SimAI NVLink column (`network.collective_efficiency`, first row 16 MiB, normalised to 16 GiB) priced every
in-domain ring collective with H100's curve at every group size and held its 16 MiB value below. NVIDIA
AIConfigurator 0.12.0 measured NCCL 2.29.2 on 2 / 4 / 8 GPUs of one board for each collective
(catalog/nccl/aiconfigurator_<gpu>_collectives.csv, made by validation/calibration/aic_nccl_collectives.py from
`systems/data/<system>/comm/nccl/2.29.2/nccl_perf.parquet`). Against it (model / measured,
validation/calibration/aic_nccl_collectives.csv) the SimAI column left all-gather / reduce-scatter on 2 GPUs
0.35-0.75x of the measured time on H100 / H200 and 0.25-0.65x on B200 / GB200, on 4 Blackwell GPUs 0.34-0.84x
(8 MiB: 0.34-0.37x, where NCCL's protocol changes), and the in-domain all-to-all 0.2-0.95x (B200 2 GPUs 0.5x at
512 MiB); 8 Hopper GPUs at >= 8 MiB were right (0.91-1.05x).

Here each measured time is read as a bus-bandwidth efficiency against the catalog's own large-message rate of the
accelerator (`scale_up_bandwidth_bytes_per_s x scale_up_collective_efficiency`, the rate `Fabric` prices a group
at), so a what-if on the link rate scales the measured curve with it:

    efficiency(S, n) = ((n - 1)/n x S / B_catalog) / t_measured(S, n)   (at most 1),

the ring column the mean of the all-gather and reduce-scatter times (the model prices both with one ring formula;
they differ by < 10 % above 4 MiB), the all-to-all column its own. Times are first made non-decreasing in S from
below (each row at most every larger row's time): the small-message rows are noisy upward, not downward (H100's
8-GPU all-to-all alternates between ~15 and ~30 us at 2-64 KiB; B200's 4-GPU all-gather spikes at 128 KiB), and a
running maximum would carry a spike to the larger rows. The columns are mixed by hat functions of log2(n) over
n = 2, 4, 8 (n > 8 inside a larger NVLink domain, GB200 / GB300 NVL72: the 8-GPU column, ASSUMPTION: no larger
group is in the table) and read as `network.nvlink_all_reduce` reads its curve: tau = S / efficiency interpolated
linearly in log2(S) (the time grows with S between the rows), the first row's efficiency below 1 KiB, the last
row's above 1 GiB. GB200 takes B200's table (the wheel's gb200 rows have 2 / 4 GPUs
only and agree with b200's within ~5 %, as `network.nvlink_all_reduce` does for the all-reduce); accelerators
without a table keep the SimAI column. Only in-domain groups change; the all-reduce keeps its own measured curve.

Model / measured after (validation/calibration/aic_nccl_collectives.csv, 1-64 MiB; before in brackets):
all-gather / reduce-scatter H100 0.92-1.37 (0.35-1.60), B200 0.96-1.19 (0.26-1.19), GB200 0.94-1.07 (0.25-0.81);
all-to-all H100 / B200 1.00 (0.22-0.97), GB200 0.92-1.05 (0.20-0.73); 64 MiB-1 GiB 0.95-1.05 everywhere (0.49-0.98).
What is left: 8 GPUs below ~2 MiB stay 1.2-2x too slow (the alpha-beta line's 3 us per ring step,
`network.fabric.SCALE_UP_LATENCY_S`, bounds the time from below), and below ~8 KiB the efficiency's 1e-3 floor
lets the latency term set the time (0.3-0.6x).

Measured by toggling `MEASURED_NVLINK_COLLECTIVES` on one tree (mean |error|, off -> on): frontier training 12.59
-> 12.89 % (GB200 rows too slow already get slower: H005 TP4 NVFP4 -14.0 -> -16.4 %, its exposed TP time 7.05 ->
8.47 s; H025 EP32 -12.0 -> -15.9, H015 EP64 -8.0 -> -11.6, H011 TP2 +0.5 -> -4.6; the over-predicted B200 rows
improve: H017 +10.7 -> +8.0, H022 +48.8 -> +45.7, H021 +2.9 -> -0.7), gated training 5.94 -> 5.93 %, vTrain 7.60
-> 7.60 %, MoE/MLA serving 16.10 -> 16.11 %, disaggregated serving 24.85 -> 24.23 %, MLPerf v5.1 23.65 -> 23.46 %,
the Hopper serving section 19.80 -> 19.80 %, the network section 0.48 -> 0.48 %. `MEASURED_LEVEL` = False (the
measured shape, each column's 1 GiB row tied to the SimAI column there, as `network.nvlink_all_reduce` ties its
512 MiB row) leaves 2 / 4 GPUs at large messages 0.6-0.85x of the measured time: frontier 12.39 -> 12.31 % (on a
later tree whose off / on are 12.39 / 12.69 %), disaggregated 24.77 %, MLPerf v5.1 23.67 %.

B300 (hO, session 55; `B300_TABLE`, on): the wheel's b300_sxm NCCL 2.29.2 rows as B300's table
(catalog/nccl/aiconfigurator_b300_collectives.csv, made by the same script), GB300 taking it as GB200 takes B200's.
Checked out of sample on the wheel's GB300 tray rows (2 / 4 GPUs, NCCL 2.29.2; no model input reads them;
validation/notes/out_of_sample_s55/oos_collectives.py): mean |busbw error| of all-gather / reduce-scatter /
all-to-all at 1-128 MiB 102-154 % -> 2-5 %, at 256-512 MiB 35-60 % -> 2-3 % (the catalog's 0.80 x 900 GB/s
large-message rate against the tray's measured 512-572 GB/s busbw at 512 MiB on 4 GPUs). On (the lead, session 55)
although it moves the serving Blackwell set (its B300 rows' TP4 / EP4 collectives, both ways) 19.7445 -> 19.7457 %:
a measured table in place of a fallback the tray's rows refute by 35-154 %, against 0.001 points.

Group share (hO, session 55; `H100_GROUP_SHARE`, off): an accelerator without a table prices every in-domain group
on the SimAI column, one 8-GPU curve. Each measured board runs a 2- / 4-rank ring below its 8-rank busbw at large
messages (all-gather at 256 MiB, 2 / 4 over 8 ranks: H100 0.76 / 0.95, H200 0.76 / 0.94, B200 0.70 / 0.92, B300 0.71 /
0.92; out of sample A100 0.74 / 0.94). The toggle scales the column by H100's share at its last row (`group_shares`;
ring 0.756 / 0.935, all-to-all 0.888 / 0.914), as `network.nvlink_all_reduce` borrows H100's curve (ASSUMPTION for
every part without a table, mesh-connected MI300X included). Out of sample (A100 board, 2 / 4 / 8 GPUs): mean |busbw
error| of all-gather / reduce-scatter / all-to-all at >= 256 MiB 13.4 -> 5.1 %, 1-128 MiB 60.7 -> 50.2 %, small
unchanged. Off because vTrain 7.5782 -> 7.6268 % (504 of 1,440 rows move: 285 better, 219 worse) and
serving Blackwell 19.74455 -> 19.74459 % (measured with `B300_TABLE` off: B300 rows then had no table).

`MEASURED_NVLINK_COLLECTIVES` switches the tables on; on since issue 13 round 13 (a measurement in place of the
0.80 busbw ASSUMPTION; with the rows' own configurations and the other round-13 physics the frontier set now gets
better with them: 11.56 -> 11.04 %). DeepSeek-R1 wide-EP decode on NVL72 gains less from EP8 to EP72 with them (its
small-message all-to-all is 3-5x slower than the SimAI column's held 16 MiB value).

On arrays (formerly network/nvlink_collectives.py, merged unchanged: hM, session 62): In-domain message efficiency
on arrays: the measured NVLink board tables' column of every group size at once. The array path of
`network.collective_efficiency.message_efficiency` inside one scale-up domain: each group size reads its own measured
column (`network.nvlink_collectives.measured_column`: AIConfigurator 0.12.0's NCCL 2.29.2 all-gather / reduce-scatter /
all-to-all tables of 8-GPU H100 / H200 / B200 / B300 boards, catalog/nccl), tau = size / efficiency interpolated in
log2(size), the sizes held to the table's rows; a group size without a column takes the SimAI NVLink column. The same
IEEE operations as the float path (`collective_efficiency.efficiency_at`).

NVL72 all-to-all (formerly network/mnnvl_all_to_all.py, merged unchanged: hM, session 62;
`mnnvl_all_to_all_efficiency`): measured NVLink all-to-all rate inside a GB200 NVL72 domain for the flex dispatchers'
scale-up leg. The DeepEP / HybridEP kernels (`cluster.deepep.flex_dispatch_seconds`) send a token once to every rank of
the domain that holds one of its experts. Priced at the catalog's scale-up rate (NVLink5 900 GB/s x 0.80, an ASSUMPTION
carried from H100's ring bus bandwidth), an EP32 / EP64 group on NVL72 would move that payload at 720 GB/s per GPU; no
HybridEP figure is published in a package. NVIDIA AIConfigurator 0.12.0 measured TensorRT-LLM's MoE all-to-all over the
same NVL72 NVLink domain (systems/data/gb200/comm/trtllm/1.3.0rc10/trtllm_alltoall_perf.parquet: NVLinkTwoSided, bf16,
EP 2-64, made into catalog/nccl/aiconfigurator_gb200_mnnvl_alltoall.csv by
validation/calibration/aic_mnnvl_alltoall.py): the same per-rank deduplicated payload moves at 484 / 421-517 GB/s
(EP16), 518 / 454 (EP32), 480 / 431 (EP64) per GPU, dispatch / combine, i.e. 0.50-0.58 of the link. ASSUMPTION:
HybridEP's NVLink leg reaches the rate TensorRT-LLM's kernels reach at the same EP size on the same fabric (both are
SM-driven NVLink copies of the deduplicated tokens; the training configurations give HybridEP 32 SMs,
`validation.perf_config_moe`).

Read as an efficiency against the catalog's large-message rate (`scale_up_bandwidth x
scale_up_collective_efficiency`, the rate `Fabric` prices at), so a what-if on the link scales it; the
dispatch + combine pair's rate (`pair_gb_per_s`), interpolated linearly in log2(EP) and held beyond the table's
ends. Accelerators without a table keep the catalog rate. `MEASURED_MNNVL_ALL_TO_ALL` switches it off.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
import numpy.typing as npt

from infraplan import scalar_path
from infraplan.catalog.data_files import read_rows
from infraplan.catalog.loader import load_accelerator
from infraplan.network.fabric import Fabric

# the measured in-domain tables (module docstring); False: the SimAI column. On since issue 13 round 13 (a
# measurement replaces the 0.80 busbw ASSUMPTION): frontier 11.56 -> 11.04 %, disaggregated 24.85 -> 24.23 %,
# MLPerf v5.1 22.13 -> 21.63 %, MoE / MLA sample 15.86 -> 15.88 %, gated 5.94 -> 5.93 % (one tree, toggled)
MEASURED_NVLINK_COLLECTIVES = True
# catalog accelerator -> its measured table; GB200 takes the 8-GPU HGX board's table of its chip
ACCELERATOR_TABLE_FILES = {
    "h100-sxm": "aiconfigurator_h100_collectives.csv",
    "h200": "aiconfigurator_h200_collectives.csv",
    "b200": "aiconfigurator_b200_collectives.csv",
    "gb200": "aiconfigurator_b200_collectives.csv",
}
# the GPU-count columns of every measured board table in catalog/nccl (`{op}_{n}gpu_us`: these collectives' and
# `nvlink_all_reduce`'s; tests/network/test_nvlink_collectives.py checks each file's header against it)
TABLE_GPUS = (2, 4, 8)
MEASURED_LEVEL = True  # False: only the measured shape, at the catalog's large-message level (to measure it)
TIED_LAST_ROW_EFFICIENCY = 0.9506  # the SimAI NVLink column at 1 GiB, normalised to 16 GiB (MEASURED_LEVEL False)
_RING_KINDS = ("all_gather", "reduce_scatter")
# hO (session 55): B300's board table, GB300 taking it as GB200 takes B200's (module docstring, "B300"). ON: out of
# sample it takes the GB300 tray's in-domain all-gather / reduce-scatter / all-to-all at 1-128 MiB from 102-154 % to
# 2-5 % mean |busbw error|; it moves the serving Blackwell set 19.7445 -> 19.7457 %; False: the SimAI column
B300_TABLE = True
B300_TABLE_FILES = {"b300": "aiconfigurator_b300_collectives.csv", "gb300": "aiconfigurator_b300_collectives.csv"}


# hO (session 55): an accelerator without a table keeps the SimAI column (one 8-GPU curve) scaled by H100's measured
# share of a 2- / 4-rank group's large-message busbw against 8 ranks' (module docstring, "Group share"); False: none
H100_GROUP_SHARE = False
GROUP_SHARE_TABLE = "aiconfigurator_h100_collectives.csv"


@cache
def group_shares(all_to_all: bool) -> tuple[list[float], list[float]]:
    """(log2 ranks 1, 2, 3; busbw of 2 / 4 / 8 ranks over 8 ranks') at the last row of H100's table: the ring (the mean
    of the all-gather and reduce-scatter times, as `_measured_times`) or the all-to-all column."""
    sizes, times = _measured_times(GROUP_SHARE_TABLE)
    columns = times["all_to_all" if all_to_all else "ring"]
    busbw = [(g - 1.0) / g * sizes[-1] / column[-1] for g, column in zip(TABLE_GPUS, columns, strict=True)]
    return [1.0, 2.0, 3.0], [b / busbw[-1] for b in busbw]


def share_of(all_to_all: bool, n: float) -> float:
    """The in-domain SimAI column's factor for a group of `n` ranks without a table: H100's share where
    `H100_GROUP_SHARE` (and the tables) are on, interpolated in log2(n) (8 and more: 1), else 1."""
    if not (MEASURED_NVLINK_COLLECTIVES and H100_GROUP_SHARE):
        return 1.0
    knots, shares = group_shares(all_to_all)
    return scalar_path.interp(_log2(1.0 if n < 1.0 else n), knots, shares)


def share_array(all_to_all: bool, n: np.ndarray) -> np.ndarray | float:
    """`share_of` on an array of group sizes, with the same operations (1.0, a float, where off)."""
    if not (MEASURED_NVLINK_COLLECTIVES and H100_GROUP_SHARE):
        return 1.0
    knots, shares = group_shares(all_to_all)
    return np.asarray(np.interp(np.log2(np.maximum(n, 1.0)), knots, shares), dtype=np.float64)


def table_file(accelerator: str) -> str | None:
    """The measured table an accelerator's in-domain collectives read (module docstring), or None (SimAI column)."""
    if accelerator in ACCELERATOR_TABLE_FILES:
        return ACCELERATOR_TABLE_FILES[accelerator]
    return B300_TABLE_FILES.get(accelerator) if B300_TABLE else None


@cache
def _measured_times(table: str) -> tuple[list[float], dict[str, list[list[float]]]]:
    """(sizes in bytes, {"ring" | "all_to_all": [microseconds per row] per GPU count}) of a measured table, each
    column made non-decreasing in size."""
    rows = read_rows("infraplan.catalog", "nccl", table)
    sizes = [float(r["size_bytes"]) for r in rows]

    def column(op: str, gpus: int) -> np.ndarray:
        return np.array([float(r[f"{op}_{gpus}gpu_us"]) for r in rows])

    times: dict[str, list[list[float]]] = {"ring": [], "all_to_all": []}
    for gpus in TABLE_GPUS:
        ring = 0.5 * (column(_RING_KINDS[0], gpus) + column(_RING_KINDS[1], gpus))
        times["ring"].append(_lower_envelope(ring))
        times["all_to_all"].append(_lower_envelope(column("alltoall", gpus)))
    return sizes, times


def _lower_envelope(times_us: np.ndarray) -> list[float]:
    """Each row's time at most that of every larger message (the reversed running minimum): the time is made
    non-decreasing from below, dropping the rows that spike upward by noise (module docstring)."""
    return [float(t) for t in np.minimum.accumulate(times_us[::-1])[::-1]]


@cache
def _catalog_rate_bytes_per_s(accelerator: str) -> float:
    """The catalog's large-message in-domain collective rate of an accelerator (what `Fabric` prices a group at)."""
    spec = load_accelerator(accelerator)
    return float(spec.scale_up_bandwidth_bytes_per_s * spec.efficiency.scale_up_collective_efficiency)


def measured_column(accelerator: str, all_to_all: bool, n: float) -> tuple[list[float], list[float]] | None:
    """(log2 sizes, tau = size / efficiency per row) of an in-domain group of `n` ranks on `accelerator` by its
    measured table (module docstring), or None where the accelerator has no table or the tables are off."""
    table = table_file(accelerator)
    if not MEASURED_NVLINK_COLLECTIVES or table is None or not n >= 2.0:
        return None
    return _column(accelerator, table, all_to_all, float(n))


@cache
def _column(accelerator: str, table: str, all_to_all: bool, n: float) -> tuple[list[float], list[float]]:
    """`measured_column` of an accelerator with a table, kept."""
    sizes, times = _measured_times(table)
    rate = _catalog_rate_bytes_per_s(accelerator)
    log_n = min(max(float(np.log2(n)), 1.0), 3.0)
    efficiency = np.zeros(len(sizes))
    for j, gpus in enumerate(TABLE_GPUS):
        weight = max(1.0 - abs(log_n - (j + 1.0)), 0.0)
        if weight > 0.0:
            seconds = np.array(times["all_to_all" if all_to_all else "ring"][j]) * 1e-6
            column = (gpus - 1.0) / gpus * np.array(sizes) / rate / seconds
            if not MEASURED_LEVEL:  # the curve's shape only, its last row tied to the SimAI column's value there
                column = column / column[-1] * TIED_LAST_ROW_EFFICIENCY
            efficiency = efficiency + weight * column
    # tau = size / efficiency (bytes the catalog's rate moves meanwhile), interpolated linearly in log2(size): the
    # time grows with the size between the rows wherever the measured time does (`efficiency_of`)
    return np.log2(sizes).tolist(), (np.array(sizes) / np.minimum(efficiency, 1.0)).tolist()


def efficiency_of(column: tuple[list[float], list[float]], size_bytes: float) -> float:
    """The efficiency of a `measured_column` at a message size, on floats: the size held to the table's rows (the
    first row's efficiency below it, the last row's above), over tau interpolated in log2(size)."""
    log_sizes, taus = column
    first, last = 2.0 ** log_sizes[0], 2.0 ** log_sizes[-1]
    one = first if size_bytes < first else (last if size_bytes > last else float(size_bytes))
    return one / scalar_path.interp(_log2(one), log_sizes, taus)


def efficiency_array(column: tuple[list[float], list[float]], size_bytes: np.ndarray) -> np.ndarray:
    """`efficiency_of` on an array of sizes, with the same operations."""
    log_sizes, taus = column
    held = np.minimum(np.maximum(size_bytes, 2.0 ** log_sizes[0]), 2.0 ** log_sizes[-1])
    return np.asarray(held / np.interp(np.log2(held), log_sizes, taus), dtype=np.float64)


def _log2(x: float) -> float:
    """`float(np.log2(x))`, exact (the exponent) at powers of two."""
    mantissa, exponent = math.frexp(x)
    return float(exponent - 1) if mantissa == 0.5 else float(np.log2(x))


def in_domain_efficiency(fabric: Fabric, size: np.ndarray, n: np.ndarray, inside: np.ndarray, all_to_all: bool,
                         simai: Callable[[], np.ndarray]) -> np.ndarray:
    """The in-domain efficiency: `efficiency_array` on the measured column (`network.nvlink_collectives`) of each
    group size, or the SimAI column (`simai()`, read only where some group size has no measured column). The sizes
    held to the table's rows and their log2 are element-wise, so they are taken once for all group sizes, and
    each group size's tau is interpolated on the arrays of its column (`_column_arrays`): the same operations."""
    shape = np.broadcast(size, n).shape
    n_all = n if n.shape == shape else np.broadcast_to(n, shape)
    size_all = size if size.shape == shape else np.broadcast_to(size, shape)
    whole = len(shape) > 0 and bool(inside.all())
    mask = inside if inside.shape == shape else np.broadcast_to(inside, shape)
    n_in = n_all if whole else n_all[mask]
    size_in = size_all if whole else size_all[mask]
    members = [float(n)] if np.ndim(n) == 0 else np.unique(n_in).tolist()
    columns = [_column_arrays(measured_column(fabric.accelerator, all_to_all, m)) for m in members]
    present = [c for c in columns if c is not None]
    value = None
    if present and all(c[0] is present[0][0] for c in present):  # the columns share their rows
        log_sizes = present[0][0]
        held = np.minimum(np.maximum(size_in, 2.0 ** log_sizes[0]), 2.0 ** log_sizes[-1])
        log_held = np.log2(held)
        if len(columns) == 1 and present:
            value = held / np.interp(log_held, log_sizes, present[0][1])
        else:
            tau = np.full(held.shape, np.nan)  # a group size without a column: nan, then its SimAI value
            for members_one, column in zip(members, columns, strict=True):
                if column is not None:
                    np.copyto(tau, np.interp(log_held, log_sizes, column[1]), where=n_in == members_one)
            value = held / tau
        if whole and len(present) == len(columns):
            return np.asarray(value, dtype=np.float64)
    local = np.broadcast_to(np.asarray(simai(), dtype=np.float64), shape).copy()
    if value is None:  # no column, or columns on different rows (no table has them): one group size at a time
        for members_one, column in zip(members, columns, strict=True):
            if column is not None:
                pick = mask & (n_all == members_one)
                held = np.minimum(np.maximum(size_all[pick], 2.0 ** column[0][0]), 2.0 ** column[0][-1])
                local[pick] = held / np.interp(np.log2(held), column[0], column[1])
        return local
    if len(present) < len(columns):
        value = np.where(np.isnan(value), local if whole else local[mask], value)
    if whole:
        return value
    local[mask] = value
    return local


_COLUMN_ARRAYS: dict[int, tuple[object, tuple[np.ndarray, np.ndarray]]] = {}


def _column_arrays(column: tuple[list[float], list[float]] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A `measured_column` as two float64 arrays, kept by the column's identity (the kept column itself is held
    with them, so its id is not reused): `np.interp` then reads them without converting the lists each call."""
    if column is None:
        return None
    kept = _COLUMN_ARRAYS.get(id(column))
    if kept is None or kept[0] is not column:
        log_sizes = next((k[1][0] for k in _COLUMN_ARRAYS.values() if k[1][0].tolist() == column[0]), None)
        log_sizes = np.array(column[0]) if log_sizes is None else log_sizes  # one array for equal rows
        kept = _COLUMN_ARRAYS[id(column)] = (column, (log_sizes, np.array(column[1])))
    return kept[1]


MEASURED_MNNVL_ALL_TO_ALL = True
MNNVL_TABLE_FILES = {"gb200": "aiconfigurator_gb200_mnnvl_alltoall.csv"}


@cache
def _mnnvl_table(accelerator: str) -> tuple[np.ndarray, np.ndarray]:
    """(log2 EP sizes, pair rate over the catalog's scale-up collective rate) of the accelerator's table."""
    rows = read_rows("infraplan.catalog", "nccl", MNNVL_TABLE_FILES[accelerator])
    spec = load_accelerator(accelerator)
    catalog = spec.scale_up_bandwidth_bytes_per_s * spec.efficiency.scale_up_collective_efficiency
    pair_rate = np.array([float(r["pair_gb_per_s"]) * 1e9 / catalog for r in rows])
    return np.log2([float(r["ep"]) for r in rows]), pair_rate


def mnnvl_all_to_all_efficiency(accelerator: str, ranks: npt.ArrayLike) -> np.ndarray | None:
    """The measured in-domain all-to-all efficiency for groups of `ranks` GPUs of one domain, or None where the
    accelerator has no table (or the tables are switched off)."""
    if not MEASURED_MNNVL_ALL_TO_ALL or accelerator not in MNNVL_TABLE_FILES:
        return None
    sizes, efficiency = _mnnvl_table(accelerator)
    log_ranks = np.log2(np.maximum(np.asarray(ranks, dtype=np.float64), 1.0))
    return np.asarray(np.interp(log_ranks, sizes, efficiency), dtype=np.float64)
