"""hC48 (session 45): a pool's price is `price_usd_per_device`; the old key `capex_usd` (a plan's results call the
money spent `capex_usd`) is still read as the new one with one warning per file, and both on one pool are refused
(planning/pool_price_key.py)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.cli import main
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_price_key import OldPriceKeyWarning
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec

PLAN = {"name": "priced", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a", "price_usd_per_device": 30_000},
                  {"name": "a100", "device": "a100-80gb", "site": "a", "price_usd_per_device": 11_000}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "tco"}}
FLEET = {"name": "priced", "objective": "tco",
         "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
         "pools": [{"name": "h100", "device": "h100-sxm", "price_usd_per_device": 30_000},
                   {"name": "mtia", "device": "mtia-v2", "price_usd_per_device": 9_000}]}


def _old(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "pools": [{("capex_usd" if k == "price_usd_per_device" else k): v for k, v in p.items()}
                              for p in data["pools"]]}


def _timeless(value: Any) -> Any:
    """A JSON answer without its wall-clock fields (the solver's seconds differ between two runs)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k != "wall_time_s"}
    return [_timeless(v) for v in value] if isinstance(value, list) else value


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], data: dict[str, Any],
         name: str) -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    code = main([args[0], str(path), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("command", "data"), [("plan", PLAN), ("fleet-mix", FLEET)])
def test_the_old_key_gives_the_new_keys_answer_and_one_warning(command: str, data: dict[str, Any], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code_new, new, err_new = _run(capsys, tmp_path, [command, "--json"], data, "new.yaml")
    code_old, old, err_old = _run(capsys, tmp_path, [command, "--json"], _old(data), "new.yaml")  # same file name
    warned = [line for line in err_old.splitlines() if "capex_usd" in line]
    # the old key's answer carries the warning line first in its `warnings` (hJ59: --json = the web's answer)
    answer = json.loads(old)
    assert answer["warnings"][:1] == [line.removeprefix("infraplan: warning: ") for line in warned]
    answer["warnings"] = answer["warnings"][1:]
    assert code_new == code_old == 0 and _timeless(json.loads(new)) == _timeless(answer)
    assert "capex_usd" not in err_new
    assert len(warned) == 1 and warned[0].startswith("infraplan: warning: pools ")  # once for the file, both pools
    assert all(repr(p["name"]) in warned[0] for p in data["pools"]) and "price_usd_per_device" in warned[0]
    # the price is read, not dropped: twice the prices give another answer
    dearer = {**data, "pools": [{**p, "price_usd_per_device": 2 * p["price_usd_per_device"]} for p in data["pools"]]}
    code, other, _ = _run(capsys, tmp_path, [command, "--json"], dearer, "dearer.yaml")
    assert code == 0 and _timeless(json.loads(other)) != _timeless(json.loads(new))


def test_a_second_read_warns_again(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`warnings.warn` shows a repeated text once per process: a web server's second request said nothing."""
    for _ in range(2):
        code, _, err = _run(capsys, tmp_path, ["plan", "--json"], _old(PLAN), "s.yaml")
        assert code == 0 and sum("capex_usd" in line for line in err.splitlines()) == 1


@pytest.mark.parametrize(("command", "data"), [("plan", PLAN), ("fleet-mix", FLEET)])
def test_both_keys_on_one_pool_are_refused_in_one_line(command: str, data: dict[str, Any], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    both = {**data, "pools": [{**data["pools"][0], "capex_usd": 1.0}, *data["pools"][1:]]}
    code, out, err = _run(capsys, tmp_path, [command], both, "both.yaml")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("infraplan: error: ") and "pools.0" in err
    assert "price_usd_per_device" in err and "capex_usd" in err and "not both" in err


def test_a_spec_dumps_and_reads_back_the_new_key_without_a_warning() -> None:
    """--vary and the web dump a validated spec and validate it again: the new key, so no warning at each copy."""
    with pytest.warns(OldPriceKeyWarning) as caught:
        spec = ScenarioSpec.model_validate(_old(PLAN))
    assert len(caught) == 1
    dumped = spec.model_dump()
    assert [p["price_usd_per_device"] for p in dumped["pools"]] == [30_000, 11_000]
    assert all("capex_usd" not in p for p in dumped["pools"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ScenarioSpec.model_validate(dumped) == spec
        assert FleetSpec.model_validate(FLEET).pools[1].price_usd_per_device == 9_000


def test_a_pool_validated_alone_reads_and_refuses_alike() -> None:
    with pytest.warns(OldPriceKeyWarning, match=r"pool 'p': `capex_usd` is read as `price_usd_per_device`"):
        pool = PoolSpec.model_validate({"name": "p", "device": "h100-sxm", "site": "s", "capex_usd": 5.0})
    assert pool.price_usd_per_device == 5.0
    with pytest.raises(ValueError, match="not both"):
        PoolSpec.model_validate({"name": "p", "device": "h100-sxm", "site": "s", "capex_usd": 5.0,
                                 "price_usd_per_device": 5.0})
