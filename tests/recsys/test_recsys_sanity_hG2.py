"""Recommendation sanity across the catalog (hG2, session 37; validation/notes/training_sets_tried.md): the same die
serves the same DLRM alike. H800 (the H100 die and HBM3) ran on the conservative default profile (random gathers at
0.30 of HBM, no host tier) and served DLRM-medium at 0.90 of H100's QPS."""

from __future__ import annotations

import pytest

from infraplan.recsys.estimate import estimate_recsys


@pytest.mark.parametrize("model", ["dlrm-medium", "dlrm-high"])
def test_h800_serves_a_dlrm_as_h100_does(model: str) -> None:
    h800, h100 = estimate_recsys(model, "h800"), estimate_recsys(model, "h100-sxm")
    assert h800.profile == "h800"
    assert (h800.qps, h800.latency_s, h800.power_w) == pytest.approx((h100.qps, h100.latency_s, h100.power_w))
