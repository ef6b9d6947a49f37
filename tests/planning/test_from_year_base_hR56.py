"""hF56's `from_year` / installed base at its edges (hR, session 56): a base of less than one whole server (left
out of the layout: `scenario_report.whole_base`) does not open the pool before `from_year`, and a base that has
retired is not named as what binds in the phases after it retired. Before: the partial base made `out_of_service`
let the pool through, and the MILP's answer named nothing ("even the LP relaxation leaves ranking in 2026 short by
100 %"); a 2021 base retired in 2026.5 was named "its installed 64 devices alone" in 2027 too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.cli.main import main as cli_main


def _spec(qps: str, pools: list[dict[str, Any]], years: tuple[int, ...] = (2026, 2027)) -> dict[str, Any]:
    return {"name": "hr56", "phases": [{"name": str(y), "year": y} for y in years],
            "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": qps,
                          "latency_slo": "10ms"}],
            "pools": [{"site": "ohio", **pool} for pool in pools],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}


def _error(raw: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    assert cli_main(["plan", str(file), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_a_partial_server_base_does_not_open_the_pool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """4 H100 on 8-GPU servers: no whole server, so nothing serves before the 2027 delivery, and the refusal says so."""
    raw = _spec("200k", [{"name": "h100", "device": "h100-sxm", "installed": 4, "from_year": 2027}])
    err = _error(raw, tmp_path, capsys)
    assert "no pool can serve 'ranking' in 2026" in err, err
    assert "h100: delivered from 2027, its installed 4 short of one whole 8-device server" in err, err


def test_a_retired_base_is_not_named_binding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 2021 base (5.5 years: retired 2026.5) before a 2028 delivery, beside 8 A100 that cannot carry 2G QPS: the
    base binds in 2026 only; in 2027 the A100 pool's limit does."""
    pools = [{"name": "h100", "device": "h100-sxm", "installed": 64, "installed_year": 2021, "from_year": 2028},
             {"name": "a100", "device": "a100-80gb", "available": 8}]
    err = _error(_spec("2G", pools, (2026, 2027, 2028)), tmp_path, capsys)
    assert "ranking in 2027 short by" in err, err
    assert "pool h100 in 2026: its installed 64 devices alone" in err, err
    assert "pool h100 in 2027" not in err and "pool a100 used up (8 devices)" in err, err


def test_the_base_is_named_only_before_delivery(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Short in 2026 (base alone, from_year 2027) and in 2027 (the site's 200 kW cap, the pool open): the base is
    named for 2026 only, the cap for 2027 (a mutant dropping the `pool_open` test named the base in 2027 too)."""
    raw = _spec("2G", [{"name": "h100", "device": "h100-sxm", "installed": 64, "from_year": 2027}])
    raw["sites"][0]["power"] = "200kW"
    raw["services"][0]["growth"] = {"2027": 3}
    err = _error(raw, tmp_path, capsys)
    assert "ranking in 2026 short by" in err and "ranking in 2027 short by" in err, err
    assert "site ohio at its power cap of 200 kW in 2027" in err, err
    assert "pool h100 in 2026: its installed 64 devices alone" in err and "pool h100 in 2027" not in err, err


def test_a_base_before_from_year_reads_its_stack_and_sizes_its_spares() -> None:
    """hF56's `PoolSpec.present_in` in its other callers: a vLLM pool whose 8 installed H100 serve chat in 2025, a
    year before new ones are delivered (2026), is not an idle stack, and chat's replica is among its spares' instances
     (`pool_money.pool_instance`); with `from_year` alone (every caller reverted, or present_in's `or` made
    `and`: mutants that passed every test) the stack was reported unused and chat's replica not sized."""
    from tests.planning.test_pool_trays_money_stack_hL45 import CHAT, RANKING, TWO_PHASES
    from tests.planning.test_pool_trays_money_stack_hL45 import _spec as spec_of

    from infraplan.planning.pool_money import pool_instance
    from infraplan.planning.scenario_report import idle_stacks

    pools: list[dict[str, object]] = [{"name": "later", "device": "h100-sxm", "site": "ohio", "stack": "vllm",
                                       "from_year": 2026, "installed": 8}]
    spec = spec_of([CHAT, RANKING], pools, TWO_PHASES)
    assert idle_stacks(spec) == []
    assert "chat" in pool_instance(spec, spec.pools[0], 8).what
    unbased = spec_of([CHAT, RANKING], [{**pools[0], "installed": 0}], TWO_PHASES)
    assert len(idle_stacks(unbased)) == 1 and "chat" not in pool_instance(unbased, unbased.pools[0], 8).what
