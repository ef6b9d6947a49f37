"""Coverage wave hM15 (session 42): `serving.workloads` draws no test made.

A fixed length (or a log-normal of sigma 0: e^0 = 1) is the median for every request, rounded to a whole token and
clipped to [min, max] (`catalog.serving_loader.LengthDistribution`'s docstring; a fixed length's sigma, min or max
is refused since hU49); a trace read with a limit keeps its
first rows in file order; a diffusion workload has no token lengths to draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog.serving_loader import LengthDistribution, WorkloadSpec, load_workload
from infraplan.errors import InputError
from infraplan.serving.workloads import lengths, read_trace, workload_requests


@pytest.mark.parametrize(("dist", "tokens"), [
    ({"distribution": "fixed", "median": 1000.4}, 1000),
    ({"distribution": "lognormal", "median": 511.6, "sigma": 0.0}, 512),
    ({"distribution": "lognormal", "median": 5000, "sigma": 0.0, "max": 4096}, 4096),  # fixed: no max (hU49)
    ({"distribution": "fixed", "median": 0.2}, 1),  # min 1: no request of 0 tokens
])
def test_a_fixed_length_is_the_median_for_every_request(dist: dict, tokens: int) -> None:
    drawn = lengths(50, LengthDistribution(**dist), np.random.default_rng(3))
    assert drawn.dtype == np.int64
    assert drawn.tolist() == [tokens] * 50


def test_a_fixed_workload_draws_only_its_arrivals() -> None:
    """Fixed 1,024 / 128 tokens at 10 requests/s: every request the same lengths, arrivals from t = 0 increasing,
    about 10 per second over 2,000 requests (Poisson: the mean gap 0.1 s within 5 %)."""
    spec = WorkloadSpec(display_name="fixed", source="test", kind="llm",
                        input_tokens=LengthDistribution(distribution="fixed", median=1024),
                        output_tokens=LengthDistribution(distribution="fixed", median=128))
    req = workload_requests(spec, 2000, 10.0, seed=1)
    assert set(req.input_tokens.tolist()) == {1024} and set(req.output_tokens.tolist()) == {128}
    assert req.arrival_s[0] == 0.0 and np.all(np.diff(req.arrival_s) >= 0)
    assert np.mean(np.diff(req.arrival_s)) == pytest.approx(0.1, rel=0.05)


def test_a_diffusion_workload_has_no_token_lengths() -> None:
    spec = load_workload("image-generation")
    with pytest.raises(InputError, match=f"workload {spec.name!r} is not an LLM workload"):
        workload_requests(spec, 10, 1.0, seed=0)


def test_a_trace_limit_keeps_the_first_rows(tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n0.0,10,1\n0.5,20,2\n0.7,30,3\n1.5,40,4\n")
    req = read_trace(str(trace), limit=2)
    assert req.arrival_s.tolist() == [0.0, 0.5]
    assert req.input_tokens.tolist() == [10, 20] and req.output_tokens.tolist() == [1, 2]
    assert len(read_trace(str(trace)).arrival_s) == 4
