"""A pool's `from_year` dates NEW devices (hF, session 56): its installed base, in place before the first phase
(`installed_year` may not be later: planning/retirement.py check_lifecycles), serves from the first phase
(`PoolSpec.present_in`). Before: a pool with 64 H100 installed and `from_year: 2027` served nothing in 2026 ("no pool
can serve 'ranking' in 2026 ...: h100: delivered from 2027") while the MILP kept (and charged) its 64 devices there.
Before `from_year` the pool buys none: a demand beyond its base is infeasible, naming the base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.planning.conftest import plan_cli


def _spec(qps: str, pool: dict[str, Any], years: tuple[int, ...] = (2026, 2027),
          growth: dict[str, float] | None = None) -> dict[str, Any]:
    ranking = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": qps, "latency_slo": "10ms"}
    return {"name": "hf56", "phases": [{"name": str(y), "year": y} for y in years],
            "services": [ranking | ({"growth": growth} if growth else {})],
            "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio", **pool}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}


def _in_service(plan: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {row["phase"]: (row["devices"], row["new_devices"]) for row in plan["pools"] if row["pool"] == "h100"}


def test_installed_base_serves_before_from_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out = plan_cli(_spec("300M", {"installed": 64, "from_year": 2027}, growth={"2027": 4}), tmp_path, capsys)
    assert rc == 0, out
    plan = json.loads(out)
    assert _in_service(plan) == {"2026": (64, 0), "2027": (64, 0)}
    served = {row["phase"]: row["devices"] for row in plan["services"] if row["service"] == "ranking"}
    assert served["2026"] > 0 and served["2027"] > served["2026"]


def test_no_purchase_before_from_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2G QPS needs more than the 64 installed in 2026: infeasible there, the base named as the limit."""
    rc, err = plan_cli(_spec("2G", {"installed": 64, "from_year": 2027}), tmp_path, capsys)
    assert rc == 2 and "\n" not in err, err
    assert "ranking in 2026 short by" in err and "2027 short" not in err, err
    assert "pool h100 in 2026: its installed 64 devices alone (new ones not delivered yet: from_year)" in err, err
    rc, out = plan_cli(_spec("2G", {"installed": 64}), tmp_path, capsys)  # (delivered from the start: it buys)
    assert rc == 0 and _in_service(json.loads(out))["2026"][1] > 0


def test_a_retired_base_does_not_serve_before_from_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 2021 base on 5.5 years retires in 2026.5: in 2027, before the 2028 delivery, the pool has nothing."""
    raw = _spec("200k", {"installed": 64, "installed_year": 2021, "from_year": 2028}, years=(2026, 2027, 2028))
    rc, err = plan_cli(raw, tmp_path, capsys)
    assert rc == 2 and "\n" not in err, err
    assert "no pool can serve 'ranking' in 2027" in err and "delivered from 2028, its installed base retired" in err


def test_without_a_base_from_year_still_closes_the_pool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = plan_cli(_spec("200k", {"from_year": 2027}), tmp_path, capsys)
    assert rc == 2 and "no pool can serve 'ranking' in 2026" in err and "h100: delivered from 2027" in err, err
    assert "installed base" not in err
