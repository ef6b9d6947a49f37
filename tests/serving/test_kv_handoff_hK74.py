"""hK74: the link a disaggregated KV hand-off takes (per stack, per placement) and replicas placed so that the held
count and the priced pipeline hops describe one placement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.disaggregated import DisaggregatedDeployment, kv_transfer_s
from infraplan.serving.kv_handoff import handoff_transfer_s, inside_share, worker_domains
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.pipeline_hops import hop_crosses_domain
from infraplan.serving.replica_packing import aligned_gpus, held_gpus, packed_gpus, place_pools, replica_starts
from infraplan.serving.serving_sim import simulate_disaggregated
from infraplan.serving.workloads import fixed_requests

DGX = Cluster.resolve("dgx-h100-superpod")
MODEL = load_model("megatron-18.4b")
STACKS = {"vllm": "vllm-0.x", "sglang": "sglang-0.x", "trtllm": "trtllm-0.x"}


def _dep(engine: str, tp: int, replicas: int, pp: int = 1) -> Deployment:
    return Deployment(tp=tp, pp=pp, replicas=replicas, engine=engine, stack=STACKS[engine])


def _pair(engine: str, pre: tuple[int, int], dec: tuple[int, int], pp: int = 1) -> DisaggregatedDeployment:
    return DisaggregatedDeployment(_dep(engine, *pre, pp=pp), _dep(engine, *dec, pp=pp))


@pytest.mark.parametrize(("pre", "dec", "share"), [
    ((2, 2), (6, 2), 0.5),  # each node TP6 + TP2: P0 D0 | P1 D1 -> 2 of the 4 (P, D) pairs share a node
    ((2, 2), (6, 1), 0.5),  # TP6 + TP2 | TP2: P0 with D0, P1 alone
    ((4, 3), (4, 3), 1 / 9),  # one unit, pool order: P P | P D | D D
    ((8, 1), (8, 3), 0.0),  # whole-node workers (every Hopper disaggregated validation row): never together
    ((2, 2), (4, 1), 1.0),  # the pair fits one node
    ((1, 3), (5, 1), 1.0),  # 8 GPUs: TP5 + 3 x TP1 in one node
])
def test_the_share_of_hand_offs_inside_a_domain_by_hand(pre: tuple[int, int], dec: tuple[int, int],
                                                        share: float) -> None:
    assert inside_share(_pair("vllm", pre, dec), 8) == pytest.approx(share)


def test_a_pipelined_worker_shares_no_domain_unless_the_pair_fits_one() -> None:
    assert inside_share(_pair("vllm", (2, 2), (2, 2), pp=2), 8) == 0.0  # 16 GPUs: PP 2 workers are not placed
    assert inside_share(_pair("vllm", (2, 1), (2, 1), pp=2), 8) == 1.0  # 8 GPUs, one node
    pools = (_dep("vllm", 2, 4, pp=2), _dep("vllm", 2, 4, pp=2))
    assert worker_domains(pools, 8) == [[-1] * 4, [-1] * 4]


def test_the_placement_holds_what_held_gpus_counts_or_the_pools_sit_apart() -> None:
    """Every PP 1 pair on D = 8 and 12 with up to 4 workers a pool: where the worker placement holds what
    `held_gpus` counts it is returned; where it holds more, `held_gpus` packed the pools apart, and none is."""
    returned = apart = 0
    for domain in (8, 12):
        for a in range(1, domain + 1):
            for b in range(1, domain + 1):
                for na in range(1, 5):
                    for nb in range(1, 5):
                        pools = (Deployment(tp=a, replicas=na), Deployment(tp=b, replicas=nb))
                        placed, held = place_pools(pools, domain)
                        counted = held_gpus(pools, domain)
                        assert held >= counted
                        if held == counted:
                            returned += 1
                            assert worker_domains(pools, domain) == placed
                            for d in set(placed[0] + placed[1]):  # no domain over-full
                                assert sum(u * ws.count(d) for u, ws in zip((a, b), placed, strict=True)) <= domain
                        else:
                            apart += 1
                            assert worker_domains(pools, domain) is None
                            assert counted == sum(packed_gpus(p.gpus, p.tp, domain) for p in pools)
    assert returned > 0 and apart > 0


@pytest.mark.parametrize("engine", ["vllm", "trtllm", "sglang"])
def test_a_same_node_hand_off_takes_the_stacks_link(engine: str) -> None:
    prompt = np.array([1000.0, 4000.0])
    pair = _pair(engine, (4, 1), (4, 1))  # one node
    inside = kv_transfer_s(MODEL, DGX.fabric, pair.prefill, pair.decode, prompt, "bf16", True)
    across = kv_transfer_s(MODEL, DGX.fabric, pair.prefill, pair.decode, prompt, "bf16", False)
    assert np.all(inside < 0.5 * across)  # NVLink against one 400G NIC
    got = handoff_transfer_s(MODEL, DGX.fabric, pair, prompt)
    # UCX (TensorRT-LLM, vLLM's NIXL connector) takes cuda_ipc inside a node; SGLang's Mooncake RDMA the NICs
    np.testing.assert_allclose(got, across if engine == "sglang" else inside, rtol=1e-12)
    shared = _pair(engine, (2, 2), (6, 2))  # half the hand-offs inside
    inside = kv_transfer_s(MODEL, DGX.fabric, shared.prefill, shared.decode, prompt, "bf16", True)
    across = kv_transfer_s(MODEL, DGX.fabric, shared.prefill, shared.decode, prompt, "bf16", False)
    want = across if engine == "sglang" else 0.5 * (inside + across)
    np.testing.assert_allclose(handoff_transfer_s(MODEL, DGX.fabric, shared, prompt), want, rtol=1e-12)


def test_a_shared_node_run_reports_the_mixed_hand_off() -> None:
    pair = _pair("vllm", (2, 2), (6, 2))
    req = fixed_requests(40, 1000, 20, 4.0, 0)
    r = simulate_disaggregated(MODEL, DGX, pair, req)
    prompt = np.array([1000.0])
    inside = float(kv_transfer_s(MODEL, DGX.fabric, pair.prefill, pair.decode, prompt, "bf16", True)[0])
    across = float(kv_transfer_s(MODEL, DGX.fabric, pair.prefill, pair.decode, prompt, "bf16", False)[0])
    assert r["kv_transfer_s"]["mean"] == pytest.approx(0.5 * (inside + across), rel=1e-9)
    assert r["kv_transfer_s"]["mean"] < 0.6 * across  # before hK74 every hand-off here was `across`


@pytest.mark.parametrize(("pools", "unit", "domain", "starts", "held", "back_to_back"), [
    ([(2, 3)], 2, 8, [0, 4], 12, 12),  # TP2 PP3 x 2: one replica a node (back to back the second straddled)
    ([(3, 1)], 3, 8, [0, 1, 2], 11, 11),  # PP 1: groups as before
    ([(2, 3)], 3, 8, [0, 3], 24, 24),  # TP3 PP3 (k 2) x 2: the second starts mid-node, crossing once as the first
    ([(2, 3)], 16, 72, [0, 4], 96, 104),  # TP16 PP3 x 2 on NVL72: 48 + 48 held, back to back 72 + 32
    ([(1, 2), (2, 3)], 2, 8, [0, 4, 8], 16, 16),  # two pools of one unit, pool after pool
])
def test_replicas_are_placed_crossing_no_more_edges_than_they_need(pools: list[tuple[int, int]], unit: int,
                                                                   domain: int, starts: list[int], held: int,
                                                                   back_to_back: int) -> None:
    assert replica_starts(pools, unit, domain) == starts
    assert aligned_gpus(pools, unit, domain) == held
    assert packed_gpus(sum(n * pp for n, pp in pools) * unit, unit, domain) == back_to_back


def test_every_replica_crosses_as_many_edges_as_its_priced_hops() -> None:
    """Each replica's stage groups, at `replica_starts`, cross as many domain edges as `hop_crosses_domain` prices
    (a replica at a domain edge), no slot is taken twice, and the held count never exceeds back-to-back packing."""
    for domain in (4, 8, 12, 16, 72):
        for unit in range(1, domain + 1):
            per = domain // unit
            for pp in range(1, 8):
                for replicas in range(1, 6):
                    starts = replica_starts([(replicas, pp)], unit, domain)
                    slots = [s for start in starts for s in range(start, start + pp)]
                    assert len(set(slots)) == len(slots)
                    priced = int(np.count_nonzero(hop_crosses_domain(unit, pp, 1, domain)))
                    for start in starts:
                        assert len({s // per for s in range(start, start + pp)}) - 1 == priced
                    assert priced == math.ceil(pp / per) - 1
                    assert aligned_gpus([(replicas, pp)], unit, domain) <= packed_gpus(replicas * pp * unit, unit,
                                                                                       domain)


def test_held_gpus_counts_the_aligned_placement() -> None:
    dep = Deployment(tp=16, pp=3, replicas=2)
    assert held_gpus([dep], 72) == 96
    assert held_gpus([Deployment(tp=2, pp=3, replicas=2)], 8) == 12
