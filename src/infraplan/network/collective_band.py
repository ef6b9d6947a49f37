"""The error band of a `collective` answer: which validation residuals qualify its all-reduce busbw (hE40, hC51).

The network validation cases (validation/cases/network.yaml) are NCCL all-reduce busbw of 8 GiB messages: there the
analytical answer is a bandwidth, and its residuals are within about 1 % (catalog/band_residuals/network.yaml,
metric `busbw`). A small message is another question: its time is the alpha-beta latency and NCCL's protocol and
channel choice, which no 8 GiB case checks. Before hC51 a 64 KiB all-reduce (or a 24,576-rank ring, 97 % latency)
carried the 8 GiB band ("-1.1 % to +0.3 %"), its basis alone saying the latency was unchecked. Now:

* a message of at least `LARGE_MESSAGE_BYTES` (1 GiB: an eighth of the cases' 8 GiB, where the tables below end,
  ASSUMPTION) takes the 8 GiB cases' band, as before, unless it is latency-bound: where the alpha-beta latency (its
  time at 1 byte) is more than `LATENCY_BOUND_SHARE` of its time (a 1 GiB ring over 24,576 ranks: 97 %; the cases:
  at most `CASES_LATENCY_SHARE`) it has none, said why;
* the 8 GiB cases are in-sample: each is the source of the catalog figure its prediction reads (dgx-a100-superpod
  collective_efficiency 0.96: nccl #812; dgx-h100-superpod 0.94: nccl-tests #267/#290; a100-80gb's NVLink rate:
  nccl-tests #175; h100-sxm's: nccl-tests #212), so their -1.4..+0.3 % is the figures' rounding and the full range's
  ">= 60 %" is not earned; the basis says so (`LARGE_IN_SAMPLE`, hC55), with the out-of-sample check: 1 of 4
  published 8 GiB figures inside (8x A800 -4.1 %, 2 nodes of 4x HDR +7.3 %, 2x DGX H100 -2.1 % outside, one HDR NIC
  -0.4 % inside; validation/notes/out_of_sample_s55/oos_collectives.py, REF / RECALLED figures);
* a smaller one inside one scale-up domain takes the band of the measured small-message tables (metric
  `busbw_small`: NCCL 2.29.2 all-reduce on 8-GPU HGX boards of H100 / H200 / B200 / B300, 2 / 4 / 8 GPUs, 64 KiB to
  512 MiB: `validation.network.small_message_rows`). The answer was the alpha-beta line until hC52, whose busbw ran up
  to ~3x the measured one there (-12.5 % to +211 %); it is now the priced time, which reads these tables
  (`network.nvlink_all_reduce`): its residuals are in-sample (the curve scaled to the catalog's large-message rate,
  -12.5 % to +26.5 %; -7.7 % to +26.5 % since NCCL's LL latency line, hK60), said in the basis;
* a smaller one across scale-up domains has none: no measurement of it is in the repo (said, with the in-domain
  range for scale);
* one below the tables' first row (`SMALLEST_CASE_BYTES`, 64 KiB) is priced on a latency no table row measures. With
  the alpha-beta latency (before hK60) the small-message band held 12 of 49 such rows out of sample (NVIDIA
  AIConfigurator 0.12.0's A100 board, GB200 and GB300 tray all-reduce tables, which no model input reads:
  validation/notes/out_of_sample_s55/aic_oos_nccl.csv; the model 15-110 % too fast), so hC55 gave none there
  (`NO_BAND_BELOW_TABLES`). Since hK60 NCCL's LL ring line prices an in-domain collective of an accelerator with a
  measured table (`network.nvlink_latency.prices`: the line fitted on the boards' 1-4 KiB all-gather / reduce-scatter
  rows, never their all-reduce). Checked on every AIConfigurator 0.12.0 all-reduce row of 512 B to 32 KiB
  (validation/notes/out_of_sample_s60/aic_nccl_small_messages.csv, nccl_latency_audit.py), the band (-7.7 % to
  +26.5 %, stated ">= 60 %" for 4 campaigns) holds 127 of the 128 rows the line prices: the 4 boards' 83 of 84
  (H100 4 GPUs 16 KiB +29.2 % outside), the GB200 / GB300 trays' 28 of 28 and 2 / 4 GB300 trays of one NVL72 (8 / 16
  ranks, SGLang 0.5.14's PyNCCL rows) 16 of 16 (hL61). So below 64 KiB the band is given where the line prices the
  latency on at most `LINE_CHECKED_RANKS` ranks (16: no row checks the line beyond; at 72 ranks it extrapolates
  187-196 us; `BELOW_TABLES_LINE_ONLY`); elsewhere none, said why: an accelerator without a table (A100: the
  alpha-beta latency, 11 of 21 rows inside, 2 GPUs +66 % to +110 %), the line switched off, or more ranks.
* one below the smallest row that check measured (`SMALLEST_CHECKED_BYTES`, 512 B: every board's and tray's first
  all-reduce row; 2 / 4 GB300 trays also 256 B, the model -6.2 % and -2.4 % there) keeps that band, its basis saying
  it is carried down unchecked (hP62; hI62: a 1 B all-reduce took it, said nowhere): the line's time is flat there
  (its fixed latency: 16.379 us at 1 B and 16.384 us at 512 B on 8 H100), and so are the measured rows
  from 256 B to 1 KiB (within 3.7 %: GB300 2 trays 26.9 / 27.9 / 27.8 us, the boards' 512 B and 1 KiB rows within
  3.7 %), so the residual there is the 512 B row's. ASSUMPTION: NCCL's all-reduce time stays flat below 256 B (no
  row in the repo measures it).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.error_bands import NETWORK_STACK, band_and_basis
from infraplan.network import nvlink_latency

LARGE_MESSAGE_BYTES = 2.0**30  # from here the 8 GiB cases' band (module docstring; ASSUMPTION)
LATENCY_BOUND_SHARE = 0.5  # latency above this share of the time: latency-bound, no case checks it (module docstring)
SMALLEST_CASE_BYTES = 2.0**16  # the small-message tables' first row (catalog/nccl/aiconfigurator_*_all_reduce.csv)
NO_BAND_BELOW_TABLES = False  # True: below that row no band at all (hC55); False: as BELOW_TABLES_LINE_ONLY says (hL61)
# below that row the band only where NCCL's LL line prices the latency on at most LINE_CHECKED_RANKS ranks (module
# docstring, hL61); False: wherever in one domain, as hC51 gave it (the A100 board: 11 of 21 rows held)
BELOW_TABLES_LINE_ONLY = True
LINE_CHECKED_RANKS = 16  # the largest group the LL line was checked at: 4 GB300 trays of one NVL72 (module docstring)
# the smallest all-reduce row the LL line's check measured on every board and tray (validation/notes/
# out_of_sample_s60/aic_nccl_small_messages.csv; 256 B on 2 / 4 GB300 trays only): below it the band carried, said
SMALLEST_CHECKED_BYTES = 512.0
CASES_LATENCY_SHARE = 0.005  # the 8 GiB cases' latency share is at most this (0.41 %, the NDR per-NIC case; a test)
LARGE_MESSAGE_CASES = "the network validation cases: NCCL all-reduce busbw of 8 GiB messages on the analytical model"
# the 8 GiB cases' residuals are in-sample: each case set the catalog figure its prediction reads (module docstring)
LARGE_IN_SAMPLE = ("in-sample: each of these cases set the catalog rate its prediction reads, so that probability is "
                   "not earned; out of sample 1 of 4 published 8 GiB figures lay inside, errors -4.1 % to +7.3 %")
SMALL_MESSAGE_CASES = ("NCCL 2.29.2 all-reduce (nccl-tests) on 8-GPU HGX boards, 2 / 4 / 8 GPUs in one NVSwitch "
                       "domain, 64 KiB to 512 MiB (NVIDIA AIConfigurator 0.12.0 tables, catalog/nccl)")


def collective_band(op: str, sim: str, accelerator: str, size_bytes: float = LARGE_MESSAGE_BYTES,
                    in_domain: bool = True, latency_share: float = 0.0, ranks: int = 2,
                    line_accelerator: str = "") -> dict[str, Any]:
    """`error_band` and `error_band_basis` of a `collective` answer's busbw (module docstring): an all-reduce on the
    analytical model only; another collective or the flow model: none, and why. `latency_share`: the alpha-beta
    latency's share of the answer's time; `ranks`: the group's; `line_accelerator`: the catalog accelerator whose
    measured tables price it (`Fabric.accelerator`; none: no LL line)."""
    if op != "all-reduce" or sim != "analytical":
        what = f"{op}" if op != "all-reduce" else "the flow simulation"
        return {"error_band": None, "error_band_basis": f"no validation case measures {what} ({LARGE_MESSAGE_CASES})"}
    if size_bytes >= LARGE_MESSAGE_BYTES and latency_share > LATENCY_BOUND_SHARE:
        return {"error_band": None, "error_band_basis": f"no validation case measures a latency-bound all-reduce "
                f"({latency_share:.0%} of this one's alpha-beta time is latency; {LARGE_MESSAGE_CASES}, at most "
                f"{CASES_LATENCY_SHARE:.1%} latency, check its bandwidth)"}
    if size_bytes >= LARGE_MESSAGE_BYTES:
        band, basis = band_and_basis(accelerator, NETWORK_STACK, "network", "busbw")
        return {"error_band": band, "error_band_basis": f"{basis} ({LARGE_MESSAGE_CASES}; a message of 1 GiB or "
                f"more; {LARGE_IN_SAMPLE})"}
    small, small_basis = band_and_basis(accelerator, NETWORK_STACK, "network", "busbw_small")
    if not in_domain:
        scale = f": {small.low:+.0%} to {small.high:+.0%} there" if small is not None else ""
        return {"error_band": None, "error_band_basis": "no validation case measures an all-reduce of under 1 GiB "
                f"across scale-up domains: its latency and protocol are not checked (the 8 GiB cases check its "
                f"bandwidth; the small-message tables measure one domain only: {SMALL_MESSAGE_CASES}{scale})"}
    if size_bytes >= SMALLEST_CASE_BYTES:
        return {"error_band": small, "error_band_basis": f"{small_basis} (a message under 1 GiB: {SMALL_MESSAGE_CASES}"
                "; in-sample: the answer's measured curve is read from these tables)"}
    return _below_tables(small, small_basis, ranks, nvlink_latency.prices(line_accelerator), size_bytes)


def _below_tables(small: Any, small_basis: str, ranks: int, line: bool,
                  size_bytes: float = SMALLEST_CHECKED_BYTES) -> dict[str, Any]:
    """A message below the tables' first row: the band where NCCL's LL line prices its latency on a checked group
    size, else none and why (module docstring, hC55 / hL61); below the smallest checked row, said (hP62)."""
    scale = f": {small.low:+.0%} to {small.high:+.0%} from 64 KiB" if small is not None else ""
    checked = line and ranks <= LINE_CHECKED_RANKS
    if NO_BAND_BELOW_TABLES or (BELOW_TABLES_LINE_ONLY and not checked):
        why = ("its latency is extrapolated below every measured row" if NO_BAND_BELOW_TABLES else
               "no measured NCCL latency line prices this accelerator (network.nvlink_latency): its alpha-beta "
               "latency is extrapolated below every measured row; out of sample, on the A100 board of NVIDIA "
               "AIConfigurator 0.12.0, the band held 11 of 21 rows there" if not line else
               f"NCCL's LL latency line prices it, but no measurement checks that line beyond {LINE_CHECKED_RANKS} "
               f"ranks ({ranks} here)")
        return {"error_band": None, "error_band_basis": "no validation case measures an all-reduce below 64 KiB, "
                f"under the first row of the small-message tables ({SMALL_MESSAGE_CASES}{scale}): {why}"}
    latency = ("its latency NCCL's LL line (network.nvlink_latency): out of sample, on NVIDIA AIConfigurator 0.12.0's "
               "all-reduce rows of 512 B to 32 KiB at 2 to 16 ranks, this band held 127 of 128 rows: the 4 boards' 83 "
               "of 84, the GB200 / GB300 trays' 28 of 28, across 2 / 4 GB300 trays 16 of 16" if checked else
               "its latency is not checked")
    if checked and size_bytes < SMALLEST_CHECKED_BYTES:  # (hP62)
        latency += ("; this message is below the smallest row checked (512 B; 256 B on 2 / 4 GB300 trays): the band "
                    "is carried down unchecked, the line's time and the measured rows flat from 256 B to 1 KiB "
                    "(ASSUMPTION: flat below 256 B too)")
    return {"error_band": small, "error_band_basis": f"{small_basis} (a message under 1 GiB: {SMALL_MESSAGE_CASES}; "
            f"in-sample from 64 KiB; this message is below their first row, {latency})"}
