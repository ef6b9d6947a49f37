"""Issue 5's gate: published inference throughput within 15 % mean absolute error, one parameter set."""

from __future__ import annotations

import pytest

from infraplan.validation.inference import GATE_MEAN_ERROR, load_inference_cases, run_inference_validation


@pytest.fixture(scope="module")
def report():
    return run_inference_validation()  # the `validate` section's report (cached per process), phase times and all


def test_cases_cover_measurements_section_7():
    data = load_inference_cases()
    ids = {c["id"] for c in data["cases"]}
    assert {"mlperf-v4.1-llama2-70b-offline", "mlperf-v4.1-llama2-70b-server"} <= ids
    assert sum(i.startswith("trtllm-llama3.1-8b-h100-") for i in ids) == 10  # every published ISL/OSL
    for case in data["cases"]:
        assert case["source"] and case["published"] > 0 and case["assumed"]
    assert set(data["engine"]) == {"front_end", "max_batch", "token_budget", "server_metric", "early_stopping",
                                   "offline_query_slack"}  # one for every case
    assert data["engine"]["early_stopping"] is True and data["engine"]["offline_query_slack"] == 1.1  # LoadGen 4.1.30
    assert data["engine"]["server_metric"] == "completed"  # MLPerf LoadGen's Server metric (validation.loadgen)
    assert data["engine"]["front_end"] is False  # LoadGen and trtllm-bench run in-process: no front-end time


def test_gate_mean_absolute_error(report):
    gated = [r for r in report["cases"] if r["gated"]]
    assert len(gated) >= 10
    mean = sum(abs(r["error"]) for r in gated) / len(gated)
    assert mean <= GATE_MEAN_ERROR, report["summary"]
    assert report["summary"]["passes_gate"]


def test_rows_carry_the_fields_validate_prints(report):
    for row in report["cases"]:
        assert {"id", "metric", "published", "predicted", "error", "source"} <= set(row)
        assert row["predicted"] > 0
        if not row["gated"]:
            assert len(row["known_gap"]) > 40


def test_server_rate_respects_the_slo_and_stays_below_offline(report):
    rows = {r["id"]: r for r in report["cases"]}
    server, offline = rows["mlperf-v4.1-llama2-70b-server"], rows["mlperf-v4.1-llama2-70b-offline"]
    assert server["detail"]["ttft_p99_s"] <= 2.0 and server["detail"]["tpot_p99_s"] <= 0.2
    assert server["predicted"] < 1.05 * offline["predicted"]
