"""A failed tray's blast radius by what the pool runs (hF43, session 42; facility/outage.py `blast_trays`,
planning/spares.py, planning/pool_money.py `pool_instance`).

On an NVL72 pool (18 trays of 4 in one 72-device NVLink domain) a failed tray takes out the work that spans it: a
training job spans its domains (whole domains, hF42), an LLM replica of TP8 two trays, a recsys engine its own tray.
By hand at llama3-h100's out-of-service rate and the 3-day repair (M = trays in repair in one 18-tray domain,
tests/planning/test_spares_by_domain_hF42.py): 16,384 devices in TP8 replicas are 2,048 units of 2 trays, mean
2,048 x 2 x M / 18 = 17.8 units out, 28 spare units at 0.99 = 56 trays (224 devices), where whole domains hold
28 x 72 = 2,016. An 8-GPU server is its own domain: what it runs changes nothing there.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from infraplan.facility.outage import blast_trays
from infraplan.planning.pool_money import pool_instance, pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, Instance, spare_nodes, spare_servers

M = 18 * 3.789 / 1000 / 8 / 24 * 4 * 321 / 419 * 72.0
Service = dict[str, object]
RECSYS: Service = {"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "100M", "latency_slo": "10ms"}
LLM_TP8: Service = {"name": "chat", "kind": "llm", "model": "llama3-405b", "workload": "chat", "rate": 20,
                    "dtypes": ["bf16"]}
TRAINING: Service = {"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64,
                     "seq_len": 4096, "global_batch": 256}


def _spec(*services: dict[str, object], device: str = "gb200", **policy: object) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "blast", "phases": [{"name": "2026", "year": 2026}], "services": list(services),
        "pools": [{"name": "p", "device": device, "site": "ohio"}],
        "sites": [{"name": "ohio", "power": "300MW", "location": "ohio"}],
        "policy": {"spare_probability": 0.99, **policy}})


def test_the_blast_radius_is_the_instances_whole_trays_capped_at_the_domain() -> None:
    assert [blast_trays(18, 4, n) for n in (1, 4, 5, 8, 20, 72, 144)] == [1, 1, 2, 2, 5, 18, 18]
    assert blast_trays(18, 4, None) == 18  # not known: the domain
    assert blast_trays(1, 8, 4) == blast_trays(1, 8, 64) == 1  # an 8-GPU server is its own domain


def test_tp8_replicas_on_nvl72_spare_whole_instances_by_hand() -> None:
    s = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, instance=Instance(8, "TP8"))
    assert (s.domain_trays, s.blast_trays, s.spare_units) == (18, 2, int(poisson.ppf(0.99, 2048 * 2 * M / 18)))
    assert (s.spare_units, s.spare_nodes, s.spare_devices) == (28, 56, 224)
    assert s.expected_nodes_down == pytest.approx(2048 * 2 * M / 18 * 2)
    assert "not its 72-device scale-up domain (18 servers): the pool's widest instance is TP8, 2 servers: " \
           "spares are whole instances" in s.rate_basis
    whole = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72)
    assert whole.spare_devices == 2016 and s.spare_devices < whole.spare_devices
    wide = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, instance=Instance(144, "EP"))
    assert (wide.blast_trays, wide.spare_nodes) == (18, whole.spare_nodes)  # spans the domain: whole domains
    assert "(the pool's widest instance spans it: EP)" in wide.rate_basis


def test_one_tray_instances_take_the_node_formula_and_no_spare_trays() -> None:
    one = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, instance=Instance(1, "recsys"))
    node = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=4)
    assert (one.blast_trays, one.spare_nodes, one.expected_nodes_down) == (1, node.spare_nodes,
                                                                           node.expected_nodes_down)
    # a one-tray instance needs no partner in its domain: a spare tray does not apply (hL44: a TP8 replica's does,
    # tests/planning/test_spare_trays_small_instances_hL44.py)
    kept = spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=1,
                       instance=Instance(1, "recsys"))
    assert (kept.spare_trays_per_domain, kept.spare_nodes) == (0, node.spare_nodes)
    assert "spare_trays_per_domain 1 does not apply" in kept.rate_basis


def test_an_8_gpu_server_keeps_its_spares_whatever_it_runs() -> None:
    node = spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S)
    for n in (1, 8, 64):
        assert spare_nodes(16384, 8, "h100-sxm", 0.99, DEFAULT_REPAIR_S, domain_devices=8,
                           instance=Instance(n, "x")) == node


@pytest.mark.parametrize("instance,kept", [(8, 0), (20, 0), (None, 1), (4, 0)])
def test_the_bounds_twin_counts_the_blast_radius(instance: int | None, kept: int) -> None:
    what = Instance(instance, "x")
    one = spare_nodes(4, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=kept, instance=what)
    counts = np.arange(0, 3000, 7)
    twin = [int(x) for x in spare_servers(counts, one, 0.99)]
    assert twin == [spare_nodes(int(n) * 4, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=kept,
                                instance=what).spare_nodes for n in counts]
    assert all(b >= a for a, b in zip(twin, twin[1:], strict=False))  # non-decreasing: the bound's premise


def test_a_recsys_pool_on_nvl72_loses_only_its_tray() -> None:
    spec = _spec(RECSYS)
    assert pool_instance(spec, spec.pools[0], 72).devices == 1
    row = plan_scenario(spec).pools[0]
    assert (row.devices, row.spare_devices) == (4, 0)  # was 4 + 72: one whole spare domain
    assert "the pool's widest instance is recsys service ranking's engine of one device, 1 server: the node " \
           "formula" in (row.spare_rate_basis or "")


def test_an_llm_pool_of_tp8_replicas_spares_whole_replicas() -> None:
    spec = _spec(LLM_TP8)
    plan = plan_scenario(spec)
    (svc,) = plan.services
    # a replica of 8 devices (48 as TP8 PP1 until hB47's probes took the router's share: 40 as 5 x TP4 PP2)
    assert svc.devices % 8 == 0 and ("TP8 PP1" in svc.detail or "TP4 PP2" in svc.detail)
    sp = pool_spares(spec, spec.pools[0], svc.devices)
    assert sp is not None and (sp.blast_trays, sp.spare_units, sp.spare_nodes) == (2, 1, 2)
    (row,) = plan.pools
    assert (row.devices, row.spare_devices) == (svc.devices + 8, 8)  # was 48 + 72
    assert "LLM service chat's replica of 8 devices (TP x PP x attention DP), 2 servers: spares are whole " \
           "instances" in (row.spare_rate_basis or "")


def test_the_widest_service_the_pool_can_run_sets_the_radius() -> None:
    mixed = _spec(RECSYS, LLM_TP8)
    assert pool_instance(mixed, mixed.pools[0], 72).devices == 8
    trained = _spec(RECSYS, TRAINING)
    got = pool_instance(trained, trained.pools[0], 72)
    assert got.devices == 72 and "training service run's job spans the pool" in got.what
    served = ScenarioSpec.model_validate({**trained.model_dump(), "pools": [
        {"name": "p", "device": "gb200", "site": "ohio", "serves": ["recsys"]}]})
    assert pool_instance(served, served.pools[0], 72).devices == 1  # the pool does not run the training job


def test_the_bound_stays_below_the_answer_with_instance_spares() -> None:
    plan = plan_scenario(_spec(LLM_TP8, RECSYS, objective="capex"), optimality_gap=True)
    assert plan.objective_lower_bound is not None and plan.objective_value is not None
    assert plan.objective_lower_bound <= plan.objective_value * (1 + 1e-6)


def test_a_disaggregated_replica_is_the_wider_of_its_prefill_and_decode_layouts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from infraplan.planning import scenario_sizing

    def layout(tp: int, adp: int) -> SimpleNamespace:
        return SimpleNamespace(tp=tp, pp=1, attention_dp=adp)

    dep = SimpleNamespace(replicas=5, tp=2, pp=1, attention_dp=4, dtype="fp8", kv_dtype="fp8", max_batch=64,
                          disaggregated=True,
                          prefill_replicas=4, decode_replicas=1, prefill=layout(4, 1), decode=layout(2, 4))
    answer = SimpleNamespace(feasible=True, gpus=24, deployment=dep, serve=None, slo=None, why=None,
                             meets_slo_full_run=True)  # a real answer has it (hG57 reads it)
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: answer)
    spec = _spec(LLM_TP8)
    sized = scenario_sizing.size_llm(spec.services[0], spec.pools[0], 1.0)
    assert not isinstance(sized, str) and sized.replica_devices == 8  # decode: TP2 x attention DP 4
