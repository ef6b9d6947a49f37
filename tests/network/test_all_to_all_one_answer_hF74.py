"""hF74: the flow and analytical all-to-all give one answer, and adaptive routing's leftovers.

1. The analytical all-to-all takes the domain holding the fewest members (`fabric.PARTIAL_DOMAIN_NIC`): 512 GPUs
   packed on NVL72 racks (7 x 72 + 8) priced the full racks' NIC load, 1/1.146 of the flow model's time; MTIA v1's
   64 spread (4 GPUs a host sharing one NIC) priced 12 sharers, 3.05x the flow model's time.
2. The flow answer states its time at the message-size efficiency the analytical answer reads (`sized_time_s`,
   `network.flow_sized`): the fluid flow all-to-all was 0.72-0.93x `--sim analytical` on the InfiniBand systems at
   64 MiB, all of it the SimAI all-to-all table's efficiency; sized, 0.98-1.02x.
3. The flow answer's `analytical_answer_time_s` is `--sim analytical`'s answer on ECMP fabrics too (it named the
   priced time where ECMP's hashed line is above it: mi355x 512 send-recv 1.43 ms against 4.80 ms).
4. Adaptive routing with a failed link: the link's capacity leaves its pool and the rest carry its flows; the seed,
   which then draws nothing, is not named where no link failed.
5. An `extends:` that changes an InfiniBand preset's `kind` without stating `load_balancing` takes the new kind's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from flow_toy_fabric import TINY

from infraplan.catalog import load_system
from infraplan.cli.commands._output import console
from infraplan.cli.commands.collective import render_collective
from infraplan.cluster import Cluster
from infraplan.network import fabric as _fabric
from infraplan.network.adaptive_routing import pooled_links
from infraplan.network.collective_formulas import all_to_all_time
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.routing import build_links, fail_links
from infraplan.network.topology import build_topology

MIB64 = 64 * 2**20
GIB = 2.0**30


def _both(system: str, op: str, gpus: int, placement: str = "packed", size: float = MIB64):  # type: ignore[no-untyped-def]
    cluster = Cluster.resolve(system)
    return (estimate_collective(op, cluster, gpus, size, placement),
            estimate_collective(op, cluster, gpus, size, placement, sim="flow"))


@pytest.mark.parametrize(("gpus", "before"), [(128, 1.269), (256, 1.164), (512, 1.146)])
def test_a_partial_rack_binds_the_analytical_all_to_all(gpus: int, before: float) -> None:
    analytical, flow = _both("gb200-nvl72-superpod", "all-to-all", gpus)
    assert flow.time_s / flow.analytical_time_s == pytest.approx(1.0, abs=0.02)  # was `before`
    assert flow.time_s / flow.analytical_time_s < before - 0.1
    assert flow.difference_reason is None


def _forget() -> None:
    _fabric._LINK_CACHE.clear()
    _fabric.group_link_one.cache_clear()


@pytest.fixture()
def switch(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Set `PARTIAL_DOMAIN_NIC`, forgetting the group links kept under the other value (and again after the test)."""
    def set_to(on: bool) -> None:
        monkeypatch.setattr(_fabric, "PARTIAL_DOMAIN_NIC", on)
        _forget()
    yield set_to
    monkeypatch.undo()
    _forget()


def test_the_partial_rack_moves_the_line_by_its_nic_load(switch) -> None:  # type: ignore[no-untyped-def]
    """512 packed on 72-GPU racks: the 8 GPUs of the last rack send 504 / 511 of their bytes on their NICs, a full
    rack's 440 / 511; whole racks (504 GPUs) and whole 8-GPU nodes answer to the bit as before."""
    gb200 = Cluster.resolve("gb200-nvl72-superpod").fabric
    h100 = Cluster.resolve("dgx-h100-superpod").fabric
    shapes = ((gb200, 512, 1), (gb200, 504, 1), (h100, 64, 1), (h100, 512, 1), (h100, 256, 4))
    answers = {}
    for on in (True, False):
        switch(on)
        answers[on] = [float(all_to_all_time(f, GIB, n, s, sized=sized)) for f, n, s in shapes for sized in (0, 1)]
    assert answers[True][0] / answers[False][0] == pytest.approx(504 / 440, rel=2e-3)
    assert answers[True][2:] == answers[False][2:]  # whole domains: bit for bit, the line and the priced time


def test_gpus_sharing_a_nic_take_it_all_when_alone_on_their_host() -> None:
    """MTIA v1: 12 accelerators on one NIC; 64 spread (stride 3) puts 4 on each host, which share the whole NIC."""
    _, flow = _both("mtia-v1-rack", "all-to-all", 64, "spread")
    assert flow.time_s / flow.analytical_time_s == pytest.approx(1.0, abs=0.02)  # was 0.328


@pytest.mark.parametrize(("system", "gpus"), [
    ("dgx-a100-superpod", 1024), ("dgx-b200", 256), ("dgx-b300", 512), ("dgx-h100-superpod", 512),
    ("gb200-nvl72-superpod", 512), ("gb200-nvl72", 1024), ("gb300-nvl72-superpod", 256), ("hgx-h200", 128),
    ("meta-genai-ib-24k", 2048), ("meta-rsc", 128), ("mi300x-cluster", 1024),
    ("meta-genai-roce-24k", 512), ("gaudi2-cluster", 512), ("mi355x-cluster", 512), ("mtia-v1-rack", 64)])
@pytest.mark.parametrize("placement", ["packed", "spread"])
def test_the_sized_flow_all_to_all_is_the_analytical_answer_within_3_percent(system: str, gpus: int,
                                                                             placement: str) -> None:
    analytical, flow = _both(system, "all-to-all", gpus, placement)
    assert flow.analytical_answer_time_s == analytical.time_s
    assert flow.sized_time_s is not None and flow.sized_time_s >= flow.time_s
    assert flow.sized_time_s / analytical.time_s == pytest.approx(1.0, abs=0.03)
    assert "`sized_time_s`" in flow.time_basis and f"{flow.sized_time_s / analytical.time_s:.3f}x" in flow.time_basis


def test_the_gap_was_the_tables_efficiency() -> None:
    """dgx-h100-superpod, 512 packed, 64 MiB: the SimAI all-to-all table's 0.66 at 16 nodes over its 0.90 at 16 GiB
    is the whole gap between the fluid flow answer and the analytical one."""
    analytical, flow = _both("dgx-h100-superpod", "all-to-all", 512)
    assert analytical.priced_efficiency == pytest.approx(0.66 / 0.90)
    assert "at 64 nodes, its last measured column's (16 nodes)" in analytical.priced_basis  # (said 64 nodes alone)
    assert flow.time_s / analytical.time_s == pytest.approx(0.777, abs=0.005)
    # its transfer over the efficiency, the latency inside the table (as `sized_time` bounds the line)
    assert flow.time_s / analytical.priced_efficiency * 0.95 < flow.sized_time_s < flow.time_s / 0.66 * 0.90
    assert flow.sized_time_s / analytical.time_s == pytest.approx(1.0, abs=0.015)


def test_an_uplink_bound_flow_keeps_its_collisions_not_their_product() -> None:
    """mi355x 512 packed, 1 flow a pair hashed: the flow's slowest transfer is on a leaf uplink (1.27x the line), not
    a NIC; the measured efficiency bounds its NICs (the analytical answer's slower of the two, hE73)."""
    analytical, flow = _both("mi355x-cluster", "all-to-all", 512)
    assert flow.bottleneck_tier == "leaf" and flow.time_s > 1.2 * flow.analytical_time_s
    assert flow.sized_time_s == pytest.approx(analytical.time_s, rel=0.01)


def test_the_flow_answer_names_the_ecmp_answer() -> None:
    analytical, flow = _both("mi355x-cluster", "send-recv", 512)
    # ECMP's hashed line (4.80 ms), > 3x the even spread's 1.43 ms; since hE74 the priced time train takes is it too
    assert analytical.time_s > 3 * 1.43e-3 and analytical.priced_time_s == pytest.approx(analytical.time_s)
    assert flow.analytical_answer_time_s == analytical.time_s
    assert flow.sized_time_s is None  # a pipeline hop: no message-size efficiency


def _tiny_ib(tmp_path: Path) -> str:
    path = tmp_path / "tiny-ib.yaml"
    path.write_text(TINY.replace("kind: roce", "kind: infiniband"))
    return str(path)


def test_a_failed_link_leaves_its_pool_and_the_rest_carry_it(tmp_path: Path) -> None:
    """Two 16-GPU leaves, 2 x 50 GB/s uplinks each, adaptive: send-recv i <-> i + 16 moves 16 GiB each way through
    a leaf's pool, 100 GB/s: 172 ms; one of a leaf's two links down leaves that pool 50 GB/s: 344 ms, the healthy
    link carrying every flow; the pool's capacity is the healthy link's."""
    ref = _tiny_ib(tmp_path)
    cluster = Cluster.resolve(ref)
    whole = estimate_collective("send-recv", cluster, 32, GIB, sim="flow")
    failed = estimate_collective("send-recv", cluster, 32, GIB, sim="flow", failed_links="leaf:1")
    assert whole.time_s == pytest.approx(16 * GIB / 100e9, rel=1e-4)
    assert failed.time_s == pytest.approx(16 * GIB / 50e9, rel=1e-4)
    topo = build_topology(load_system(ref))
    links = build_links(topo, 1e12, 1.0)
    broken, count, total = fail_links(topo, links, "leaf", 1.0, seed=0)
    assert (count, total) == (1, 4)
    up = np.arange(links.bundle_up[1], links.bundle_down[1])
    pools, healthy = pooled_links(topo, links).capacity[up], pooled_links(topo, broken).capacity[up]
    assert sorted(healthy / pools) == pytest.approx([0.5, 1.0])  # one leaf's pool lost one of its two links


def test_the_seed_is_named_only_where_it_draws(tmp_path: Path) -> None:
    cluster = Cluster.resolve(_tiny_ib(tmp_path))
    plain = estimate_collective("send-recv", cluster, 32, GIB, sim="flow", seed=3)
    failed = estimate_collective("send-recv", cluster, 32, GIB, sim="flow", failed_links="leaf:1", seed=3)
    hashed = estimate_collective("send-recv", Cluster.resolve(TINY_FILE(tmp_path)), 32, GIB, sim="flow", seed=3)
    assert (plain.seed, failed.seed, hashed.seed) == (None, 3, 3)
    with console.capture() as out:
        render_collective(plain)
    text = " ".join(out.get().split())
    assert "nothing drawn (adaptive routing, no failed link)" in text and "seed" not in text.split("flows (")[1]


def TINY_FILE(folder: Path) -> str:  # noqa: N802  (the RoCE fixture as a file)
    path = folder / "tiny.yaml"
    path.write_text(TINY)
    return str(path)


def test_extends_to_another_kind_takes_its_balancing(tmp_path: Path) -> None:
    def system(body: str):  # type: ignore[no-untyped-def]
        path = tmp_path / f"s{len(list(tmp_path.iterdir()))}.yaml"
        path.write_text(f"name: what-if\nextends: dgx-h100-superpod\n{body}")
        return load_system(str(path)).network

    assert system("network:\n  kind: roce\n").balancing == "ecmp"  # adaptive, from the preset, before
    assert system("network:\n  kind: roce\n").load_balancing_source == ""
    kept = system("network:\n  kind: roce\n  load_balancing: adaptive\n  load_balancing_source: spraying NICs\n")
    assert (kept.balancing, kept.load_balancing_source) == ("adaptive", "spraying NICs")
    assert system("network:\n  ecmp_flows_per_pair: 4\n").balancing == "adaptive"  # same kind: the preset's
    assert system("network:\n  kind: infiniband\n").load_balancing_source.startswith("Quantum-2")
