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
* a smaller one inside one scale-up domain takes the band of the measured small-message tables (metric
  `busbw_small`: NCCL 2.29.2 all-reduce on 8-GPU HGX boards of H100 / H200 / B200 / B300, 2 / 4 / 8 GPUs, 64 KiB to
  512 MiB: `validation.network.small_message_rows`). The answer was the alpha-beta line until hC52, whose busbw ran up
  to ~3x the measured one there (-12.5 % to +211 %); it is now the priced time, which reads these tables
  (`network.nvlink_all_reduce`): its residuals are in-sample (the curve scaled to the catalog's large-message rate,
  -12.5 % to +26.5 %), said in the basis;
* a smaller one across scale-up domains has none: no measurement of it is in the repo (said, with the in-domain
  range for scale).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.error_bands import NETWORK_STACK, band_and_basis

LARGE_MESSAGE_BYTES = 2.0**30  # from here the 8 GiB cases' band (module docstring; ASSUMPTION)
LATENCY_BOUND_SHARE = 0.5  # latency above this share of the time: latency-bound, no case checks it (module docstring)
CASES_LATENCY_SHARE = 0.005  # the 8 GiB cases' latency share is at most this (0.41 %, the NDR per-NIC case; a test)
LARGE_MESSAGE_CASES = "the network validation cases: NCCL all-reduce busbw of 8 GiB messages on the analytical model"
SMALL_MESSAGE_CASES = ("NCCL 2.29.2 all-reduce (nccl-tests) on 8-GPU HGX boards, 2 / 4 / 8 GPUs in one NVSwitch "
                       "domain, 64 KiB to 512 MiB (NVIDIA AIConfigurator 0.12.0 tables, catalog/nccl)")


def collective_band(op: str, sim: str, accelerator: str, size_bytes: float = LARGE_MESSAGE_BYTES,
                    in_domain: bool = True, latency_share: float = 0.0) -> dict[str, Any]:
    """`error_band` and `error_band_basis` of a `collective` answer's busbw (module docstring): an all-reduce on the
    analytical model only; another collective or the flow model: none, and why. `latency_share`: the alpha-beta
    latency's share of the answer's time."""
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
                "more)"}
    small, small_basis = band_and_basis(accelerator, NETWORK_STACK, "network", "busbw_small")
    if not in_domain:
        scale = f": {small.low:+.0%} to {small.high:+.0%} there" if small is not None else ""
        return {"error_band": None, "error_band_basis": "no validation case measures an all-reduce of under 1 GiB "
                f"across scale-up domains: its latency and protocol are not checked (the 8 GiB cases check its "
                f"bandwidth; the small-message tables measure one domain only: {SMALL_MESSAGE_CASES}{scale})"}
    below = " (this message is below their first row: its latency is not checked)" if size_bytes < 2**16 else ""
    return {"error_band": small, "error_band_basis": f"{small_basis} (a message under 1 GiB: {SMALL_MESSAGE_CASES}"
            f"{below}; in-sample: the answer's measured curve is read from these tables)"}
