"""Serving's pipeline hops priced where their two stages sit (`serving.pipeline_hops`): a hop whose pair crosses a
scale-up domain edge at the scale-out rate, the others inside, summed over the PP - 1 hops of an iteration."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.network.fabric import SCALE_UP_LATENCY_S
from infraplan.serving import llm_iteration
from infraplan.serving.kv_cache import ACT_BYTES
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.pipeline_hops import hop_crosses_domain, pipeline_hops_time

H100 = load_system("dgx-h100-superpod")  # 8-GPU NVLink domains, 47 GB/s per GPU scale-out, 2 us leaf round trip
ACC = load_accelerator(H100.accelerator)
FABRIC = Fabric.from_system(H100, ACC)
WIDER = Fabric.from_system(H100, ACC, scale_out_factor=2.0)
SIZE = np.array([0.0, 4096.0 * 8192 * 2, 1.0e8])  # bytes per rank per hop


def test_hops_that_cross_a_domain_edge_by_hand():
    # TP4 PP4 on 8-GPU domains: stages [0,4) [4,8) [8,12) [12,16); only stage 1 -> 2 spans the edge at 8
    assert hop_crosses_domain(4, 4, 1, 8).tolist() == [False, True, False]
    # TP3 PP4: two TP3 groups a node (replica_packing, hT74), stages 0-1 on node 0 and 2-3 on node 1: only 1 -> 2
    # crosses (numbered consecutively, stage 2 on GPUs 6-8 straddled the edge and 2 -> 3 crossed too)
    assert hop_crosses_domain(3, 4, 1, 8).tolist() == [False, True, False]
    # TP8 PP16 on a 72-GPU domain: the pair block [64, 80) alone holds the edge at 72 (144 is past the 128 ranks)
    assert np.flatnonzero(hop_crosses_domain(8, 16, 1, 72)).tolist() == [8]
    # every hop crosses when a stage fills a domain (TP8 on 8-GPU nodes), none in a replica of one domain
    assert hop_crosses_domain(8, 3, 1, 8).all() and not hop_crosses_domain(2, 4, 1, 8).any()
    # a stage group is TP x attention DP (hT74, replica_packing's unit): TP2 x 2 ranks = 4 GPUs, two a node
    assert hop_crosses_domain(2, 3, 2, 8).tolist() == [False, True]
    assert hop_crosses_domain(2, 2, 3, 8).tolist() == [True]  # stages of 6: one a node


def test_tp4_pp4_pays_one_hop_at_the_scale_out_rate():
    t = pipeline_hops_time(FABRIC, SIZE, 4, 4)
    inside = SIZE / FABRIC.scale_up_bytes_per_s + SCALE_UP_LATENCY_S  # NVLink pair: 369 GB/s, 3 us
    across = SIZE / FABRIC.nic_bytes_per_s + FABRIC.tier_round_trip_latency_s[0]  # one NIC, leaf round trip
    np.testing.assert_allclose(t, 2 * inside + across, rtol=1e-12)
    # the stride-TP pricing took all three inside; the crossing hop is the 1e8 B one's 2.1 ms, not 0.27 ms
    assert t[-1] > 3 * inside[-1] + 1.5e-3


def test_doubling_scale_out_lowers_the_crossing_hop_and_leaves_a_one_domain_replica():
    t, wide = pipeline_hops_time(FABRIC, SIZE, 4, 4), pipeline_hops_time(WIDER, SIZE, 4, 4)
    np.testing.assert_allclose(t - wide, SIZE / (2 * FABRIC.nic_bytes_per_s), rtol=1e-9, atol=1e-15)
    assert np.array_equal(pipeline_hops_time(FABRIC, SIZE, 2, 4), pipeline_hops_time(WIDER, SIZE, 2, 4))


def test_iteration_body_moves_by_the_crossing_hop_only():
    shape = load_model("llama3-8b")
    dep = Deployment(tp=4, pp=4, token_budget=4096, max_batch=64)
    base, wide = (build_iteration_cost(shape, ACC, f, dep) for f in (FABRIC, WIDER))
    m = np.arange(len(base.body_s), dtype=np.float64)
    hop = m * shape.hidden_size * ACT_BYTES  # M x h bf16 activations per rank
    saved = np.where(m > 0, hop / FABRIC.nic_bytes_per_s - hop / WIDER.nic_bytes_per_s, 0.0)
    np.testing.assert_allclose(base.body_s - wide.body_s, saved, rtol=1e-9, atol=1e-15)
    assert (base.body_s[1:] > wide.body_s[1:]).all()


@pytest.mark.parametrize("tp,pp", [(2, 4), (4, 2), (1, 8), (2, 2)])
def test_a_replica_inside_one_domain_is_byte_identical_to_stride_tp_pricing(tp, pp, monkeypatch):
    assert np.array_equal(pipeline_hops_time(FABRIC, SIZE, tp, pp), (pp - 1) * send_recv_time(FABRIC, SIZE, tp))
    shape, dep = load_model("llama3-8b"), Deployment(tp=tp, pp=pp, token_budget=2048, max_batch=32)
    new = build_iteration_cost(shape, ACC, FABRIC, dep)
    monkeypatch.setattr(llm_iteration, "pipeline_hops_time",  # the pricing before: every hop at stride TP
                        lambda fabric, size, s, p, adp=1: (p - 1) * send_recv_time(fabric, size, s))
    old = build_iteration_cost(shape, ACC, FABRIC, dep)
    assert np.array_equal(new.body_s, old.body_s) and np.array_equal(new.head_s, old.head_s)


def test_placed_fabric_unit_sets_the_edges_and_pp1_has_no_hops():
    # a placed job whose 4 consecutive ranks share a domain: TP4 PP2's one hop crosses at 4
    placed = replace(FABRIC, placement_unit=4)
    assert pipeline_hops_time(placed, SIZE, 4, 2)[-1] == pytest.approx(
        SIZE[-1] / FABRIC.nic_bytes_per_s + FABRIC.tier_round_trip_latency_s[0])
    assert pipeline_hops_time(FABRIC, SIZE, 4, 2)[-1] == pytest.approx(
        SIZE[-1] / FABRIC.scale_up_bytes_per_s + SCALE_UP_LATENCY_S)
    assert not pipeline_hops_time(FABRIC, SIZE, 8, 1).any()
