"""JSON names (hO65; hJ65's walk, product_review_tried.md "Left" 7): every rate in bytes per second, and a command's
own wall clock named `wall_time_s`, not a bare `seconds` a reader takes for a model answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.sweep.results import SweepRun
from infraplan.training.results import PlanSearchResult, ScalingResult

STATIC = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "web" / "static"


def test_network_tiers_give_the_port_rate_in_bytes_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    tiers = cli_json(capsys, "network meta-genai-roce-24k")["tiers"]
    assert [t["port_bytes_per_s"] for t in tiers] == [400e9 / 8] * 3  # Minipack2 / Arista 7816R3 at 400G
    assert not any("port_gbps" in t for t in tiers)
    page = (STATIC / "network.html").read_text()
    assert "port_bytes_per_s" in page and "port_gbps" not in page  # the web page reads the new name


@pytest.mark.parametrize("model", [ScenarioPlan, PlanSearchResult, ScalingResult, SweepRun])
def test_wall_clock_fields_say_so(model: type) -> None:
    fields = model.model_fields
    assert "wall_time_s" in fields
    assert not {"seconds", "elapsed_s"} & set(fields)
    assert "wall clock" in (fields["wall_time_s"].description or "")


def test_plan_json_carries_wall_time_s_not_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    data = cli_json(capsys, "plan examples/plan-minimal.yaml")
    assert "seconds" not in data and data["wall_time_s"] > 0.0
