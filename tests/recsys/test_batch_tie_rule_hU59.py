"""hU59 (session 59): of the batches an SLO leaves at the same QPS, the answer takes the one of the least device power
and says so (`recsys.batch_choice`). hE59 saw MTIA 300 on dlrm-high at a 20 ms SLO answer batch 1,024 at 373.5
platform QPS/W where batch 4,096 gives the same 390.8 k QPS (host-link-bound) at 386.2. Before the change the first
test answered batch 1,024 (the smallest of a tie) and no `assumptions["batch"]` line existed."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.recsys.batch_choice import best_point
from infraplan.recsys.estimate import estimate_recsys


def test_a_host_link_bound_tie_takes_the_batch_of_the_least_power_and_says_which_tied() -> None:
    r = estimate_recsys("dlrm-high", "mtia-300", latency_slo_s=0.020)
    assert r.batch == 4096 and r.bound == "host-link" and r.latency_s <= 0.020
    # was 373.5 at batch 1,024; 386.2 until hO63 (1 us a launch, MTIA 2i's, for 4 us: the device less busy a batch)
    assert r.platform_qps_per_w == pytest.approx(387.3, abs=0.1)
    at_1024 = estimate_recsys("dlrm-high", "mtia-300", batch=1024)
    assert r.qps == pytest.approx(at_1024.qps, rel=1e-9) and r.power_w < at_1024.power_w
    line = r.assumptions["batch"]
    assert line.startswith("batch 4,096: the most QPS") and "1,024 (734 W)" in line and "least device power" in line


def test_a_batch_without_a_tie_states_the_rule_only() -> None:
    r = estimate_recsys("dlrm-high", "h100-sxm", latency_slo_s=0.020)
    assert r.assumptions["batch"].endswith("whose latency meets the 20 ms SLO")
    assert "batch" not in estimate_recsys("dlrm-high", "h100-sxm", batch=256).assumptions  # asked, not chosen
    assert "batch" not in estimate_recsys("dlrm-high", "h100-sxm").assumptions  # the model's default


def test_best_point_breaks_a_qps_tie_on_power_then_on_the_smaller_batch() -> None:
    arrays = {"qps": np.array([1.0, 2.0, 2.0 * (1 + 1e-12), 2.0]), "latency_s": np.array([0.1, 0.2, 0.3, 0.9]),
              "power_w": np.array([100.0, 90.0, 80.0, 70.0])}
    assert best_point(arrays, 0.5) == (2, True)  # 3 and 2 tie on QPS; 3 misses the SLO; 2 draws less than 1
    arrays["power_w"] = np.array([100.0, 90.0, 90.0, 90.0])
    assert best_point(arrays, None) == (1, True)  # equal power: the smaller batch, as before
    arrays["qps"] = np.array([1.0, 2.0, 2.1, 2.0])
    assert best_point(arrays, None) == (2, True)  # more QPS wins whatever its power
