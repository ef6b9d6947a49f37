"""The host figures a recsys answer rests on, named with their basis (session 44's review: MTIA 400's per-joule lead
is its assumed 300 W host share; MTIA 450's QPS its assumed 64 GB/s host link), and the link's binding point."""

from __future__ import annotations

import re

import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster.host_share import host_share
from infraplan.recsys.estimate import estimate_recsys


@pytest.mark.parametrize(("part", "share_w"), [("mtia-400", 300.0 + 3600.0 / 72), ("mtia-450", 300.0)])
def test_the_mtia_host_share_and_link_are_named_as_assumptions(part: str, share_w: float) -> None:
    """MTIA 400 adds its rack's ASSUMED switch trays per chip (3.6 kW per 72-chip domain, hH53); MTIA 450 has no
    catalog rack, so none."""
    r = estimate_recsys("dlrm-high", part)
    share, link = r.assumptions["host_share"], r.assumptions["host_link"]
    assert share.startswith(f"{share_w:.4g} W per device") and "ASSUMPTION" in share
    assert r.platform_power_w - r.power_w == pytest.approx(share_w)  # the share the line names is the one added
    assert link.startswith("64 GB/s") and "ASSUMPTION" in link
    # the device-only figure beside the platform one: their quotient is the host share's alone
    assert r.qps_per_w / r.platform_qps_per_w == pytest.approx(r.platform_power_w / r.power_w)


def test_a_sourced_link_names_its_source_and_a_cpu_has_none() -> None:
    assert "8x PCIe Gen5" in estimate_recsys("dlrm-high", "mtia-v2").assumptions["host_link"]
    assert estimate_recsys("dlrm-high", "xeon-8480").assumptions["host_link"].startswith("none")


def test_the_link_binds_where_the_answer_says() -> None:
    """MTIA 400 on dlrm-high at its default batch: the line gives the fraction of the assumed 64 GB/s below which the
    link bounds the batch; 2 % below it the answer is host-link bound and QPS falls, 2 % above it is not. (MTIA 450
    until session 63, at 99.5 %: with MTIA 2i's 1 us a launch in place of 4 us, hO63, its device time fell below the
    link's, so its line says the link bounds the batch, as the next test's first part.)"""
    acc = load_accelerator("mtia-400")
    base = estimate_recsys("dlrm-high", acc)
    assert base.bound != "host-link"
    fraction = float(re.search(r"below ([\d.]+)% of this bandwidth", base.assumptions["host_link"]).group(1)) / 100
    assert 0 < fraction < 1

    def at(scale: float):
        bw = acc.host_link_bandwidth_bytes_per_s * fraction * scale
        return estimate_recsys("dlrm-high", acc.model_copy(update={"host_link_bandwidth_bytes_per_s": bw}),
                               batch=base.batch)

    below, above = at(0.98), at(1.02)
    assert below.bound == "host-link" and below.qps < base.qps
    assert above.bound != "host-link" and above.qps == pytest.approx(base.qps)


def test_mtia_450_on_dlrm_high_is_bound_by_its_assumed_link() -> None:
    r = estimate_recsys("dlrm-high", "mtia-450")
    assert r.bound == "host-link" and r.assumptions["host_link"].endswith("it bounds the batch (QPS scales with it)")


def test_the_mtia_400_share_is_its_rack_nodes() -> None:
    """mtia-400.yaml states the 300 W its rack file's ASSUMED tray gives (1,200 W of host over 4 chips), so no
    number moved when the share became the part's own figure."""
    from infraplan.catalog import load_system

    node = load_system("mtia-400-rack").node
    assert host_share("mtia-400").host_w == pytest.approx(node.host_power_w / node.accelerators_per_node)
