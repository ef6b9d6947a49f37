"""Planning follow-ups (hL45, session 43): spare trays per pool (`pools[].spare_trays_per_domain`, `auto`), the money
a phase spends apart from the fleet's value (`capex_new_usd`;
since hL47 `capex_usd`, the value `fleet_value_usd`), a pool stack no LLM deployment reads (a warning).

Spare trays by hand, on GB200 NVL72 (18 trays of 4 GPUs in one domain) at llama3-h100's out-of-service rate and
the 3-day repair: M = 18 trays x 3.789 / 1,000 node-days x 4 / 8 GPUs x 321 / 419 x 72 h = 0.0784 trays in repair
per domain (test_spare_trays_small_instances_hL44.py). A 72-GPU job spans its domain:
  k = 0: 1 domain, mean M = 0.078, P(0) = e^-M = 0.925 < 0.99, so 1 spare domain: 18 spare servers;
  k = 1: ceil(72 / 68) = 2 domains, mean 2 E[(X - 1)+] = 2 (M - 1 + e^-M) = 0.0060, P(0) = 0.994: 0 spare
         domains, 2 x 1 = 2 spare servers;
  k = 2: 2 domains x 2 = 4; k = 3: 6; k grows the count by 2 a tray from there on.
so auto takes k = 1 (2 servers, 8 GPUs, against 72 at k = 0).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from infraplan.cli import main
from infraplan.cli.commands._output import fmt_usd
from infraplan.errors import InputError
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_money import pool_money, pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_report import capex_new, idle_stacks
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, Instance, Spares, spare_nodes, spare_servers

M = 18 * 3.789 / 1000 / 8 / 24 * 4 * 321 / 419 * 72.0
TRAINING: dict[str, object] = {"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64,
                               "seq_len": 4096, "global_batch": 256}
RANKING: dict[str, object] = {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "20000M",
                              "latency_slo": "10ms", "growth": {"2026": 2.0}}
CHAT: dict[str, object] = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5,
                           "dtypes": ["bf16"], "phases": ["2025"]}
TWO_PHASES = [{"name": "2025", "year": 2025}, {"name": "2026", "year": 2026}]


def _gb200(k: int | str, devices: int = 72, instance: int = 72) -> Spares:
    return spare_nodes(devices, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=k,
                       instance=Instance(instance, f"{instance}-GPU instance"))


def _spec(services: list[dict[str, object]], pools: list[dict[str, object]], phases: object = None,
          **policy: object) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "hl45", "phases": phases or [{"name": "2026", "year": 2026}], "services": services, "pools": pools,
        "sites": [{"name": "ohio", "power": "300MW", "location": "ohio"}], "policy": policy})


# --- 1. spare trays per pool, and auto ---------------------------------------------------------------------------

def test_auto_takes_the_fewest_spare_servers_by_hand() -> None:
    assert math.exp(-M) < 0.99 <= math.exp(-2 * (M - 1 + math.exp(-M)))  # the hand count's two quantiles
    assert [_gb200(k).spare_nodes for k in range(5)] == [18, 2, 4, 6, 8]
    auto = _gb200("auto")
    assert (auto.spare_nodes, auto.spare_devices, auto.spare_trays_per_domain, auto.spare_units) == (2, 8, 1, 0)
    assert ("spare_trays_per_domain auto: 1, of 0 .. 17 the one with the fewest spare servers (2; 18 with none "
            "asked)") in auto.rate_basis
    assert "1 spare server held in each domain" in auto.rate_basis  # the k taken, in the domain's own words


@pytest.mark.parametrize("instance", [8, 72])
def test_auto_is_the_least_fixed_count_at_every_load_and_the_bound_counts_alike(instance: int) -> None:
    """hL44's pair (16,384 GB200 at p = 0.99): k = 1 is cheapest for work spanning the domain (1,180 spare GPUs
    against 2,016 at k = 0) and k = 0 for TP8 replicas (224 against 2,056 at k = 1); auto gives each its least.
    The optimality bound's spare count over server counts (`spare_servers`) is the least at each count too, and
    grows with the count (the bound's requirement)."""
    for devices in (8, 72, 200, 1000, 16384):
        fixed = [_gb200(k, devices, instance).spare_nodes for k in range(18)]
        assert _gb200("auto", devices, instance).spare_nodes == min(fixed)
    assert (_gb200("auto", 16384, instance).spare_devices, _gb200(0, 16384, instance).spare_devices) == (
        (1180, 2016) if instance == 72 else (224, 224))
    servers = np.arange(0, 600, 7)
    bound = spare_servers(servers, _gb200("auto", 4, instance), 0.99)
    assert list(bound) == [_gb200("auto", int(n) * 4, instance).spare_nodes for n in servers]
    assert (np.diff(bound) >= 0).all()


def test_a_pools_field_comes_before_the_policys() -> None:
    pools: list[dict[str, object]] = [{"name": name, "device": "gb200", "site": "ohio"} for name in "abc"]
    pools[1]["spare_trays_per_domain"], pools[2]["spare_trays_per_domain"] = 0, "auto"
    spec = _spec([TRAINING], pools, spare_probability=0.99, spare_trays_per_domain=3)
    got = {p.name: pool_spares(spec, p, 16384) for p in spec.pools}
    assert {n: (s.spare_trays_per_domain, s.spare_devices) for n, s in got.items() if s} == {
        "a": (3, _gb200(3, 16384).spare_devices), "b": (0, 2016), "c": (1, 1180)}


def test_a_pools_field_is_checked_in_one_line_naming_the_pool(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    pool = {"name": "big", "device": "gb200", "site": "ohio", "spare_trays_per_domain": 18}
    spec = _spec([TRAINING], [pool], spare_probability=0.99)
    with pytest.raises(InputError, match="pool big spare_trays_per_domain: spare trays per domain must be in 0 .. 17"):
        pool_spares(spec, spec.pools[0], 64)
    with pytest.raises(ValidationError, match="pool 'big': spare_trays_per_domain is a spares policy"):
        _spec([TRAINING], [pool])
    for written in (2, 2.0, "2"):  # as pydantic reads an int field
        assert _spec([TRAINING], [{**pool, "spare_trays_per_domain": written}],
                     spare_probability=0.99).pools[0].spare_trays_per_domain == 2
    for bad, why in (("true", "a boolean"), ("some", "a count 0 .. 64 or auto, got 'some'"), ("-1", "got -1"),
                     ("65", "got 65")):
        path = tmp_path / "s.yaml"
        path.write_text("name: s\nphases: [{name: a, year: 2026}]\nservices: [{name: r, kind: recsys, model: "
                        "dlrm-low, qps: 1M, latency_slo: 10ms}]\npools: [{name: p, device: gb200, site: o, "
                        f"spare_trays_per_domain: {bad}}}]\nsites: [{{name: o, power: 1MW}}]\n"
                        "policy: {spare_probability: 0.99}\n")
        capsys.readouterr()
        assert main(["plan", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "spare_trays_per_domain" in err and why in err, err


def test_fleet_mix_sizes_no_spares_so_its_pools_refuse_the_field() -> None:
    with pytest.raises(ValidationError, match="spare_trays_per_domain"):
        FleetSpec.model_validate({"services": [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": "1M",
                                                "latency_slo": "10ms"}],
                                  "pools": [{"name": "p", "device": "gb200", "spare_trays_per_domain": 1}]})


def test_a_plan_row_sizes_its_pool_at_its_own_field() -> None:
    """One training pool: the policy asks none (2,016-style whole spare domains), the pool auto; the row's spares
    are the least over k at the job's devices, and its basis names the k."""
    spec = _spec([TRAINING], [{"name": "p", "device": "gb200", "site": "ohio", "spare_trays_per_domain": "auto"}],
                 spare_probability=0.99)
    (row,) = plan_scenario(spec).pools
    used = row.devices - row.spare_devices
    assert row.spare_nodes == min(_gb200(k, used).spare_nodes for k in range(18)) < _gb200(0, used).spare_nodes
    assert "spare_trays_per_domain auto: 1, of 0 .. 17" in (row.spare_rate_basis or "")


# --- 2. the money a phase spends ---------------------------------------------------------------------------------

def test_money_spent_is_the_fleet_value_added_phase_by_phase() -> None:
    """A brownfield H100 pool (64 installed) grows over two phases: each phase spends its capex less the phase
    before's (the installed base priced by the one cost model before the first), so the base's value plus the
    money spent is the last phase's capex, and a greenfield plan spends its whole capex."""
    spec = _spec([RANKING], [{"name": "h", "device": "h100-sxm", "site": "ohio", "installed": 64}], TWO_PHASES)
    plan = plan_scenario(spec)
    base = pool_money(spec, spec.pools[0], spec.sites[0], 64).capex_usd
    a, b = plan.pools
    assert base is not None and a.fleet_value_usd is not None and b.fleet_value_usd is not None
    assert 64 < a.devices < b.devices  # it grows in both phases
    assert a.capex_usd == pytest.approx(a.fleet_value_usd - base) and b.capex_usd == pytest.approx(
        b.fleet_value_usd - a.fleet_value_usd)
    assert [ph.capex_usd for ph in plan.phases] == [a.capex_usd, b.capex_usd]
    assert plan.capex_usd == pytest.approx(plan.fleet_value_usd - base)  # type: ignore[operator]
    assert plan.installed_base_value_usd == pytest.approx(base)  # hL47: the base's value, named apart
    assert (capex_new(5.0, 7.0), capex_new(7.0, 5.0), capex_new(None, 5.0)) == (0.0, 2.0, None)  # no money back
    green = plan_scenario(_spec([RANKING], [{"name": "h", "device": "h100-sxm", "site": "ohio"}], TWO_PHASES))
    assert green.capex_usd == pytest.approx(green.fleet_value_usd)
    assert green.installed_base_value_usd == 0.0
    assert green.phases[0].capex_usd == pytest.approx(green.phases[0].fleet_value_usd)


def test_a_base_that_covers_the_demand_spends_nothing_and_unpriced_spends_null() -> None:
    kept = plan_scenario(_spec([{**RANKING, "qps": "1M"}], [{"name": "h", "device": "h100-sxm", "site": "ohio",
                                                             "installed": 64}], TWO_PHASES))
    assert [r.devices for r in kept.pools] == [64, 64] and kept.fleet_value_usd and kept.fleet_value_usd > 0
    assert [r.capex_usd for r in kept.pools] == [0.0, 0.0] and kept.capex_usd == 0.0
    free = plan_scenario(_spec([{**RANKING, "qps": "1M"}], [{"name": "m", "device": "mi300x", "site": "ohio"}],
                               objective="power"))  # no server price in the catalog
    assert free.capex_usd is None and free.phases[0].capex_usd is None and free.pools[0].capex_usd is None


def test_the_text_says_what_is_bought(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "grow.yaml"
    path.write_text("name: grow\nphases: [{name: '2025', year: 2025}, {name: '2026', year: 2026}]\nservices: "
                    "[{name: rank, kind: recsys, model: dlrm-low, qps: 20000M, latency_slo: 10ms, growth: {'2026': 2}}]"
                    "\npools: [{name: h, device: h100-sxm, site: o, installed: 64}]\nsites: [{name: o, power: 30MW}]\n")
    capsys.readouterr()
    assert main(["plan", str(path)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "phase" in line and "devices" in line)
    assert header.split("┃")[5:8] == ["   capex ", " fleet value ", " TCO/year "]  # hL47: capex is what is bought
    total = next(line for line in out.splitlines() if line.startswith("total ("))
    assert main(["plan", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["capex_usd"] < data["fleet_value_usd"]  # the installed base's value is not bought
    assert data["fleet_value_usd"] == pytest.approx(data["capex_usd"] + data["installed_base_value_usd"])
    assert (f"capex {fmt_usd(data['capex_usd'])} bought over the phases (fleet value {fmt_usd(data['fleet_value_usd'])}"
            f" with the {fmt_usd(data['installed_base_value_usd'])} installed base), TCO") in total


# --- 3. a pool stack no LLM deployment reads ---------------------------------------------------------------------

def test_a_pool_stack_without_llm_demand_in_its_phases_is_a_warning() -> None:
    pools: list[dict[str, object]] = [{"name": "now", "device": "h100-sxm", "site": "ohio", "stack": "vllm"},
                                      {"name": "later", "device": "h100-sxm", "site": "ohio", "stack": "vllm",
                                       "from_year": 2026}]
    (line,) = idle_stacks(_spec([CHAT, RANKING], pools, TWO_PHASES))
    assert line == ("pool later: stack vllm is unused: no LLM deployment runs on the pool, since llm service chat "
                    "has no demand in the phases the pool is in (2026)")
    grown = {**CHAT, "phases": None, "growth": {"2026": 0.0}}  # demand 0 in the pool's one phase: unused too
    assert len(idle_stacks(_spec([grown, RANKING], pools, TWO_PHASES))) == 1
    assert idle_stacks(_spec([{**CHAT, "phases": None}, RANKING], pools, TWO_PHASES)) == []
    plan = plan_scenario(_spec([CHAT, RANKING], pools, TWO_PHASES))
    assert line in plan.warnings and not any("pool now:" in w for w in plan.warnings)
