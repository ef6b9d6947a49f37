"""hL47 (session 44): session 43's planning follow-ups.

1. `capex_usd` is the money a plan spends; the fleet's value (installed base included) is `fleet_value_usd` and the
   base's `installed_base_value_usd` (before: `capex_usd` was the fleet's value, `capex_new_usd` the money).
2. A disaggregated LLM answer splits over pools in groups keeping its prefill:decode ratio (before: always one
   whole deployment); where no smaller group exists the infeasible line says why.
3. Campus training capacity counts no run whose plan does not fit memory (before: its tokens/s were counted).
4. The spares basis of an MTIA / TPU pool says the rate is applied per accelerator / TPU (before: "is used").
5. A count's B is billion: `--tokens 1B` (CLI and web alike; before, both refused it).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from infraplan.errors import InputError
from infraplan.planning import scenario_sizing
from infraplan.planning.campus import training_capacity
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.phased_mix import MixOption, PhasedMix, _whole_jobs
from infraplan.planning.pool_money import pool_money, pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec, ServiceSpec
from infraplan.units import parse_count

MINIMAL = Path(__file__).resolve().parents[2] / "examples" / "plan-minimal.yaml"


# 1. capex is the money spent; the fleet's value and the installed base's are named apart
def _minimal(**pool: object) -> ScenarioSpec:
    data = yaml.safe_load(MINIMAL.read_text())
    data["pools"][0].update(pool)
    return ScenarioSpec.model_validate(data)


def test_an_installed_base_that_serves_the_demand_spends_nothing() -> None:
    """plan-minimal needs one H100 (one 8-GPU server): with those 8 installed, nothing is bought, so capex is $0
    while the fleet is worth the server's price by the one cost model; without them, capex is that same value."""
    green, owned = plan_scenario(_minimal()), plan_scenario(_minimal(installed=8))
    spec = _minimal(installed=8)
    base = pool_money(spec, spec.pools[0], spec.sites[0], 8).capex_usd
    assert base is not None and base > 0
    assert owned.capex_usd == 0.0 and owned.pools[0].capex_usd == 0.0 and owned.phases[0].capex_usd == 0.0
    assert owned.installed_base_value_usd == pytest.approx(base, rel=1e-12)
    assert owned.fleet_value_usd == pytest.approx(base, rel=1e-12) == owned.pools[0].fleet_value_usd
    assert green.capex_usd == pytest.approx(green.fleet_value_usd, rel=1e-12) == pytest.approx(base, rel=1e-12)
    assert green.installed_base_value_usd == 0.0
    assert owned.tco_usd_per_year == pytest.approx(green.tco_usd_per_year, rel=1e-12)  # the base is amortised too


def test_compare_reports_money_spent_and_fleet_value_apart() -> None:
    c = compare_scenarios([_minimal(), _minimal(installed=8)])
    assert {"capex_usd", "fleet_value_usd"} <= set(c.metrics) and "capex_new_usd" not in c.metrics
    first = c.scenarios[0]
    assert c.deltas[1]["capex_usd"] == pytest.approx(-(first.capex_usd or 0.0)) and c.deltas[1]["fleet_value_usd"] == 0


def test_the_plan_json_has_no_capex_new_field() -> None:
    dumped = plan_scenario(_minimal()).model_dump()
    assert "capex_new_usd" not in dumped and "capex_new_usd" not in dumped["pools"][0]
    assert {"capex_usd", "fleet_value_usd"} <= set(dumped["phases"][0])


# 2. a disaggregated answer splits in groups of its prefill:decode ratio
def _layout(tp: int) -> SimpleNamespace:
    return SimpleNamespace(tp=tp, pp=1, attention_dp=1)


def _answer(prefill: int, decode: int, tp: int = 4) -> SimpleNamespace:
    dep = SimpleNamespace(replicas=prefill + decode, tp=tp, pp=1, attention_dp=1, dtype="fp8", kv_dtype="fp8",
                          max_batch=64,
                          disaggregated=True, prefill_replicas=prefill, decode_replicas=decode,
                          prefill=_layout(tp), decode=_layout(tp))
    return SimpleNamespace(feasible=True, gpus=(prefill + decode) * tp, deployment=dep, serve=None, slo=None, why=None,
                           meets_slo_full_run=True)  # a real answer has it (hG57 reads it)


SVC = ServiceSpec(name="chat", kind="llm", model="llama3-8b", workload="chat", rate=12.0)
POOL = PoolSpec(name="p", device="h100-sxm", site="s")


@pytest.mark.parametrize(("prefill", "decode", "groups"), [(2, 4, 2), (6, 3, 3), (4, 4, 4)])
def test_a_disaggregated_answer_splits_in_groups_of_its_ratio(monkeypatch: pytest.MonkeyPatch, prefill: int,
                                                              decode: int, groups: int) -> None:
    """g = gcd(P, D) groups of P/g prefill + D/g decode replicas, each R/g requests/s: each replica keeps the load
    of the whole-rate answer (R/P per prefill, R/D per decode replica)."""
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: _answer(prefill, decode))
    sized = scenario_sizing.size_llm(SVC, POOL, 12.0)
    assert not isinstance(sized, str) and not sized.whole and not sized.whole_why
    assert sized.capacity == pytest.approx(12.0 / groups) and sized.unit_devices == (prefill + decode) * 4 // groups
    assert f"groups of {prefill // groups} prefill + {decode // groups} decode" in sized.detail


def test_a_ratio_without_a_smaller_group_stays_whole_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: _answer(5, 1))
    sized = scenario_sizing.size_llm(SVC, POOL, 12.0)
    assert not isinstance(sized, str) and sized.whole and (sized.capacity, sized.unit_devices) == (12.0, 24)
    assert "5 prefill + 1 decode replicas has no smaller group" in sized.whole_why
    assert "(one unit: 5:1 has no smaller group in that ratio)" in sized.detail


def _two_capped_pools() -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "split", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 12}],
        "pools": [{"name": "a", "device": "h100-sxm", "site": "s", "available": 8},
                  {"name": "b", "device": "h100-sxm", "site": "s", "available": 8}],
        "sites": [{"name": "s", "power": "10MW", "location": "ohio"}], "policy": {"objective": "tco"}})


def test_two_pools_each_below_the_deployment_share_its_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """2 prefill + 2 decode TP4 replicas (16 devices) on two pools of 8: before, one 16-device unit fit neither
    and the plan was infeasible; now each pool runs one group of 1 + 1 at half the rate."""
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: _answer(2, 2))
    plan = plan_scenario(_two_capped_pools())
    rows = {r.pool: r for r in plan.services}
    assert set(rows) == {"a", "b"} and [rows[p].devices for p in "ab"] == [8, 8]
    assert sum(r.served for r in rows.values()) == pytest.approx(12.0, rel=1e-9)


def test_a_whole_deployment_no_pool_holds_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: _answer(3, 1))
    with pytest.raises(InputError) as err:
        plan_scenario(_two_capped_pools())
    line = str(err.value)
    assert "\n" not in line and "it needs 16 devices on a or 16 devices on b at once: a disaggregated deployment of " \
        "3 prefill + 1 decode replicas has no smaller group in that ratio" in line


def test_the_infeasible_line_names_a_whole_options_reason_once() -> None:
    opts = [MixOption(0, p, 0, 1.0, 16, True, "no smaller group") for p in range(2)]
    m = SimpleNamespace(options=opts, pool_names=["a", "b"])
    assert _whole_jobs(m, 0, 0) == " (it needs 16 devices on a or 16 devices on b at once: no smaller group)"  # type: ignore[arg-type]
    plain = SimpleNamespace(options=[MixOption(0, 0, 0, 1.0, 64, True)], pool_names=["a"])
    assert _whole_jobs(plain, 0, 0) == " (it needs 64 devices on a at once)"  # type: ignore[arg-type]
    assert PhasedMix  # the type the helper reads (fields used: options, pool_names)


# 3. a run that does not fit is no capacity
def test_a_campus_whose_reference_plan_does_not_fit_counts_no_runs(tmp_path: Path) -> None:
    """An H100 what-if with 4 GiB: the Llama 3 plan needs more per device even with full recompute, so no
    Llama-3-405B-scale run is counted (before: 108.5 tokens/s per GPU counted as runs per year)."""
    path = tmp_path / "h100-4gib.yaml"
    path.write_text("extends: h100-sxm\nname: h100-4gib\nmemory_bytes: 4GiB\n")
    cap = training_capacity(str(path), 16384)
    assert cap.available is False and cap.runs_per_year is None and cap.tokens_per_s_per_gpu is None
    assert cap.reason is not None and "does not fit h100-4gib's memory on 16,384 GPUs even with full recompute" in \
        cap.reason and "of 4.0 GiB" in cap.reason
    fits = training_capacity("h100-sxm", 16384)
    assert fits.available and (fits.runs_per_year or 0.0) > 0


def test_a_campus_job_is_whole_replicas_and_fits_at_its_own_size(tmp_path: Path) -> None:
    """The Llama 3 plan is TP8 x PP16 = 128 GPUs a replica with a 2,048-sequence batch, so a job is 128 x 2^k
    GPUs: 96 run none (before: 0.026 runs a year at DP 0.75); 6,432 run 4,096 (before: 6,432, DP 50.25, a batch the
    training model refuses). A 24 GiB H100 fits the plan on 16,384 GPUs but not on one replica (ZeRO-3 over one DP
    rank shards nothing): none on 200 GPUs (before: counted at the 16,384-GPU rate)."""
    none = training_capacity("h100-sxm", 96)
    assert not none.available and none.reason is not None and "needs 128 GPUs for one replica" in none.reason
    mid = training_capacity("h100-sxm", 6432)
    assert mid.available and (mid.job_gpus, mid.concurrent_jobs) == (4096, 1)
    full = training_capacity("h100-sxm", 16384)  # every device counted at the rate, at its job's goodput
    assert mid.all_accelerator_runs_per_year / mid.goodput == pytest.approx(  # type: ignore[operator]
        full.all_accelerator_runs_per_year / full.goodput * 6432 / 16384)  # type: ignore[operator]
    # hN55: the runs a year are whole jobs': one job of 4,096 where 16,384 run one of 16,384
    assert mid.runs_per_year / mid.goodput == pytest.approx(  # type: ignore[operator]
        full.runs_per_year / full.goodput * 4096 / 16384)  # type: ignore[operator]
    path = tmp_path / "h100-24gib.yaml"
    path.write_text("extends: h100-sxm\nname: h100-24gib\nmemory_bytes: 24GiB\n")
    assert training_capacity(str(path), 16384).available
    small = training_capacity(str(path), 200)
    assert not small.available and small.reason is not None
    assert "does not fit h100-24gib's memory on 128 GPUs even with full recompute" in small.reason


# 4. the spares basis in the part's word
def _spared(device: str) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "spared", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}],
        "pools": [{"name": "p", "device": device, "site": "s", "price_usd_per_device": 10000}],
        "sites": [{"name": "s", "power": "10MW"}], "policy": {"spare_probability": 0.99}})


@pytest.mark.parametrize(("device", "word"), [("mtia-v2", "accelerator"), ("tpu-v5p", "TPU")])
def test_a_borrowed_failure_rate_is_applied_per_the_parts_device(device: str, word: str) -> None:
    spec = _spared(device)
    spares = pool_spares(spec, spec.pools[0], 64)
    assert spares is not None
    assert f"rate per GPU and its cause mix (Llama 3 Table 5) are applied per {word} (ASSUMPTION [U])" in \
        spares.rate_basis
    assert " are used " not in spares.rate_basis


# 5. a count's B is billion, on the CLI's and the web's one reader
@pytest.mark.parametrize(("text", "value"), [("1B", 1e9), ("15.6B", 15.6e9), ("1 B", 1e9), ("2G", 2e9)])
def test_a_count_reads_b_as_billion(text: str, value: float) -> None:
    assert parse_count(text) == pytest.approx(value, rel=1e-15)


def test_a_count_still_refuses_bytes_and_unknown_suffixes() -> None:
    for text in ("1GB", "1b", "1Bn"):
        with pytest.raises(InputError, match="expected a count such as 2048, 16M, 1B or 15.6T"):
            parse_count(text)
