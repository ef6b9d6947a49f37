"""hC49 (session 46): the web's answer carries the warning the CLI prints on stderr for a pool's old price key
`capex_usd` (planning/pool_price_key.py; it reached only the server log), and a bare `--vary electricity=` range's
(planning/compare.py): plan and compare in the plan's `warnings` (compare's `risks` too), fleet-mix in `warnings`.
The line is the CLI's, word for word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from tests.web.conftest import web_answer

from infraplan.cli import main

PLAN = {"name": "priced", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "capex_usd": 30_000},
                  {"name": "a100", "device": "a100-80gb", "site": "a", "price_usd_per_device": 11_000}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "tco"}}
FLEET = {"name": "priced", "objective": "tco",
         "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
         "pools": [{"name": "h100", "device": "h100-sxm", "capex_usd": 30_000},
                   {"name": "mtia", "device": "mtia-v2", "capex_usd": 9_000}]}


def _renamed(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "pools": [{("price_usd_per_device" if k == "capex_usd" else k): v for k, v in p.items()}
                              for p in data["pools"]]}


def _cli_warnings(tmp_path: Path, capsys: Any, args: list[str], data: dict[str, Any]) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    assert main([args[0], str(path), *args[1:], "--json"]) == 0
    return [line.removeprefix("infraplan: warning: ") for line in capsys.readouterr().err.splitlines()]


def test_plan_answer_carries_the_clis_old_key_line(client: TestClient, tmp_path: Path, capsys: Any) -> None:
    printed = _cli_warnings(tmp_path, capsys, ["plan"], PLAN)
    assert len(printed) == 1 and "'h100'" in printed[0] and "'a100'" not in printed[0]
    answer = web_answer(client, "plan", {"scenario": {"spec": PLAN}})
    assert answer["warnings"][:1] == printed
    clean = web_answer(client, "plan", {"scenario": {"spec": _renamed(PLAN)}})
    assert not any("capex_usd" in line for line in clean["warnings"])
    # the same plan otherwise: the warning is the only difference
    assert {k: v for k, v in answer.items() if k not in ("warnings", "wall_time_s")} == \
        {k: v for k, v in clean.items() if k not in ("warnings", "wall_time_s")}


def test_compare_answer_carries_each_scenarios_line(client: TestClient) -> None:
    answer = web_answer(client, "compare", {"scenarios": [{"spec": _renamed(PLAN)}, {"spec": PLAN}]})
    first, second = answer["scenarios"]
    assert not any("capex_usd" in line for line in first["warnings"])
    assert any("`capex_usd` is read as `price_usd_per_device`" in line for line in second["warnings"])
    assert any("capex_usd" in line for line in answer["risks"][1]) and \
        not any("capex_usd" in line for line in answer["risks"][0])


def test_fleet_mix_answer_carries_the_clis_line(client: TestClient, tmp_path: Path, capsys: Any) -> None:
    printed = _cli_warnings(tmp_path, capsys, ["fleet-mix"], FLEET)
    assert len(printed) == 1 and "pools 'h100', 'mtia'" in printed[0]
    assert web_answer(client, "fleet-mix", {"fleet": {"spec": FLEET}})["warnings"] == printed
    assert web_answer(client, "fleet-mix", {"fleet": {"spec": _renamed(FLEET)}})["warnings"] == []


def test_a_bare_vary_range_is_warned_in_the_answer(client: TestClient, tmp_path: Path, capsys: Any) -> None:
    spec = _renamed(PLAN)
    printed = _cli_warnings(tmp_path, capsys, ["plan", "--vary", "electricity=0.05..0.12"], spec)
    assert len(printed) == 1 and "electricity=0.05/kWh..0.12/kWh" in printed[0]
    bare = web_answer(client, "plan", {"scenario": {"spec": spec}, "vary": ["electricity=0.05..0.12"]})
    united = web_answer(client, "plan", {"scenario": {"spec": spec}, "vary": ["electricity=50/MWh..0.12/kWh"]})
    assert bare["warnings"][:1] == printed and not any("electricity" in line for line in united["warnings"])
    assert bare["tornado"] == united["tornado"]  # 50/MWh is 0.05/kWh: the same range, read in its unit


def test_the_webs_electricity_price_takes_its_unit_as_the_cli(client: TestClient, capsys: Any) -> None:
    """`electricity_price` '0.07/kWh' and 70 (USD/MWh) answer alike; a bare 5 (a price in either unit) is 422 with
    the CLI's rule; the copied CLI line writes the unit, so the CLI runs it without the bare-number warning."""
    body = {"accelerator": "h100-sxm", "count": 8}
    per_kwh = client.post("/api/facility", json={**body, "electricity_price": "0.07/kWh"})
    bare = client.post("/api/facility", json={**body, "electricity_price": 70})
    assert per_kwh.status_code == bare.status_code == 200 and per_kwh.json() == bare.json()
    assert per_kwh.json()["assumptions"]["electricity_usd_per_mwh"] == 70.0
    refused = client.post("/api/facility", json={**body, "electricity_price": 5})
    assert refused.status_code == 422 and "per MWh or per kWh alike" in refused.json()["detail"]
    line = client.post("/api/facility/cli", json={**body, "electricity_price": "0.07/kWh"}).json()["command"]
    assert "--electricity-price 70.0/MWh" in line
    capsys.readouterr()
    assert main(line.split()[1:]) == 0
    assert capsys.readouterr().err == ""
