"""Custom-silicon validation: the published MTIA/MSVP directions hold, rows are complete and JSON-clean."""

from __future__ import annotations

import json

import pytest

from infraplan.validation.silicon import (
    gemm_perf_per_w_ratio,
    load_silicon_cases,
    run_case,
    run_silicon_validation,
)


@pytest.fixture(scope="module")
def report():
    return run_silicon_validation()


def test_rows_have_the_contract_fields(report) -> None:
    json.dumps(report, allow_nan=False)
    for row in report["cases"]:
        assert {"id", "metric", "published", "predicted", "error", "passed", "source"} <= set(row)
        assert row["source"].strip()
        assert (row["error"] is None) == (row["kind"] == "direction")
    assert len(report["cases"]) == len(load_silicon_cases()["cases"])


def test_published_mtia_directions_hold(report) -> None:
    rows = {r["id"]: r for r in report["cases"]}
    low = rows["mtia-v1-vs-a100-perf-per-w-low"]["predicted"]
    medium = rows["mtia-v1-vs-a100-perf-per-w-medium"]["predicted"]
    high = rows["mtia-v1-vs-a100-perf-per-w-high"]["predicted"]
    assert low > medium > high  # the advantage shrinks with complexity ...
    assert low >= 2.0 and high < 1.0  # ... from a clear win to a loss
    assert rows["mtia-v2-vs-v1-performance"]["predicted"] > 2.0


def test_every_gated_case_passes(report) -> None:
    failing = [r["id"] for r in report["cases"] if r["gated"] and not r["passed"]]
    assert not failing
    assert report["summary"]["all_gated_passed"]


def test_sensitivity_reports_each_slo_and_high_gets_worse_as_the_slo_tightens(report) -> None:
    rows = report["summary"]["sensitivity"]
    assert [r["latency_slo_s"] for r in rows] == load_silicon_cases()["protocol"]["sensitivity_slos_s"]
    highs = [r["mtia_v1_over_a100_qps_per_w"]["dlrm-high"] for r in rows]
    assert highs == sorted(highs)


def test_small_fc_favours_mtia_more_than_a_large_gemm() -> None:
    small = gemm_perf_per_w_ratio(128, 1024, 1024, "mtia-v1", "a100-80gb")
    large = gemm_perf_per_w_ratio(2048, 2048, 2048, "mtia-v1", "a100-80gb")
    assert small > large > 1.0


def test_mtia_2i_cases_run_at_the_papers_budget_and_pick_its_batches(report) -> None:
    rows = {r["id"]: r for r in report["cases"]}
    study = rows["mtia-v2-vs-h100-perf-per-w-case-study"]
    assert study["detail"]["latency_slo_s"] == 0.100
    assert study["detail"]["batches"]["dlrm-high"][0] == 2048  # the paper: batches up to 2K for HC1
    assert rows["mtia-v2-vs-h100-perf-per-w-low"]["detail"]["batches"]["dlrm-low"][0] == 4096  # up to 4K for LC1
    assert study["passed"] and abs(study["error"]) < 0.5
    low = rows["mtia-v2-vs-h100-perf-per-w-low"]["predicted"]
    assert low > 1.0 > study["predicted"]  # MTIA ahead on the low-complexity class, behind on the high one


def test_the_case_study_ratio_depends_on_the_latency_budget() -> None:
    """At the protocol's 20 ms MTIA v2 runs dlrm-high at batch 256 and re-streams its 1 GB of weights from LPDDR
    every batch: its QPS/W against H100 falls well below the 100 ms figure."""
    case = next(c for c in load_silicon_cases()["cases"] if c["id"] == "mtia-v2-vs-h100-perf-per-w-case-study")
    protocol = load_silicon_cases()["protocol"]
    at_100 = run_case(case, protocol)
    at_20 = run_case({k: v for k, v in case.items() if k != "latency_slo_s"}, protocol)
    assert at_20["detail"]["batches"]["dlrm-high"][0] == 256
    assert at_20["predicted"] < 0.7 * at_100["predicted"]


def test_server_level_claim_is_reported_as_a_known_gap(report) -> None:
    row = next(r for r in report["cases"] if r["id"] == "mtia-v2-vs-gpu-server-throughput")
    assert not row["gated"] and row["known_gap"]
    per_model = row["detail"]["per_model"]
    assert per_model["dlrm-low"] > per_model["dlrm-medium"] > per_model["dlrm-high"]  # 24 chips vs 8 GPUs
