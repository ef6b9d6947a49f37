"""Custom-silicon validation: the published MTIA and MSVP directions and ratios, with one set of catalog data.

Cases are data (`cases/silicon.yaml`): direction checks pass when the prediction falls in the range fixed from
the published statement; ratio checks report predicted / published - 1 and pass within their tolerance.
DLRM comparisons serve every model on every device at its highest-QPS batch meeting the protocol's latency
SLO (each row's detail gives both sides' batch, bounding term and watts); the summary repeats the MTIA v1 / A100
ratios at several SLOs, since the paper's latency targets are not in our sources. The MTIA 2i vs GPU cases run at
the budget their paper states (P99 100 ms, `latency_slo_s` on the case), under which the model picks the paper's
batches (2048 for the high-, 4096 for the low-complexity preset).
The naive answer (the guide: every validation set prints its naive baseline) is the datasheet one, scored on the
same cases: a ratio of dense peak FLOP/s at the compared dtype per watt, the watts being the ones the model uses
(TDP for a DLRM device ratio, TDP + the host share for a platform ratio, `typical_power_w` else TDP for a GEMM), a
peak ratio for QPS, and for video the platform watts ratio at equal streams per device. It knows no batch, latency
budget, memory tier or kernel efficiency, so it answers one number per device pair whatever the model.
The summary's `published_chain` multiplies the published v1 / A100, v2 / v1 and v2 / H100 ratios into the H100 /
A100 QPS/W they imply on each power basis (the sources do not say which watts they divide by) and sets it against
the model's own: with the catalog's watts they imply an H100 below an A100 per watt (0.735x), so a model whose
H100 gains per watt (1.40x here), scored on one model set and budget, misses one of the three by at least 22 %
(two cases 22 % high and one 22 % low multiply to that 1.91x gap: `worst_case_floor`), whatever its MTIA physics.
Sources: Firoozshahian et al., ISCA 2023 (MTIA v1); Meta's Apr 2024 MTIA blog and Coburn et al., ISCA 2025
(MTIA 2i); Meta's MSVP blog (May 2023) and SPIE 2023 paper.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.inference_loader import load_recsys_model, load_recsys_profile, load_video_device
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster.host_share import host_share
from infraplan.hardware.kernels import KernelRates, gemm_time
from infraplan.recsys.embedding import resolve_tiers
from infraplan.recsys.estimate import compute_dtype, estimate_recsys
from infraplan.video.transcode import estimate_video


def load_silicon_cases() -> dict[str, Any]:
    text = (resources.files("infraplan.validation") / "cases" / "silicon.yaml").read_text()
    return safe_load_yaml(text)


@lru_cache(maxsize=256)
def _recsys(model: str, accelerator: str, slo: float) -> dict[str, Any]:
    r = estimate_recsys(model, accelerator, latency_slo_s=slo).model_dump()  # quantities are looked up by name
    if not r["meets_slo"]:  # the device cannot serve this model within the SLO at any batch
        r = {**r, "qps": 0.0, "qps_per_w": 0.0, "platform_qps_per_w": 0.0}
    return r


def _means(values: list[float | None]) -> tuple[float | None, float | None]:
    """Geometric and harmonic means; None when a ratio is undefined, 0 when a numerator cannot serve at all."""
    if any(v is None for v in values):
        return None, None
    v = np.asarray(values, dtype=np.float64)
    if np.any(v <= 0):
        return 0.0, 0.0
    return float(np.exp(np.mean(np.log(v)))), float(len(v) / np.sum(1.0 / v))


def server_scale(compare: dict[str, Any]) -> float:
    """Devices per server, numerator's over the denominator's, where a claim compares whole servers (`per_server`:
    each side a catalog system whose node holds that side's device, e.g. mtia-v2-rack's 24, or a count); else 1."""
    if "per_server" not in compare:
        return 1.0
    counts = []
    for side, entry in zip(("numerator", "denominator"), compare["per_server"], strict=True):
        if isinstance(entry, str):  # the server file's own count, not a second copy of it here
            system = load_system(entry)
            if system.accelerator != compare[side]:
                raise ValueError(f"per_server {entry} holds {system.accelerator}, not the {side} {compare[side]}")
            entry = system.node.accelerators_per_node
        counts.append(entry)
    return counts[0] / counts[1]


def _dlrm_ratio(compare: dict[str, Any], models: list[str], slo: float) -> dict[str, Any]:
    """Per-model numerator / denominator of `quantity`, times `server_scale` where a claim compares whole servers."""
    q = compare["quantity"]
    scale = server_scale(compare)
    watts = {"qps_per_w": "power_w", "platform_qps_per_w": "platform_power_w"}.get(q)
    per_model, batches, bounds, power = {}, {}, {}, {}
    for m in models:
        num, den = _recsys(m, compare["numerator"], slo), _recsys(m, compare["denominator"], slo)
        per_model[m] = scale * num[q] / den[q] if den[q] > 0 else None  # the reference device cannot serve it
        batches[m] = [num["batch"], den["batch"]]
        bounds[m] = [num["bound"], den["bound"]]  # the ratio's factors: which term bounds each side's batch
        if watts:
            power[m] = [num[watts], den[watts]]
    geo, harm = _means(list(per_model.values()))
    value = per_model[models[0]] if len(models) == 1 else geo
    detail = {"per_model": per_model, "geometric_mean": geo, "harmonic_mean": harm, "latency_slo_s": slo,
              "batches": batches, "bounds": bounds}
    return {"predicted": value, "detail": {**detail, "power_w": power} if watts else detail}


def gemm_perf_per_w_ratio(m: int, n: int, k: int, numerator: str, denominator: str, dtype: str = "fp16") -> float:
    """Perf/W ratio of one GEMM, weights and activations in each device's fastest recsys tier, at typical power."""
    def energy(name: str) -> float:
        acc = load_accelerator(name)
        fastest = resolve_tiers(acc, load_recsys_profile(name))[0]
        rates = replace(KernelRates.for_dtype(acc, dtype), memory_bytes_per_s=fastest.stream_bytes_per_s)
        return float(gemm_time(rates, m, n, k, 2.0)) * (acc.typical_power_w or acc.tdp_w)

    return energy(denominator) / energy(numerator)


NAIVE_BASELINE = "datasheet peak FLOP/s per watt (no batch, budget, memory or kernel efficiency)"


def _naive_unit(name: str, dtype: str, quantity: str) -> float:
    """A device's naive figure: dense peak FLOP/s of `dtype` (or its stand-in), per the watts `quantity` uses."""
    acc = load_accelerator(name)
    peak = acc.peak(compute_dtype(acc, dtype))
    watts = {"qps": 1.0, "qps_per_w": acc.tdp_w, "platform_qps_per_w": acc.tdp_w + host_share(acc).watts,
             "gemm": acc.typical_power_w or acc.tdp_w}[quantity]
    return peak / watts


def naive_ratio(case: dict[str, Any], protocol: dict[str, Any]) -> float:
    """The naive answer to a case (module docstring): one datasheet ratio per device pair."""
    if "compare" in case:
        c = case["compare"]
        models = protocol["model_set"] if c["models"] == "set" else c["models"]
        scale = server_scale(c)
        ratios = [scale * _naive_unit(c["numerator"], dtype, c["quantity"])
                  / _naive_unit(c["denominator"], dtype, c["quantity"])
                  for dtype in (load_recsys_model(m).dtype for m in models)]
        return float(np.exp(np.mean(np.log(ratios))))
    if "gemm" in case:
        g = case["gemm"]
        return _naive_unit(g["numerator"], "fp16", "gemm") / _naive_unit(g["denominator"], "fp16", "gemm")
    asic, cpu = load_video_device("msvp"), load_accelerator(case["video"]["software"])
    return (cpu.tdp_w + host_share(cpu).watts) / (asic.power_w + host_share("msvp").watts)


def _score(case: dict[str, Any], value: float) -> tuple[float | None, bool]:
    """(error, passed) of a value against a case: a ratio's error and tolerance, a direction's range."""
    if case["kind"] == "direction":
        low, high = case["pass_range"]
        return None, bool((low is None or value >= low) and (high is None or value < high))
    error = value / case["published_value"] - 1.0
    return error, bool(abs(error) <= case["tolerance"])


def _video_ratio(v: dict[str, Any]) -> dict[str, Any]:
    args = (v["input"], v["ladder"], v["codec"], v["quality"])
    asic = estimate_video("msvp", *args, baseline=v["software"])  # like for like: platform watts, hosts included
    cmp = asic.baseline
    assert cmp is not None
    return {"predicted": cmp.perf_per_w_ratio,
            "detail": {"msvp_streams": asic.streams_per_device, "cpu_streams": cmp.streams_per_device,
                       "msvp_w_per_stream": asic.watts_per_stream, "cpu_w_per_stream": cmp.watts_per_stream,
                       "msvp_platform_w_per_stream": asic.platform_watts_per_stream,
                       "cpu_platform_w_per_stream": cmp.platform_watts_per_stream,
                       "device_watts_ratio": cmp.device_perf_per_w_ratio}}


def run_case(case: dict[str, Any], protocol: dict[str, Any]) -> dict[str, Any]:
    if "compare" in case:  # a case may state its source's own latency budget (MTIA 2i: the paper's P99 SLO)
        models = case["compare"]["models"]
        got = _dlrm_ratio(case["compare"], protocol["model_set"] if models == "set" else models,
                          case.get("latency_slo_s", protocol["latency_slo_s"]))
    elif "gemm" in case:
        g = case["gemm"]
        got = {"predicted": gemm_perf_per_w_ratio(g["m"], g["n"], g["k"], g["numerator"], g["denominator"]),
               "detail": {}}
    else:
        got = _video_ratio(case["video"])
    row = {"id": case["id"], "kind": case["kind"], "metric": case["metric"], "published": case["published"],
           "published_value": case.get("published_value"), "predicted": got["predicted"], "source": case["source"],
           "gated": "known_gap" not in case, "known_gap": case.get("known_gap"), "detail": got["detail"]}
    naive = naive_ratio(case, protocol)
    naive_error, naive_passed = _score(case, naive)
    row["detail"] = {**got["detail"], "naive": {"predicted": naive, "error": naive_error, "passed": naive_passed}}
    if case["kind"] == "direction":
        row["pass_range"] = list(case["pass_range"])
    else:
        row["tolerance"] = case["tolerance"]
    if got["predicted"] is None:
        return {**row, "error": None, "passed": False}
    row["error"], row["passed"] = _score(case, got["predicted"])
    return row


def sensitivity(protocol: dict[str, Any]) -> list[dict[str, Any]]:
    """MTIA v1 / A100 QPS/W per model and MTIA v2 / v1 QPS at each SLO of the protocol's sensitivity list."""
    out = []
    for slo in protocol["sensitivity_slos_s"]:
        v1 = _dlrm_ratio({"numerator": "mtia-v1", "denominator": "a100-80gb", "quantity": "qps_per_w"},
                         protocol["model_set"], slo)["detail"]
        v2 = _dlrm_ratio({"numerator": "mtia-v2", "denominator": "mtia-v1", "quantity": "qps"},
                         protocol["model_set"], slo)["detail"]
        out.append({"latency_slo_s": slo, "mtia_v1_over_a100_qps_per_w": v1["per_model"],
                    "geometric_mean": v1["geometric_mean"], "harmonic_mean": v1["harmonic_mean"],
                    "mtia_v2_over_v1_qps": v2["per_model"], "mtia_v2_over_v1_geometric_mean": v2["geometric_mean"]})
    return out


def worst_case_floor(factor: float) -> float:
    """The least worst |predicted / published - 1| (the cases' error) of a chain's three cases whose error factors
    (1 + e1) (1 + e2) / (1 + e3) multiply to `factor`: the first two high and the third low by x, (1 + x)^2 / (1 - x)
    = factor, where factor > 1; the first two low and the third high, (1 - x)^2 / (1 + x) = factor, below (a
    quadratic each). hR55: exp(|log factor| / 3) - 1, a third of the log gap, overstated it where a case may miss
    low (1.91x: 24 % against 22.0 %)."""
    if factor >= 1.0:  # x^2 + (2 + F) x + 1 - F = 0
        return float((-(2.0 + factor) + np.sqrt((2.0 + factor) ** 2 - 4.0 * (1.0 - factor))) / 2.0)
    return float(((2.0 + factor) - np.sqrt((2.0 + factor) ** 2 - 4.0 * (1.0 - factor))) / 2.0)


def published_chain(chain: dict[str, Any], rows: dict[str, dict[str, Any]], protocol: dict[str, Any]) -> dict[str, Any]:
    """The H100 / A100 QPS/W that the published v1 / A100, v2 / v1 and v2 / H100 ratios imply on each power basis
    (cases/silicon.yaml `published_chain`: the catalog's watts first), against the model's own over the protocol's
    model set and budget, and the floor that gap puts under the worst of the three cases: their error factors
    multiply to model / implied wherever the chain closes on the model's GPU pair (`worst_case_floor`)."""
    v1_a100, v2_v1, v2_h100 = (rows[i] for i in chain["cases"])
    gpu = _dlrm_ratio({"numerator": "h100-sxm", "denominator": "a100-80gb", "quantity": "qps_per_w"},
                      protocol["model_set"], protocol["latency_slo_s"])["detail"]
    own = gpu["geometric_mean"]

    def implied(key: str, v1_w: float, v2_w: float) -> float:
        return float(v1_a100[key] * v2_v1[key] * (v1_w / v2_w) / v2_h100[key])

    v1_w, v2_w = load_accelerator("mtia-v1").tdp_w, load_accelerator("mtia-v2").tdp_w
    catalog: dict[str, Any] = {"name": "the catalog's TDPs", "mtia_v1_w": v1_w, "mtia_v2_w": v2_w,
                               "source": "catalog/accelerators/mtia-v1.yaml, mtia-v2.yaml"}
    bases = []
    for b in (catalog, *chain["power_bases"]):
        value = implied("published_value", b["mtia_v1_w"], b["mtia_v2_w"])
        bases.append({**b, "implied_h100_over_a100_qps_per_w": value,
                      "worst_case_error_floor": worst_case_floor(own / value)})
    note = ("H100 / A100 QPS/W the published v1 / A100, v2 / v1 and v2 / H100 ratios imply: " + "; ".join(
        f"{b['implied_h100_over_a100_qps_per_w']:.3g} on {b['name']} ({b['mtia_v1_w']:g} W, {b['mtia_v2_w']:g} W: "
        f"worst case >= {b['worst_case_error_floor']:.0%} off)" for b in bases) + f"; the model's {own:.3g}")
    return {"cases": list(chain["cases"]), "bases": bases, "note": note,
            "model_h100_over_a100_qps_per_w": gpu["per_model"], "model_geometric_mean": own,
            "cases_chain_h100_over_a100_qps_per_w": implied("predicted", v1_w, v2_w)}


def run_silicon_validation() -> dict[str, Any]:
    """Every custom-silicon case: rows with id, metric, published, predicted, error or pass/fail, source."""
    data = load_silicon_cases()
    protocol = data["protocol"]
    rows = [run_case(case, protocol) for case in data["cases"]]
    ratios = [abs(r["error"]) for r in rows if r["kind"] == "ratio"]
    naive = [r["detail"]["naive"] for r in rows]
    naive_ratios = [abs(r["detail"]["naive"]["error"]) for r in rows if r["kind"] == "ratio"]
    naive_directions = sum(r["detail"]["naive"]["passed"] for r in rows if r["kind"] == "direction")
    summary = {
        "cases": len(rows), "passed": sum(r["passed"] for r in rows),
        "direction_cases": sum(r["kind"] == "direction" for r in rows),
        "direction_passed": sum(r["passed"] for r in rows if r["kind"] == "direction"),
        "ratio_cases": len(ratios), "ratio_mean_abs_error": float(np.mean(ratios)) if ratios else 0.0,
        "ratio_max_abs_error": float(np.max(ratios)) if ratios else 0.0,
        "all_passed": all(r["passed"] for r in rows),
        "gated_cases": sum(r["gated"] for r in rows),
        "all_gated_passed": all(r["passed"] for r in rows if r["gated"]),
        "naive_baseline": NAIVE_BASELINE,
        "naive_passed": sum(n["passed"] for n in naive),
        "naive_direction_passed": naive_directions,
        "naive_ratio_mean_abs_error": float(np.mean(naive_ratios)) if naive_ratios else 0.0,
        "naive_ratio_max_abs_error": float(np.max(naive_ratios)) if naive_ratios else 0.0,
        "ratio_cases_closer_than_naive": sum(abs(r["error"]) < abs(r["detail"]["naive"]["error"])
                                             for r in rows if r["kind"] == "ratio"),
        "beats_naive": bool(ratios and np.mean(ratios) < np.mean(naive_ratios)
                            and sum(r["passed"] for r in rows if r["kind"] == "direction") >= naive_directions),
        "protocol": {"latency_slo_s": protocol["latency_slo_s"], "model_set": protocol["model_set"],
                     "rationale": " ".join(str(protocol["rationale"]).split())},
        "sensitivity": sensitivity(protocol),
        "published_chain": published_chain(data["published_chain"], {r["id"]: r for r in rows}, protocol),
    }
    summary["published_chain_note"] = summary["published_chain"]["note"]  # the text report prints no nested field
    return {"cases": rows, "summary": summary}
