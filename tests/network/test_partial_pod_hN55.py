"""hN55: `network SYSTEM --gpus N` for N that ends in a partial domain (pod, rack) of a tier below the top.

It was refused ("4,096 GPUs is not a multiple of the 3,072-GPU pod domain") while `collective` and `train` price 4,096
GPUs of meta-genai-roce-24k. It now builds the whole domains the GPUs occupy (2 pods: the fabric of 6,144 GPUs,
`costs.whole_domain_topology`) and says so in one line with both counts; the per-GPU figures are over the GPUs
attached. The collective and the training step of 4,096 GPUs price the same answer on the whole 24,576-GPU system
as on that 6,144-GPU fabric (the same question two ways). Every test here but the unchanged-whole-count one fails
on bca011f (the network command exits 2)."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.costs import describe_fabric
from infraplan.training.estimate import estimate_training


def _network(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["network", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *args: str) -> dict:
    code, out, err = _network(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_partial_pod_builds_as_whole_pods_and_says_both_counts(capsys):
    d = _json(capsys, "meta-genai-roce-24k", "--gpus", "4096")
    assert d["gpus"] == 4096 and d["fabric_gpus_count"] == 6144
    # 2 pods of 192 rack switches and 8 pod switches each, at the pod's 6.98:1 (384 down / 55 up)
    assert [t["switches"] for t in d["tiers"]] == [384, 16, 5]
    assert d["tiers"][1]["bandwidth_oversubscription"] == pytest.approx(384 / 55, rel=1e-9)
    assert d["capex_usd_per_gpu"] == pytest.approx(d["capex_usd"] / 4096)  # over the GPUs attached
    assert d["power_w_per_gpu"] == pytest.approx(d["power_w"] / 4096)
    note = d["notes"][0]
    assert "4,096 GPUs end in a partial 3,072-GPU pod domain" in note and "fabric of 6,144 GPUs" in note
    assert "2,048 GPU ports unused" in note
    # the fabric of whole pods is the one asked for 6,144 GPUs, switch for switch; hB66: the NIC links (copper DAC
    # under these ToRs, links.yaml $150 a 400G cable, 0 W) only for the 4,096 GPUs' servers, none to unused ports
    whole = _json(capsys, "meta-genai-roce-24k", "--gpus", "6144")
    assert (whole["power_w"], whole["switches_total"]) == (d["power_w"], d["switches_total"])
    assert d["capex_usd"] == pytest.approx(whole["capex_usd"] - 2048 * 150.0, rel=1e-12)


def test_whole_counts_are_built_as_before():
    """The README's Llama 3 fabric (1,536 ToRs, 64 pod and 11 cluster switches) and one pod: no rounding, no note."""
    for gpus, switches in ((None, [1536, 64, 11]), (3072, [192, 8])):
        r = describe_fabric(Cluster.resolve("meta-genai-roce-24k").system, gpus)
        assert [t.switches for t in r.tiers] == switches
        assert r.fabric_gpus_count == r.gpus and not any("partial" in n for n in r.notes)


def test_network_collective_and_train_price_4096_gpus_on_one_fabric(capsys):
    """The collective and the step of 4,096 GPUs on the whole system equal those on the fabric `network` builds
    for them (the system cut to `fabric_gpus_count`): one answer two ways."""
    full = Cluster.resolve("meta-genai-roce-24k")
    built = _json(capsys, "meta-genai-roce-24k", "--gpus", "4096")["fabric_gpus_count"]
    cut = Cluster(full.system.model_copy(update={"total_accelerators": built}), full.accelerator, full.generic)
    for op in ("all-reduce", "all-to-all"):
        a, b = (estimate_collective(op, c, 4096, 2**30) for c in (full, cut))
        assert a.bottleneck_tier == b.bottleneck_tier
        # the expected ECMP collisions (hE73; in the line and the priced time since hE74) count each built fabric's
        # own equal-cost pools: the cut system's all-to-all hashes over other pools (1.4 % apart at 4,096 GPUs, the
        # line 0.13 %)
        assert a.alpha_beta_time_s == pytest.approx(b.alpha_beta_time_s, rel=2e-3)
        assert a.time_s == pytest.approx(b.time_s, rel=0.02)
    steps = [estimate_training("llama3-70b", c, 4096, tp=8, pp=4, global_batch=1024, seq_len=8192).step_time_s
             for c in (full, cut)]
    assert steps[0] == steps[1]


def test_a_partial_node_and_too_many_gpus_are_still_one_line_exit_2(capsys):
    for gpus, said in (("4100", "not a multiple of the 8-GPU node"), ("24577", "has 24,576")):
        code, out, err = _network(capsys, "meta-genai-roce-24k", "--gpus", gpus)
        assert code == 2 and said in err and len(err.strip().splitlines()) == 1 and not out
    # 24,000 GPUs round up to the system's own 8 pods (the whole fabric), never beyond it
    assert _json(capsys, "meta-genai-roce-24k", "--gpus", "24000")["fabric_gpus_count"] == 24576
