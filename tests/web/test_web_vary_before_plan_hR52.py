"""The web's plan job reads every `vary` range before it plans the scenario (hR52; as `plan`: a bad range was refused
only after the plan ran)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.web import runners


def _no_plan(*args: object, **kwargs: object) -> None:
    raise AssertionError("the scenario was planned before its --vary ranges were read")


def test_the_web_plan_reads_every_range_first(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runners, "plan_scenario", _no_plan)
    response = client.post("/api/plan", json={"scenario": {"preset": "plan-minimal"}, "vary": ["bogus=1..2"]})
    assert response.status_code == 400 and "unknown parameter 'bogus'" in response.json()["detail"], response.text
