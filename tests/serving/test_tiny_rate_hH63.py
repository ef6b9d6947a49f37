"""A serving arrival rate too small to simulate (hH63).

`serve-plan --rate 1e-300` was an OverflowError traceback (`capacity_horizon.cv2` squared the ~1e300 s mean gap);
`--rate 5e-324` (and `serve --rate 1e-310`) made every arrival time nan and the simulation never ended (killed at
300 s). Now: the CLI and the web take at least `limits.MIN_ARRIVAL_RATE_PER_S` (one request in ~32 years),
`workloads.arrival_times` refuses arrivals that overflow (any caller), and cv2 does not overflow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog.serving_loader import Arrival
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.limits import MIN_ARRIVAL_RATE_PER_S
from infraplan.serving.capacity_horizon import cv2
from infraplan.serving.workloads import arrival_times


def test_cv2_of_huge_values_is_their_scale_free_cv2() -> None:
    """cv^2 does not depend on the scale: [1, 3] has mean 2, variance 1, cv^2 1/4, and so does 1e300 x it (the
    mean's square overflowed)."""
    assert cv2(np.array([1.0, 3.0])) == pytest.approx(0.25)
    assert cv2(np.array([1e300, 3e300])) == pytest.approx(0.25)
    assert cv2(np.array([np.inf, 1.0])) == 0.0  # no finite mean: nothing to read


def test_arrivals_that_overflow_are_one_refusal() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="too low to simulate"):
        arrival_times(100, 5e-324, Arrival(process="poisson"), rng)
    at_floor = arrival_times(100, MIN_ARRIVAL_RATE_PER_S, Arrival(process="poisson"), rng)
    assert np.isfinite(at_floor).all() and at_floor[-1] > 1e9  # 99 gaps of ~1e9 s


@pytest.mark.parametrize("rate", ["5e-324", "1e-300", "1e-10", "0"])
def test_serve_plan_refuses_a_rate_below_the_floor_in_one_line(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve-plan", "llama3-8b", "--system", "h200", "--workload", "chat", "--rate", rate])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert "--rate" in err and "must be > 0" in err, err  # (hL65: was pydantic's "greater than or equal to")


def test_the_web_refuses_it_too() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        r = client.post("/api/serve-plan", json={"model": "llama3-8b", "system": "h200", "rate": 5e-324,
                                                 "workload": "chat"})
    assert r.status_code == 422 and "rate" in r.json()["detail"], r.text


def test_a_fleet_llm_rate_below_the_floor_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """fleet-mix / plan size an LLM service by serve-plan's search (`fleet_mix_llm.serve_plan_search`): a peak rate
    of 1e-300 requests/s reached a search at 0.0 ("--rate must be > 0 requests/s, got 0.0"); now serve-plan's floor."""
    spec = tmp_path / "fleet.yaml"
    spec.write_text("name: tiny\nobjective: power\nservices:\n  - {name: chat, kind: llm, model: llama3-8b, workload: "
                    "chat, rate: 1e-300, ttft_slo: 2s, tpot_slo: 200ms}\npools:\n  - {name: h100, device: h100-sxm, "
                    "available: 8, price_usd_per_device: 42000}\n")
    code = main(["fleet-mix", str(spec)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "peak LLM rate 1e-300 requests/s is below serve-plan's 1e-09 requests/s floor" in err, err
