"""Which batch a `recsys --latency-slo` answer (and a recsys pool) runs, and the line that says why.

The command promises "QPS, latency, power, QPS/W" at "the batch with the most QPS whose latency meets the SLO"
(`recsys.estimate.estimate_recsys`). Where several candidate batches give the same QPS (a host-link-bound part:
QPS = link bandwidth / request bytes at every batch above the bound, MTIA 300 on dlrm-high at batches 1,024 to
4,096, 390.8 k QPS each), the one of the least device power is taken (the larger batch keeps the device idle more of
each host-link period: 746 W at 1,024, 712 W at 4,096), so the answer's QPS/W is the best of the batches that tie on
its QPS; equal power (a device-bound part's ties) still keeps the smallest batch. Until session 59 the smallest batch
of a tie was taken (hE59: 373.5 platform QPS/W where 4,096 gives 386.2). `TIE_RTOL`: the QPS of batches that tie
differ by rounding only (B / (B x bytes / bandwidth)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.recsys_schemas import RecsysModel

MAX_BATCH = 4096
TIE_RTOL = 1e-9  # QPS within this relative difference of the best are the same QPS (floating-point rounding)


def candidate_batches(model: RecsysModel) -> np.ndarray:
    """The batches an SLO chooses from: powers of two up to `MAX_BATCH`, and the model's default."""
    powers = 2 ** np.arange(int(np.log2(MAX_BATCH)) + 1)
    return np.unique(np.append(powers, model.default_batch))


def best_point(arrays: dict[str, Any], latency_slo_s: float | None) -> tuple[int, bool]:
    """Index of the highest-QPS batch meeting the SLO; among batches of that QPS (`TIE_RTOL`), the one of the least
    device power, the smallest batch where that ties too; (0, False) if none meets it."""
    ok = np.ones_like(arrays["qps"], dtype=bool) if latency_slo_s is None else arrays["latency_s"] <= latency_slo_s
    if not ok.any():
        return 0, False
    qps = np.where(ok, arrays["qps"], -np.inf)
    tied = ok & (qps >= qps.max() * (1.0 - TIE_RTOL))
    power = arrays.get("power_w", np.zeros_like(qps))  # without a power: the smallest batch of the tie
    return int(np.argmin(np.where(tied, power, np.inf))), True


def batch_rule(arrays: dict[str, Any], i: int, latency_slo_s: float) -> str:
    """The answer's line on its batch: the rule, and the batches that gave the same QPS at more power, if any."""
    batches, qps, power = arrays["batch"], arrays["qps"], arrays["power_w"]
    ok = arrays["latency_s"] <= latency_slo_s
    line = (f"batch {int(batches[i]):,}: the most QPS of the batches (powers of two to {MAX_BATCH:,} and the "
            f"model's default) whose latency meets the {latency_slo_s * 1e3:.4g} ms SLO")
    tied = [j for j in range(len(batches)) if j != i and ok[j] and qps[j] >= qps[i] * (1.0 - TIE_RTOL)]
    if not tied:
        return line
    others = ", ".join(f"{int(batches[j]):,} ({power[j]:.4g} W)" for j in tied)
    return (line + f"; batches {others} give the same QPS ({arrays['bound'][i]}-bound), so the one of the least "
            f"device power ({power[i]:.4g} W) is taken: the best QPS/W at this QPS")


def pick(arrays: dict[str, Any], i: int) -> dict[str, Any]:
    """The `RecsysEstimate` fields of batch `i` of `recsys.estimate.evaluate_batches`' arrays."""
    return {
        "batch": int(arrays["batch"][i]), "qps": float(arrays["qps"][i]), "latency_s": float(arrays["latency_s"][i]),
        "power_w": float(arrays["power_w"][i]), "qps_per_w": float(arrays["qps_per_w"][i]),
        "bound": str(arrays["bound"][i]), "platform_power_w": float(arrays["platform_power_w"][i]),
        "platform_qps_per_w": float(arrays["qps"][i] / arrays["platform_power_w"][i]),
        "busy_fraction": float(arrays["busy_fraction"][i]),
        "breakdown_s": {k: float(v[i]) for k, v in arrays["breakdown_s"].items()},
    }
