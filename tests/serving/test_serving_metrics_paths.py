"""`serving_metrics.percentiles` on a scratch array (reordered in place, no copy): the same figures as on a copy."""

from __future__ import annotations

import numpy as np

from infraplan.serving.serving_metrics import percentiles


def test_scratch_percentiles_equal_the_copying_ones_and_keep_the_values():
    rng = np.random.default_rng(3)
    for values in (rng.lognormal(0.0, 1.0, 1001), np.where(rng.uniform(size=500) < 0.2, np.nan, rng.normal(size=500))):
        scratch = values.copy()
        got = percentiles(scratch, scratch=True)
        assert got == percentiles(values)
        assert got["p50"] == np.percentile(values[np.isfinite(values)], 50)
        assert np.array_equal(np.sort(scratch), np.sort(values), equal_nan=True)  # reordered at most
    assert percentiles(np.full(3, np.nan), scratch=True) == {"p50": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0}
