"""`reliability --repair-time 3` was read as 3 s from a failure to the server back in service (the help: "seconds,
or 3d"), beside `--days 54` in the same command, which is days: a planner meaning 3 days got 3 seconds and every
GPU out of service dropped ~86,400 times, with no word. A bare number below `units.BARE_REPAIR_FLOOR_S` (an hour)
is refused in one line with the days and hours readings offered; the web's `repair_s` names seconds and takes any
number, and its "copy as CLI" line writes a short one with its unit so that the CLI runs it (hU62)."""

from __future__ import annotations

import json
import shlex

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import CliRun

from infraplan.cli.main import main
from infraplan.facility.reliability import DEFAULT_REPAIR_S
from infraplan.units import BARE_REPAIR_FLOOR_S
from infraplan.web.app import create_app

RELIABILITY = ["reliability", "--system", "gb200-nvl72", "--gpus", "1152", "--spare-trays-per-domain", "1", "--json"]


def test_a_bare_day_count_is_refused_in_one_line(cli: CliRun) -> None:
    code, out, err = cli([*RELIABILITY, "--repair-time", "3"])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "'--repair-time'" in err and "did you mean 3d or 3h?" in err and "write 3s to mean seconds" in err


@pytest.mark.parametrize(("value", "seconds"), [("3d", 3 * 86_400.0), ("72h", 3 * 86_400.0), ("259200", 259_200.0),
                                                ("3600", 3600.0), ("30s", 30.0), ("30min", 1800.0)])
def test_a_figure_with_its_unit_or_above_the_floor_runs_as_written(cli: CliRun, value: str, seconds: float) -> None:
    code, out, err = cli([*RELIABILITY, "--repair-time", value])
    assert code == 0, err
    assert json.loads(out)["repair_time_s"] == pytest.approx(seconds)


def test_the_floor_sits_below_the_default_repair_and_the_refusal_changes_the_answer(cli: CliRun) -> None:
    # the default (3 days, an ASSUMPTION) is well above the floor; the slip read as seconds held ~1/86,400 of the
    # GPUs out of service that the days reading holds (GPUs out scale with the repair time: Little's law)
    assert DEFAULT_REPAIR_S >= 24 * BARE_REPAIR_FLOOR_S
    _, days, _ = cli([*RELIABILITY, "--repair-time", "3d"])
    _, secs, _ = cli([*RELIABILITY, "--repair-time", "3s"])
    out_days = json.loads(days)["expected_gpus_out_of_service"]
    out_secs = json.loads(secs)["expected_gpus_out_of_service"]
    assert out_days > 1000 * out_secs


@pytest.mark.parametrize("repair_s", [30.0, 86_400.0])
def test_the_web_line_runs_on_the_cli(capsys: pytest.CaptureFixture[str], repair_s: float) -> None:
    body = {"system": "gb200-nvl72", "gpus": 1152, "repair_s": repair_s}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        web = client.post("/api/reliability", json=body)
        line = client.post("/api/reliability/cli", json=body).json()["command"]
    assert web.status_code == 200, web.text
    capsys.readouterr()
    assert main(shlex.split(line)[1:]) == 0, line
    assert json.loads(capsys.readouterr().out) == web.json()
