"""Review of session 51's FLOP-convention scoring (hR, session 52): `causal_scores` re-counts model-FLOP metrics
only; a throughput metric (tokens/s a GPU) has no FLOP count to re-count, and is refused as the hardware metric is
(a mutant adding it to `CONVENTION_METRICS` passed every test before)."""

from __future__ import annotations

import pytest

from infraplan.validation.runner import case_flop_ratio, load_cases


@pytest.mark.parametrize("metric", ["tokens_per_s_per_gpu", "hardware_tflops_per_gpu"])
def test_causal_scores_on_a_metric_without_model_flops_is_refused(metric: str) -> None:
    case = next(c for c in load_cases() if c.get("flop_convention") == "causal_scores")
    assert case_flop_ratio(case) < 1.0
    with pytest.raises(ValueError, match=f"flop_convention 'causal_scores' on metric '{metric}'"):
        case_flop_ratio({**case, "metric": metric})
