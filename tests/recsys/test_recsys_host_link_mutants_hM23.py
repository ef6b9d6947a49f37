"""Mutation wave hM23 (session 45) on `recsys.estimate.host_assumptions` (hH47): the host-link line's binding point
at the stack's link efficiency, the "bounds" verdict where the link is the answer's bound, and the basis of the share.
"""

from __future__ import annotations

import re

import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster.host_share import host_share
from infraplan.recsys.estimate import estimate_recsys


def test_the_binding_fraction_holds_to_one_percent_at_the_links_efficiency() -> None:
    """H100 on dlrm-low (link 0.03 ms against 0.097 ms on the device): at 0.99 of the printed fraction of the
    bandwidth the answer is host-link bound, at 1.01 it is not (the PCIe time is bytes / (bandwidth x the 0.8
    efficiency the line names: recsys_schemas.py's default), so a fraction without the efficiency is 0.8 of it)."""
    acc = load_accelerator("h100-sxm")
    base = estimate_recsys("dlrm-low", acc)
    line = base.assumptions["host_link"]
    assert "x 0.8 efficiency" in line and base.bound != "host-link"
    fraction = float(re.search(r"below ([\d.]+)% of this bandwidth", line).group(1)) / 100  # type: ignore[union-attr]

    def at(scale: float) -> str:
        bw = acc.host_link_bandwidth_bytes_per_s * fraction * scale
        return estimate_recsys("dlrm-low", acc.model_copy(update={"host_link_bandwidth_bytes_per_s": bw}),
                               batch=base.batch).bound

    assert at(0.99) == "host-link" and at(1.01) != "host-link"


def test_an_answer_bound_by_its_link_says_the_link_bounds_it() -> None:
    """MTIA 300 on dlrm-high: its PCIe Gen5 x8 link (2.62 ms a batch) is slower than its device (2.42 ms): the
    answer's bound is the host link and the line says so, with no fraction above 100 %."""
    r = estimate_recsys("dlrm-high", "mtia-300")
    assert r.bound == "host-link"
    assert r.assumptions["host_link"].endswith("it bounds the batch (QPS scales with it)")


@pytest.mark.parametrize("part", ["mtia-450", "h100-sxm"])
def test_the_share_line_names_its_basis(part: str) -> None:
    share = host_share(part)
    assert f"({share.basis} figure: " in estimate_recsys("dlrm-low", part).assumptions["host_share"]
    assert share.basis in ("device", "system")
