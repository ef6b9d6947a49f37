"""Spare trays for instances smaller than a scale-up domain (hL44, session 43; facility/outage.py `held_trays`,
planning/spares.py).

On GB200 NVL72 (18 trays of 4 in one NVLink domain) a TP8 replica spans 2 trays. With the policy's
`spare_trays_per_domain` k > 0 a failed tray's replica is formed again on a free tray of its domain, so each domain
runs floor((18 - k) / 2) replicas and holds h = 18 - 2 floor((18 - k) / 2) trays free, and the replicas out of
service are domains x E[(X - h)+], X ~ Poisson(M) the trays in repair in one domain (the domain formula of hF42 with
h). By hand at llama3-h100's out-of-service rate and the 3-day repair (M as in test_spares_by_domain_hF42.py):
16,384 GB200 in TP8 are 2,048 replicas; k = 1: 8 replicas per domain (16 trays, 1 tray over), h = 2, 256 domains,
mean 256 x (M - 2 + 2 e^-M + M e^-M) = 0.0198 replicas out, 1 spare replica at 0.99: 2 + 256 x 2 = 514 spare trays,
against 56 (28 spare replicas, mean 17.8 out) at k = 0, which keeps hF43's whole-instance spares.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import poisson

from infraplan.facility.outage import held_trays
from infraplan.planning.pool_money import pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.spares import DEFAULT_REPAIR_S, Instance, spare_nodes

M = 18 * 3.789 / 1000 / 8 / 24 * 4 * 321 / 419 * 72.0
LLM_TP8: dict[str, object] = {"name": "chat", "kind": "llm", "model": "llama3-405b", "workload": "chat", "rate": 20,
                              "dtypes": ["bf16"]}
TRAINING: dict[str, object] = {"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64,
                               "seq_len": 4096, "global_batch": 256}


def _tp8(spare_trays: int, devices: int = 16384, node: int = 4, domain: int = 72, accelerator: str = "gb200",
         instance: int = 8) -> object:
    return spare_nodes(devices, node, accelerator, 0.99, DEFAULT_REPAIR_S, domain_devices=domain,
                       spare_trays=spare_trays, instance=Instance(instance, f"TP{instance}"))


def _spec(*services: dict[str, object], serves: list[str] | None = None, **policy: object) -> ScenarioSpec:
    pool: dict[str, object] = {"name": "p", "device": "gb200", "site": "ohio"}
    if serves is not None:
        pool["serves"] = serves
    return ScenarioSpec.model_validate({
        "name": "trays", "phases": [{"name": "2026", "year": 2026}], "services": list(services), "pools": [pool],
        "sites": [{"name": "ohio", "power": "300MW", "location": "ohio"}],
        "policy": {"spare_probability": 0.99, **policy}})


def test_the_trays_held_free_by_hand() -> None:
    # 18 trays, TP8 on 4-GPU trays (2 each): k = 1 leaves 17, 8 replicas fill 16, so 2 are free; k = 2 the same
    assert [held_trays(18, 2, k) for k in (0, 1, 2, 3, 16, 17)] == [0, 2, 2, 4, 16, 16]
    assert held_trays(18, 4, 1) == 2 and held_trays(18, 5, 1) == 3  # 4 x 4 = 16; 3 x 5 = 15
    assert held_trays(18, 10, 12) == 8  # one 10-tray instance at least: at most 8 held, not the 12 asked
    assert held_trays(18, 18, 3) == 3  # work spanning the domain: the k asked (hF42)
    assert held_trays(18, 1, 3) == 0 and held_trays(1, 1, 3) == 0  # a one-tray instance; a one-server domain


def test_a_spare_tray_cuts_the_tp8_replicas_out_by_hand() -> None:
    none, one = _tp8(0), _tp8(1)
    assert (none.spare_trays_per_domain, none.spare_units, none.spare_nodes) == (0, 28, 56)  # hF43, unchanged
    excess = M - 2 + 2 * math.exp(-M) + M * math.exp(-M)  # E[(X - 2)+], X ~ Poisson(M)
    assert one.expected_nodes_down == pytest.approx(256 * excess * 2)  # replicas out x their 2 trays
    assert one.spare_units == int(poisson.ppf(0.99, 256 * excess)) == 1
    assert (one.spare_trays_per_domain, one.spare_nodes, one.spare_devices) == (2, 2 + 256 * 2, 514 * 4)
    assert one.expected_nodes_down < none.expected_nodes_down / 100  # 0.04 trays out against 35.7
    assert ("2 servers held free in each domain (the 1 asked and 1 no instance fills; spare_trays_per_domain, "
            "ASSUMPTION [U]): a failed server's instance is formed again on a free server of its domain") \
        in one.rate_basis


def test_no_spare_tray_is_the_instances_own_formula() -> None:
    """k = 0 is hF43's count bit for bit: whole TP8 replicas pooled over the pool, the node formula on units of 2
    trays, which is a pool whose scale-up domain is the replica's own 8 devices."""
    got, own = _tp8(0), _tp8(0, domain=8)
    assert (got.spare_nodes, got.spare_units, got.expected_nodes_down) == (own.spare_nodes, own.spare_units,
                                                                          own.expected_nodes_down)


def test_an_8_gpu_server_pool_is_unchanged_by_spare_trays() -> None:
    for instance in (1, 8, 64):
        base = _tp8(0, node=8, domain=8, accelerator="h100-sxm", instance=instance)
        kept = _tp8(1, node=8, domain=8, accelerator="h100-sxm", instance=instance)
        assert (kept.spare_nodes, kept.expected_nodes_down, kept.spare_trays_per_domain) == (
            base.spare_nodes, base.expected_nodes_down, 0)
        assert "spare_trays_per_domain 1 does not apply: the scale-up domain is one server" in kept.rate_basis


def test_more_spare_trays_than_fit_beside_an_instance_are_said() -> None:
    wide = _tp8(12, instance=40)  # 10 trays: one instance per domain, 8 free
    assert (wide.blast_trays, wide.spare_trays_per_domain) == (10, 8)
    assert "(at most 8 beside one instance, of the 12 asked;" in wide.rate_basis


def test_a_plan_pool_of_tp8_replicas_holds_the_free_trays() -> None:
    """chat needs 6 TP8 replicas (48 GB200, hF43): k = 0 spares one replica (8 devices, mean 6 x 2 x M / 18 trays
    out x 2); k = 1: one domain holding 2 free trays (8 devices), and the replicas out fall to E[(X - 2)+]."""
    base, kept = _spec(LLM_TP8), _spec(LLM_TP8, spare_trays_per_domain=1)
    sp0, sp1 = pool_spares(base, base.pools[0], 48), pool_spares(kept, kept.pools[0], 48)
    assert sp0 is not None and sp1 is not None
    assert (sp0.spare_nodes, sp1.spare_nodes, sp1.spare_units, sp1.spare_trays_per_domain) == (2, 2, 0, 2)
    assert sp0.expected_nodes_down == pytest.approx(6 * 2 * M / 18 * 2)
    assert sp1.expected_nodes_down == pytest.approx((M - 2 + 2 * math.exp(-M) + M * math.exp(-M)) * 2)
    (row,) = plan_scenario(kept).pools  # (the replicas the plan buys follow serve-plan; the spares are one domain's)
    assert row.spare_devices == 8 and (row.devices - row.spare_devices) % 8 == 0 and row.devices > 8
    assert row.expected_nodes_down == pytest.approx(sp1.expected_nodes_down)
    assert "LLM service chat's replica of 8 devices (TP x PP x attention DP), 2 servers: 2 servers held free" \
        in (row.spare_rate_basis or "")


def test_a_pool_serving_training_and_an_llm_takes_the_wider_radius_and_says_so() -> None:
    """A pool that may run the training job and the TP8 replicas sizes its spares on the job (its whole domains),
    whatever the MILP puts on it; `serves: [llm]` narrows it to the replica. The JSON's basis line says which."""
    both = plan_scenario(_spec(LLM_TP8, TRAINING, spare_trays_per_domain=1))
    basis = {r.pool: r.spare_rate_basis or "" for r in both.pools}["p"]
    assert "(the pool's widest instance spans it: training service run's job spans the pool)" in basis
    assert "1 spare server held in each domain" in basis
    narrowed = _spec(LLM_TP8, TRAINING, serves=["llm"], spare_trays_per_domain=1)
    sp = pool_spares(narrowed, narrowed.pools[0], 48)
    assert sp is not None and (sp.blast_trays, sp.spare_trays_per_domain) == (2, 2)
    assert "LLM service chat's replica of 8 devices" in sp.rate_basis
