"""Validate the facility, carbon, cost and reliability accounting against published formula-based figures.

Cases live in `validation/cases/facility.yaml`: Kokolis et al.'s RSC job-MTTF projections, Llama 3's
interruption rate and effective training time, Daly's optimum-interval captions, the Llama model cards'
location-based tCO2e (GPU-hours x TDP x PUE x grid intensity), Epoch AI's 1.82x server overhead, IT/server
ratio and 1-GW cost figures. Each row: id, metric, published, predicted, error, source; gated rows must be
within their own tolerance (a `bound: lower` case passes when the prediction is at least the published value).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.facility_loader import load_location
from infraplan.catalog.reliability_loader import load_failure_rate
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster import Cluster
from infraplan.cluster.power import accelerator_power_w
from infraplan.facility.carbon import model_card_co2_t
from infraplan.facility.checkpoint_goodput import daly_interval_s, job_mttf_s
from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import checkpoint_bytes, reliability_report
from infraplan.facility.results import FacilityReport
from infraplan.planning.campus import plan_campus


def load_facility_cases() -> list[dict[str, Any]]:
    text = (resources.files("infraplan.validation") / "cases" / "facility.yaml").read_text()
    return safe_load_yaml(text)["cases"]


def _gpu_hours(case: dict[str, Any]) -> float:
    from infraplan.planning.training_run import training_run_totals
    from infraplan.training.estimate import estimate_training

    cluster = Cluster.resolve(case["system"])
    result = estimate_training(case["model"], cluster, case["gpus"], tp=8, pp=16, vpp=7, seq_len=8192,
                               global_batch=2048, micro_batch=1, recompute="none", zero=3, dtype="bf16",
                               stack="meta-llama3")  # Meta's run: the balanced pipeline split (Llama 3 Sec. 3.3.2)
    return training_run_totals(result, cluster, float(case["tokens"])).gpu_hours


def _campus_1gw_it(accelerator: str) -> FacilityReport:
    """A campus whose IT load is ~1 GW: a facility budget of 1 GW x PUE."""
    probe = plan_campus(1e9, accelerator).facility
    return plan_campus(1e9 * probe.pue, accelerator).facility


def predict(case: dict[str, Any]) -> float:
    kind = case["kind"]
    if kind == "job_mttf_h":
        return float(job_mttf_s(case["gpus"], load_failure_rate(case["failure_rate"]))) / 3600.0
    if kind == "goodput":
        return reliability_report(case["system"], case["gpus"], 54, case["model"]).goodput
    if kind == "daly_interval_min":
        return float(daly_interval_s(case["write_min"] * 60.0, case["mttf_h"] * 3600.0)) / 60.0
    if kind == "checkpoint_tb":
        return checkpoint_bytes(load_model(case["model"]).total_params()) / 1e12
    if kind == "model_card_co2":
        grid = load_location(case["location"]).grid_gco2_per_kwh
        return float(model_card_co2_t(case["gpu_hours"], case["power_w"], case["pue"], grid))
    if kind == "training_gpu_hours":
        return _gpu_hours(case)
    if kind == "server_overhead":
        layout = Cluster.resolve(case["system"]).layout
        accel_w = float(accelerator_power_w(layout.accelerator))
        return (layout.accelerators_per_server * accel_w + layout.host_power_w) / (
            layout.accelerators_per_server * layout.accelerator.tdp_w)
    if kind in ("it_over_servers", "accelerators_per_rack", "rack_power_kw"):
        r = size_facility(system=case["system"], cooling=case.get("cooling"))
        if kind == "accelerators_per_rack":
            return float(r.accelerators_per_rack)
        if kind == "rack_power_kw":
            return r.rack_power_w / 1e3
        p = r.power_breakdown_w
        return r.it_power_w / (p["accelerators"] + p["hosts"])
    if kind == "campus_per_gw_it":
        f = _campus_1gw_it(case["accelerator"])
        scale = 1e9 / f.it_power_w / 1e9  # per GW of IT, in $B
        value = {"capex": f.capex_total_usd, "tco": f.tco_usd_per_year,
                 "energy_cost": f.opex_breakdown_usd_per_year["electricity"]}[case["quantity"]]
        if value is None:  # a money case on an accelerator the catalog does not price
            raise ValueError(f.cost_reason)
        return value * scale
    if kind == "campus_per_gw_facility":
        f = plan_campus(1e9, case["accelerator"]).facility
        if f.capex_total_usd is None:
            raise ValueError(f.cost_reason)
        return f.capex_total_usd / f.facility_power_w
    raise ValueError(f"unknown validation kind {kind!r}")


def run_facility_case(case: dict[str, Any]) -> dict[str, Any]:
    predicted = predict(case)
    error = predicted / case["published"] - 1.0
    lower_bound = case.get("bound") == "lower"
    passes = predicted >= case["published"] if lower_bound else abs(error) <= case["tolerance"] + 1e-12
    return {
        "id": case["id"], "metric": case["metric"], "published": case["published"], "predicted": predicted,
        "error": error, "source": case["source"], "tolerance": case.get("tolerance"), "bound": case.get("bound"),
        "gated": "known_gap" not in case, "known_gap": case.get("known_gap"), "passes": bool(passes),
    }


def run_facility_validation() -> dict[str, Any]:
    """Every facility case with its error, and a summary: gated cases, mean/max |error|, pass or fail."""
    rows = [run_facility_case(case) for case in load_facility_cases()]
    gated = [r for r in rows if r["gated"]]
    errors = [abs(r["error"]) for r in gated if r["bound"] is None]
    summary = {
        "cases": len(rows), "gated_cases": len(gated),
        "gated_passing": sum(r["passes"] for r in gated),
        "mean_abs_error": float(np.mean(errors)) if errors else 0.0,
        "max_abs_error": float(np.max(errors)) if errors else 0.0,
        "known_gaps": [r["id"] for r in rows if not r["gated"]],
    }
    summary["passes_gate"] = summary["gated_passing"] == summary["gated_cases"]
    return {"cases": rows, "summary": summary}
