"""Serving placement leftovers of hT73 (hT, session 74).

1. Pipeline hops: a PP x TP replica's stage groups sit where `replica_packing` places them (one group of TP x
   attention DP inside one scale-up domain, k = D // group a domain, stages in order). Before, `pipeline_hops`
   numbered ranks consecutively, so TP3 PP4 on 8-GPU nodes put stage 2 on GPUs 6-8 across the node edge and priced
   two of its three hops over the NICs; packed, stages 0-1 share node 0 and 2-3 node 1: one hop crosses.
2. Disaggregated pools of two units share domains where that holds fewer (vLLM's disaggregated-prefill example,
   SGLang's PD guide and Dynamo put prefill and decode workers on one node): decode 2 x TP6 beside prefill 2 x TP2
   on 8-GPU nodes held 16 + 4 = 20, now 16 (each node TP6 + TP2).
3. fleet-mix buys the domains a TP not dividing the domain holds (hand counts).
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.serving.deployment import Deployment
from infraplan.serving.pipeline_hops import hop_crosses_domain, hops_note, pipeline_hops_time
from infraplan.serving.replica_packing import held_gpus, packed_gpus, place_pools

H100 = load_system("dgx-h100-superpod")
FABRIC = Fabric.from_system(H100, load_accelerator(H100.accelerator))
SIZE = np.array([0.0, 1.0e8])
SERVE = ["serve", "--system", "dgx-h100-superpod", "--stack", "vllm-0.x", "--input-len", "1000", "--output-len",
         "200", "--rate", "4"]


def _stage_domains(tp: int, pp: int, adp: int, domain: int) -> list[int]:
    """The domain of each stage of a replica starting at a domain edge, placing its stage groups one at a time the
    way `replica_packing` counts them: a group goes into the current domain if it fits, else into the next."""
    group, used, where = tp * adp, 0, []
    if group > domain:  # a stage spans domains: each starts a domain of its own
        return list(range(0, pp * 2, 2))
    index = 0
    for _ in range(pp):
        if used + group > domain:
            index, used = index + 1, 0
        used += group
        where.append(index)
    return where


def test_hops_cross_where_the_packed_stage_groups_change_domain_by_hand() -> None:
    assert hop_crosses_domain(3, 4, 1, 8).tolist() == [False, True, False]  # was [F, T, T]: stage 2 on GPUs 6-8
    assert hop_crosses_domain(4, 4, 1, 8).tolist() == [False, True, False]  # a dividing TP: as before
    assert hop_crosses_domain(6, 3, 1, 8).all()  # one TP6 group a node
    assert hop_crosses_domain(16, 5, 1, 72).tolist() == [False, False, False, True]  # 4 TP16 groups a rack
    assert hop_crosses_domain(2, 3, 2, 8).tolist() == [False, True]  # stage = TP2 x attention DP 2 = 4 GPUs
    assert hop_crosses_domain(2, 2, 3, 8).tolist() == [True]  # stage of 6: one a node, as replica_packing holds it
    assert hop_crosses_domain(16, 3, 1, 8).all() and not hop_crosses_domain(2, 4, 1, 8).any()


@pytest.mark.parametrize("domain", [4, 8, 12, 72])
def test_hop_rule_against_placing_each_stage(domain: int) -> None:
    for tp in range(1, domain + 3):
        for adp in (1, 2, 3):
            for pp in range(1, 12):
                where = _stage_domains(tp, pp, adp, domain)
                crossing = [a != b for a, b in zip(where, where[1:], strict=False)]
                assert hop_crosses_domain(tp, pp, adp, domain).tolist() == crossing, (tp, pp, adp)
                if tp * adp <= domain:  # the domains one replica's stages take are those replica_packing holds
                    held = packed_gpus(tp * adp * pp, tp * adp, domain)
                    assert -(-held // domain) == where[-1] + 1, (tp, pp, adp)


def test_tp3_pp4_pays_one_hop_across_not_two() -> None:
    t = pipeline_hops_time(FABRIC, SIZE, 3, 4)
    inside = send_recv_time(replace(FABRIC, placement_unit=6), SIZE, 3)  # a pair of 3 + 3 in one node
    across = SIZE / FABRIC.nic_bytes_per_s + FABRIC.tier_round_trip_latency_s[0]
    np.testing.assert_allclose(t, 2 * inside + across, rtol=1e-12)
    assert t[-1] < inside[-1] + 2 * across[-1] - 1e-3  # the consecutive numbering's price, 2.1 ms a 1e8 B hop more


def test_serve_says_which_hops_cross(capsys: pytest.CaptureFixture[str]) -> None:
    out = cli_json(capsys, ["serve", "gpt3-175b", *SERVE[1:], "--gpus", "12", "--tp", "3", "--pp", "4", "--dtype",
                            "fp8"])
    said = [w for w in out["warnings"] if w.startswith("PP 4 on 8-GPU")]
    assert said == ["PP 4 on 8-GPU scale-up domains (2 stage groups of 3 a domain, in stage order; a replica starts "
                    "at a domain edge): 1 of its 3 stage hops (stage 1 -> 2) crosses to the next domain over the "
                    "NICs, 2 over the scale-up links (serving.pipeline_hops)"], out["warnings"]
    assert out["deployment"]["gpus_held"] == 16  # 2 nodes: the same placement the hops are priced on
    assert hops_note(FABRIC, 2, 4, 1, "GPU") is None and hops_note(FABRIC, 8, 1, 1, "GPU") is None
    assert "each stage's 16 GPUs span domains" in (hops_note(FABRIC, 16, 2, 1, "GPU", "decode") or "")


def _placed_first_fit(large: tuple[int, int], small: tuple[int, int], domain: int) -> int:
    """Place the large groups, then the small, each in the first domain with room; a domain is held whole unless its
    room fits a further group of a unit it holds."""
    domains: list[tuple[int, set[int]]] = []
    for count, unit in (large, small):
        for _ in range(count):
            i = next((i for i, (used, _) in enumerate(domains) if used + unit <= domain), len(domains))
            if i == len(domains):
                domains.append((0, set()))
            domains[i] = (domains[i][0] + unit, domains[i][1] | {unit})
    return sum(used if any(domain - used >= u for u in units) else domain for used, units in domains)


@pytest.mark.parametrize("domain", [4, 8, 12, 16])
def test_shared_packing_against_placing_each_group(domain: int) -> None:
    for big in range(2, domain + 1):
        for unit in range(1, big):
            for n_l in range(0, 9):
                for n_s in range(0, 9):
                    pools = [Deployment(tp=big, replicas=n_l), Deployment(tp=unit, replicas=n_s)]  # hT75: one placement
                    assert place_pools(pools, domain)[1] == _placed_first_fit(
                        (n_l, big), (n_s, unit), domain), (big, unit, n_l, n_s)


def test_held_by_two_pools_by_hand() -> None:
    def pools(decode: tuple[int, int], prefill: tuple[int, int]) -> list[Deployment]:
        return [Deployment(tp=prefill[1], replicas=prefill[0]), Deployment(tp=decode[1], replicas=decode[0])]

    assert held_gpus(pools((2, 6), (2, 2)), 8) == 16  # TP6 + TP2 a node; apart 16 + 4
    assert held_gpus(pools((2, 6), (1, 2)), 8) == 16  # TP6 + TP2, then TP6 and 2 idle; apart 16 + 2
    assert held_gpus(pools((2, 6), (1, 4)), 8) == 20  # a TP4 fits no TP6 node's 2: apart, 16 + 4
    assert held_gpus(pools((3, 3), (2, 2)), 8) == 13  # TP3 TP3 TP2 | TP3 TP2 (room for a TP2): 8 + 5; apart 11 + 4
    assert held_gpus(pools((2, 4), (3, 2)), 8) == 14  # dividing units: their own GPUs, as before
    assert held_gpus(pools((2, 16), (1, 6)), 8) == 32 + 8  # TP16 spans nodes (its own 32); the TP6 holds a node


def test_serve_disaggregated_shares_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    shared = cli_json(capsys, ["serve", "megatron-18.4b", *SERVE[1:], "--gpus", "16", "--tp", "6", "--prefill-gpus",
                               "4", "--prefill-tp", "2"])
    assert shared["fits"] and "gpus_held" not in shared["deployment"]  # was 20
    assert shared["output_tokens_per_s_per_gpu"] * 16 == pytest.approx(shared["output_tokens_per_s"], rel=1e-12)
    one = cli_json(capsys, ["serve", "megatron-18.4b", *SERVE[1:], "--gpus", "14", "--tp", "6", "--prefill-gpus",
                            "2", "--prefill-tp", "2"])
    assert one["deployment"]["gpus_held"] == 16  # was 18: TP6 + TP2 | TP6 (2 idle)
    assert any("the prefill groups share domains with the decode groups" in w and "hold 16, 2 idle" in w
               for w in one["warnings"]), one["warnings"]
    apart = cli_json(capsys, ["serve", "megatron-18.4b", *SERVE[1:], "--gpus", "16", "--tp", "6", "--prefill-gpus",
                              "4", "--prefill-tp", "4"])
    assert apart["deployment"]["gpus_held"] == 20
    assert not any("share domains" in w for w in apart["warnings"])


def _answer(replicas: int, tp: int, held: int, accelerator: str) -> SimpleNamespace:
    dep = SimpleNamespace(replicas=replicas, tp=tp, pp=1, ep=1, attention_dp=1, dtype="fp8", kv_dtype="fp8",
                          max_batch=64, disaggregated=False, prefill_replicas=None, decode_replicas=None,
                          prefill=None, decode=None, gpus=replicas * tp, gpus_held=held)
    serve = SimpleNamespace(ttft_s=SimpleNamespace(p99=0.1), tpot_s=SimpleNamespace(p99=0.01), joules_per_token=1.0)
    return SimpleNamespace(feasible=True, gpus=held, deployment=dep, serve=serve, meets_slo_full_run=True,
                           accelerator=accelerator, stack="vllm-0.x", why=None)


@pytest.mark.parametrize(("device", "replicas", "tp", "servers"), [
    ("h100-sxm", 2, 6, 2),  # one TP6 a node: 2 nodes
    ("h100-sxm", 3, 3, 2),  # TP3 TP3 | TP3: 2 nodes (11 held, one unit)
    ("h100-sxm", 4, 3, 2),  # TP3 TP3 | TP3 TP3
    ("gb200-nvl72", 5, 16, 22),  # 4 TP16 a rack (18 trays, 8 GPUs idle) | 1 TP16 (4 trays)
])
def test_fleet_mix_buys_the_domains_the_replicas_hold(monkeypatch: pytest.MonkeyPatch, device: str, replicas: int,
                                                      tp: int, servers: int) -> None:
    domain = 72 if device == "gb200-nvl72" else 8
    held = packed_gpus(replicas * tp, tp, domain)
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", lambda *_a: _answer(replicas, tp, held, device))
    spec: Any = {"services": [{"name": "chat", "kind": "llm", "model": "gpt3-175b", "workload": "chat", "rate": 10,
                               "stack": "vllm-0.x"}], "pools": [{"name": "p", "device": device}]}
    r = plan_fleet(FleetSpec.model_validate(spec))
    (pool,) = r.pools
    assert (pool.servers, pool.used) == (servers, held)
    assert [a["devices"] for a in r.assignment] == [held]
