"""Failed links in the flow simulator: `collective ... --sim flow --failed-links TIER:AMOUNT` (hN2, session 34).

A failed cable removes its capacity both ways; ECMP spreads flows over the healthy links of each bundle (a switch
above is picked in proportion to its healthy links), so a flow never crosses a dead bundle.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from flow_toy_fabric import TINY, TOY

from infraplan.catalog import load_system
from infraplan.cli import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective, place
from infraplan.network.flow_schedules import flow_phases
from infraplan.network.routing import build_links, fail_links, parse_failed_links, route
from infraplan.network.topology import build_topology

GIB = 2.0**30



@pytest.fixture()
def tiny(tmp_path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return str(path)


@pytest.fixture()
def toy(tmp_path) -> str:
    path = tmp_path / "toy.yaml"
    path.write_text(TOY)
    return str(path)


def test_one_failed_uplink_of_a_leaf_halves_its_bandwidth_by_hand(tiny: str) -> None:
    # send-recv i <-> i + 16: each leaf moves 16 x 1 GiB over its 2 x 50 GB/s uplinks: 16 GiB / 100 GB/s = 172 ms;
    # one of a leaf's two cables down: 16 GiB / 50 GB/s = 344 ms (both directions share the cable's loss)
    cluster = Cluster.resolve(tiny)
    whole = estimate_collective("send-recv", cluster, 32, GIB, sim="flow")
    failed = estimate_collective("send-recv", cluster, 32, GIB, sim="flow", failed_links="leaf:1")
    assert whole.time_s == pytest.approx(16 * GIB / 100e9, rel=1e-4)
    assert failed.time_s == pytest.approx(16 * GIB / 50e9, rel=1e-4)
    assert failed.analytical_time_s == whole.analytical_time_s  # the analytical model has every link
    assert any("1 of the 4 leaf uplinks failed (chosen with seed 0)" in a for a in failed.assumptions)


def test_a_bundle_losing_every_link_is_routed_around_and_the_count_is_exact(toy: str) -> None:
    spec = load_system(toy)
    topo = build_topology(spec)
    links = build_links(topo, 1e12, 0.9)
    failed, count, total = fail_links(topo, links, "rack", 0.5, seed=3)
    assert total == 512  # 32 racks x 16 uplinks, 4 to each of their pod's 4 switches
    assert count == 256  # half of them
    assert failed.healthy is not None and failed.links_per_bundle[1] == 4
    lost = links.capacity.sum() - failed.capacity.sum()
    assert lost == pytest.approx(2 * 256 * 50e9 * 0.9)  # each cable both ways, at the protocol efficiency
    racks_up = np.arange(failed.bundle_up[1], failed.bundle_down[1])
    assert failed.healthy[racks_up].sum() == 512 - 256
    dead = np.flatnonzero(failed.healthy == 0)
    assert dead.size > 0  # some bundles lost all 4 links
    members, _ = place(512, 512, "packed")
    step, _ = flow_phases("all-to-all", "direct", members, 8, GIB)[0]
    paths, _, _ = route(topo, failed, step.src, step.dst, np.full(step.src.size, 4), np.random.default_rng(0))
    assert not np.isin(paths, dead).any()
    # ECMP over healthy links: a bundle with more links left draws more flows (at the turn the pick must also keep
    # the destination's bundle, so the share is not exactly in proportion)
    load = np.bincount(paths[paths >= 0], minlength=failed.capacity.size)[racks_up].astype(float)
    left = failed.healthy[racks_up]
    assert (load[left == 0] == 0).all() and (load[left > 0] > 0).all()
    assert load[left == 4].mean() > 2.0 * load[left == 1].mean()


def test_losing_pod_uplinks_slows_an_all_to_all_bound_by_them(toy: str) -> None:
    cluster = Cluster.resolve(toy)
    whole = estimate_collective("all-to-all", cluster, 512, GIB, sim="flow")
    failed = estimate_collective("all-to-all", cluster, 512, GIB, sim="flow", failed_links="pod:25%")
    assert whole.bottleneck_tier == "pod"
    # 128 pod uplinks, 32 failed: at least 4/3 x as long; the survivors also share unevenly (hashing)
    assert failed.time_s > 1.3 * whole.time_s


@pytest.mark.parametrize(("flag", "message"), [
    ("pod", "must be TIER:COUNT or TIER:FRACTION"), ("pod:-1", "must be TIER:COUNT"), ("pod:x", "must be TIER"),
    ("spine:1", "no tier 'spine'"), ("cluster:1", "top tier"), ("pod:1.5", "must be whole"),
    ("pod:129", "129 of the 128 pod uplinks")])
def test_bad_failed_links_are_one_line_exit_2(toy: str, capsys: pytest.CaptureFixture[str], flag: str,
                                              message: str) -> None:
    code = main(["collective", "all-reduce", "--system", toy, "--gpus", "64", "--bytes", "1MiB", "--sim", "flow",
                 "--failed-links", flag])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_failed_links_need_the_flow_model(toy: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collective", "all-reduce", "--system", toy, "--gpus", "64", "--bytes", "1MiB",
                 "--failed-links", "pod:1"]) == 2
    assert "add --sim flow" in capsys.readouterr().err
    with pytest.raises(InputError):
        parse_failed_links(":3")


@pytest.mark.parametrize("amount", ["nan", "inf", "-inf", "inf%", "-1"])
def test_non_finite_or_negative_failed_links_are_one_line(amount: str) -> None:
    with pytest.raises(InputError, match="--failed-links must be TIER:COUNT or TIER:FRACTION"):
        parse_failed_links(f"pod:{amount}")


def test_the_cli_reports_the_failure_in_its_assumptions(tiny: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["collective", "send-recv", "--system", tiny, "--gpus", "32", "--bytes", "1GiB", "--sim", "flow",
                 "--failed-links", "leaf:25%", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["time_s"] == pytest.approx(16 * GIB / 50e9, rel=1e-4)
    assert any("uplinks failed" in a for a in data["assumptions"])


# `--failed-links TIER:P%` is always a fraction (hQ2, session 36): 100% used to read as 1.0 and then as a count of
# one link, so `leaf:100%` failed one uplink and answered as if the fabric were nearly whole.


def test_a_percentage_is_a_fraction_and_a_plain_one_a_count() -> None:
    assert parse_failed_links("leaf:100%") == ("leaf", 1.0, True)
    assert parse_failed_links("leaf:1") == ("leaf", 1.0, False)
    assert parse_failed_links("leaf:0.5") == ("leaf", 0.5, True)
    with pytest.raises(InputError, match="at most 100%"):
        parse_failed_links("leaf:101%")


def test_half_fails_two_of_the_four_leaf_uplinks(tiny: str) -> None:
    failed = estimate_collective("send-recv", Cluster.resolve(tiny), 32, GIB, sim="flow", failed_links="leaf:50%",
                                 seed=1)
    assert any("2 of the 4 leaf uplinks failed" in a for a in failed.assumptions)


@pytest.mark.parametrize("amount", ["100%", "101%"])
def test_every_uplink_failed_is_one_line_and_exit_2(tiny: str, amount: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["collective", "send-recv", "--system", tiny, "--gpus", "32", "--bytes", "1GiB", "--sim", "flow",
                 "--failed-links", f"leaf:{amount}", "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err
