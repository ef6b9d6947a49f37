"""IB SHARP in-network all-reduce (NCCL CollNet): where it runs, what it costs, off by default, bad input."""

from __future__ import annotations

import json

import pytest

from infraplan.catalog import load_system
from infraplan.catalog.network_price_loader import load_switch_catalog
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.fabric import Fabric
from infraplan.network.sharp import sharp_parts, sharp_switches, sharp_time
from infraplan.network.topology import build_topology

GIB = 2.0**30


def test_switch_data_says_which_switches_reduce():
    models = load_switch_catalog().models
    assert models["nvidia-qm9700"].in_network_reduction == "sharp-v3"
    assert models["nvidia-qm8700"].in_network_reduction == "sharp-v2"
    assert models["minipack2"].in_network_reduction == "none"
    assert models["arista-7816r3"].in_network_reduction == "none"
    assert sharp_switches(build_topology(load_system("dgx-h100-superpod"), 1024)) is None
    assert "minipack2 does no in-network reduction" in sharp_switches(build_topology(load_system(
        "meta-genai-roce-24k"), 1024))


def _fabric(scale_up: float) -> Fabric:
    return Fabric(scale_up_domain=8, scale_up_bytes_per_s=scale_up, nic_bytes_per_s=50e9, tier_names=("leaf",),
                  tier_sizes=(4096,), tier_oversubscription=(1.0,), tier_round_trip_latency_s=(2e-6,))


def test_each_rank_sends_its_data_once_over_the_network():
    # NIC-bound (fast scale-up): the 8 members of a domain send S/8 each, once: t = S / (8 x NIC) + latency
    fabric = _fabric(10e12)
    network, _, latency = sharp_parts(fabric, GIB, 64, 1)
    assert network == pytest.approx(GIB / (8 * 50e9)) and latency == pytest.approx(4e-6 + 6e-6)
    t = sharp_time(fabric, GIB, 64, 1)
    assert network < t < network / 0.95  # the two-domain ring's message-size efficiency at 1 GiB
    ring = estimate_collective("all-reduce", _Cluster(fabric), 64, GIB, algorithm="ring").alpha_beta_time_s
    assert 1.8 < ring / t < 2 * 63 / 64 + 0.05  # the ring's 2 (n-1)/n S over the same NICs (its alpha-beta line)


def test_the_domain_reduce_scatter_and_all_gather_bound_it_where_scale_up_is_slow():
    fabric = _fabric(100e9)
    network, domain, _ = sharp_parts(fabric, GIB, 64, 1)
    assert domain == pytest.approx(2 * 7 / 8 * GIB / 100e9) and domain > network
    assert domain < sharp_time(fabric, GIB, 64, 1) < domain / 0.95
    assert sharp_time(fabric, GIB, 8, 1) == float("inf")  # inside one domain: NVLS or the ring there


class _Cluster:
    """A cluster of a synthetic fabric on the DGX H100 system (its placement only)."""

    def __init__(self, fabric: Fabric) -> None:
        self.system = load_system("dgx-h100-superpod")
        self.fabric = fabric


def test_off_by_default_and_auto_takes_it_when_enabled():
    cluster = Cluster.resolve("dgx-h100-superpod")
    plain = estimate_collective("all-reduce", cluster, 1024, GIB)
    enabled = estimate_collective("all-reduce", cluster, 1024, GIB, sharp=True)
    assert plain.algorithm != "sharp" and enabled.algorithm == "sharp"
    assert enabled.busbw_bytes_per_s > 1.3 * plain.busbw_bytes_per_s
    # DGX H100: NVLS reduce-scatter + all-gather in the node bounds it (9/8 S at 308.6 GB/s per rank)
    assert enabled.bottleneck_tier == "scale-up"


def test_cli_json(capsys):
    assert main(["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "256", "--bytes", "1GiB",
                 "--sharp", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["algorithm"] == "sharp" and data["busbw_bytes_per_s"] > 4e11 and data["time_s"] > 0


@pytest.mark.parametrize(("args", "said"), [
    (["--system", "meta-genai-roce-24k", "--gpus", "64", "--sharp"], "minipack2 does no in-network reduction"),
    (["--system", "dgx-h100-superpod", "--gpus", "64", "--algorithm", "sharp"], "needs --sharp"),
    (["--system", "dgx-h100-superpod", "--gpus", "8", "--sharp", "--algorithm", "sharp"], "inside one 8-GPU"),
])
def test_hostile_input_is_one_line_exit_2(capsys, args, said):
    assert main(["collective", "all-reduce", "--bytes", "1GiB", *args]) == 2
    err = capsys.readouterr().err
    assert said in " ".join(err.split()) and err.count("\n") == 1 and "Traceback" not in err


def test_sharp_is_for_all_reduce_only(capsys):
    assert main(["collective", "all-gather", "--system", "dgx-h100-superpod", "--gpus", "64", "--bytes", "1GiB",
                 "--sharp"]) == 2
    assert "--sharp prices all-reduce" in capsys.readouterr().err


@pytest.mark.parametrize("size", [2.0**20, 2.0**24, 2.0**26, 2.0**28, 2.0**30])
def test_auto_chooses_sharp_as_training_does_at_every_message_size(size: float) -> None:
    """`collective --sharp` auto picks SHARP where training's all-reduce table would (sized SHARP vs the sized
    ring / tree): it picked tree at 16-64 MiB on 256 H100 by comparing SHARP's sized time with the alpha-beta line
    (hQ2, session 36). Since the tree across domains is no longer bounded by the ring's NIC table (hT80, session
    50), training itself took the tree at 16-64 MiB there (0.147 / 0.415 ms against SHARP's 0.184 / 0.470 ms), and
    the command followed it. Since SHARP's message-size bound is the table's per-step latency on its own steps
    (hN, session 51, `sharp.SHARP_TABLE_PER_STEP`: 0.124 / 0.360 ms), SHARP wins at every size again, and the
    command still follows training."""
    from infraplan.network.collective_formulas import all_reduce_time

    cluster = Cluster.resolve("dgx-h100-superpod")
    r = estimate_collective("all-reduce", cluster, 256, size, sharp=True)
    training_picks_sharp = sharp_time(cluster.fabric, size, 256, 1) < float(
        all_reduce_time(cluster.fabric, size, 256, 1, sized=True))
    assert (r.algorithm == "sharp") == training_picks_sharp
    assert training_picks_sharp
