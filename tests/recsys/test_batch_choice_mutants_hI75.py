"""Mutation wave hI75 on `recsys.batch_choice` (hU59's tie rule; older than any mutant wave that listed it).

The SLO chooses among powers of two up to 4,096 and the model's default (`candidate_batches`), so a user model's
default of 3,000 is a candidate. Batches tie on QPS only where their QPS differ by rounding (`TIE_RTOL` 1e-9: a
host-link-bound part's B / (B x bytes / bandwidth)); 0.5 % more QPS is more QPS, whatever its power. The line names
the batches that tie *and meet the SLO*: MTIA 300 on dlrm-high is host-link-bound from batch 512 to 4,096 (390.8 k
QPS each), and at a 15 ms SLO batch 4,096 (19.6 ms) misses, so it is not offered as a batch of the same QPS.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.inference_loader import load_recsys_model
from infraplan.recsys.batch_choice import best_point, candidate_batches
from infraplan.recsys.estimate import estimate_recsys


def test_a_models_own_default_is_a_candidate() -> None:
    model = load_recsys_model("dlrm-high").model_copy(update={"default_batch": 3000})
    assert candidate_batches(model).tolist() == sorted([2**k for k in range(13)] + [3000])


def test_half_a_percent_more_qps_is_not_a_tie() -> None:
    arrays = {"qps": np.array([1.0, 1.005]), "latency_s": np.array([0.1, 0.2]), "power_w": np.array([50.0, 100.0])}
    assert best_point(arrays, 0.5) == (1, True)


def test_the_line_names_only_the_tied_batches_that_meet_the_slo() -> None:
    assert estimate_recsys("dlrm-high", "mtia-300", batch=4096).latency_s > 0.015
    answer = estimate_recsys("dlrm-high", "mtia-300", latency_slo_s=0.015)
    line = answer.assumptions["batch"]
    assert answer.batch == 2048 and "batches 512 (783.8 W), 1,024 (734 W) give the same QPS" in line
    assert "4,096" not in line.split("SLO", 1)[1]
