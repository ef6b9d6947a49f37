"""A pool's presence in a phase and its `available` cap (hM, session 56).

`retirement.out_of_service` is the one test of whether a pool has devices in a phase: the sizing, the spares' widest
instance (`pool_money.pool_instance`), the tier brackets (`scenario_prices.bracket_prices`) and `idle_stacks` read
it. Before, the last three read `PoolSpec.present_in` (installed, or delivered), True for a base that has retired
before `from_year` or is less than one whole server (left out of the layout): a vLLM pool whose only devices in
2025 were 4 H100 (8-GPU servers) or a retired base was read as serving chat there (not an idle stack, chat's
replica among its spares' instances) and priced brackets in a phase it had no device in. A mutant gating the
brackets on `from_year` alone (hR56's M19) dropped the phase-one bracket of a base serving before delivery.

`available` caps the devices a pool deploys, its installed base included (whole servers round it up): `installed`
above it was accepted (64 installed on an available 32: the plan served with 64); now one line, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from tests.planning.conftest import plan_cli
from tests.planning.test_pool_trays_money_stack_hL45 import CHAT, RANKING
from tests.planning.test_pool_trays_money_stack_hL45 import _spec as spec_of

from infraplan.catalog.loader import preset_files
from infraplan.cli.main import main as cli_main
from infraplan.planning.pool_money import pool_instance
from infraplan.planning.scenario_prices import bracket_prices
from infraplan.planning.scenario_report import idle_stacks
from infraplan.planning.scenario_spec import ScenarioSpec

THREE_PHASES = [{"name": str(y), "year": y} for y in (2025, 2026, 2027)]


def _bracketed(spec: ScenarioSpec) -> set[tuple[int, int]]:
    """The (pool, phase) pairs `bracket_prices` prices (a flat $1 a device: only which pairs count here)."""
    n = len(spec.phases)
    at = [[(0, 0)] * n for _ in spec.pools]
    out = bracket_prices(spec, at, lambda p, size: 1.0, np.ones(n), lambda p: [(1, 1)],
                         [ph.year for ph in spec.phases], {})
    return set(out)


def test_brackets_only_where_the_pool_has_devices() -> None:
    """Phases 2025-2027, new devices from 2027: 64 H100 installed serve from 2025 (priced every phase); a 2020 base
    (5.5 years: retired by 2026) is priced in 2025 and 2027, not 2026; 4 H100 (no whole server) only from 2027."""
    pools: list[dict[str, object]] = [
        {"name": "base", "device": "h100-sxm", "site": "ohio", "installed": 64, "from_year": 2027},
        {"name": "old", "device": "h100-sxm", "site": "ohio", "installed": 64, "installed_year": 2020,
         "from_year": 2027},
        {"name": "part", "device": "h100-sxm", "site": "ohio", "installed": 4, "from_year": 2027}]
    got = _bracketed(spec_of([RANKING], pools, THREE_PHASES))
    assert got == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 2)}


@pytest.mark.parametrize(("base", "phases"), [({"installed": 4}, "(2027)"),
                                              ({"installed": 8, "installed_year": 2020}, "(2025, 2027)")],
                         ids=["sub-server", "retired"])
def test_a_base_out_of_service_is_an_idle_stack(base: dict[str, object], phases: str) -> None:
    """Chat runs in 2026 only; the vLLM pool's new devices come in 2027: its 4 H100 (half a server) or its 2020 base
    (retired by 2026) serve nothing then, so the stack is unused and chat's replica is not among its instances."""
    chat = {**CHAT, "phases": ["2026"]}
    pool = {"name": "later", "device": "h100-sxm", "site": "ohio", "stack": "vllm", "from_year": 2027, **base}
    spec = spec_of([chat, RANKING], [pool], THREE_PHASES)
    warnings = idle_stacks(spec)
    assert len(warnings) == 1 and f"the phases the pool is in {phases}" in warnings[0], warnings
    assert "chat" not in pool_instance(spec, spec.pools[0], 8).what
    live = spec_of([chat, RANKING], [{**pool, "installed": 8, "installed_year": 2025}], THREE_PHASES)
    assert idle_stacks(live) == [] and "chat" in pool_instance(live, live.pools[0], 8).what


def _plan(pool: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    raw = {"name": "hm56", "phases": [{"name": "2026", "year": 2026}],
           "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "200k",
                         "latency_slo": "10ms"}],
           "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
           "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}
    return plan_cli(raw, tmp_path, capsys)  # (tests/planning/conftest.py)


def test_installed_above_available_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _plan({"installed": 64, "available": 32}, tmp_path, capsys)
    assert rc == 2 and "\n" not in err, err
    assert "installed 64 is above available 32: available caps the devices the pool deploys" in err, err
    rc, out = _plan({"installed": 64, "available": 64}, tmp_path, capsys)
    assert rc == 0, out


@pytest.mark.parametrize("command", [["video", "--device"], ["video", "--daily-hours", "100", "--device"]])
def test_a_host_taller_than_the_rack_is_refused_at_load(command: list[str], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A 43U MSVP host: `plan` refused it at pricing, `video --device` answered (it racks nothing); now the file's
    load refuses it, one line, for every command (catalog.file_checks.RackUnits)."""
    data = yaml.safe_load(preset_files("video/devices")["msvp"].read_text())
    data["host_rack_units"] = 43
    path = tmp_path / "msvp-43u.yaml"
    path.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    assert cli_main([*command, str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.endswith("host_rack_units: a 43U server does not fit a 42U rack"), err


def test_the_web_refuses_it_too() -> None:
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    spec = {"name": "hm56", "phases": [{"name": "2026", "year": 2026}],
            "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "200k",
                          "latency_slo": "10ms"}],
            "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", "installed": 64, "available": 32}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.post("/api/plan", json={"scenario": {"spec": spec}})
    assert response.status_code == 400
    assert "installed 64 is above available 32" in response.json()["detail"]
