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
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from infraplan import scalar_path
from infraplan.catalog.data_files import read_rows
from infraplan.catalog.loader import load_accelerator

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
