"""Mutation wave hM23 (session 45) on `serving.replica_share`: the share's spans are the dispatch's own gaps, a
fixed-length probe is fed the share too, and the preset's long tail is cut to the context as `serve` cuts it.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog.serving_loader import load_workload
from infraplan.serving.replica_share import replica_requests, share_indices, share_spans
from infraplan.serving.workloads import clip_to_context


@pytest.mark.parametrize(("replicas", "engines"), [(1, 1), (3, 1), (4, 2), (5, 8)])
def test_the_spans_are_the_gaps_between_the_dispatched_requests(replicas: int, engines: int) -> None:
    """Request m of the share is request share_indices[m] of the whole stream, so its gap spans
    share_indices[m] - share_indices[m - 1] of the stream's gaps; the first, from the stream's start (index -1, the
    gap before t = 0), spans share_indices[0] + 1 = 1: replica 0 takes the stream's first request."""
    n = 40
    idx = share_indices(n * replicas * engines, replicas, engines)[:n]
    assert np.array_equal(share_spans(n, replicas, engines), np.diff(np.concatenate([[-1], idx])))


def test_a_fixed_length_probe_gets_the_smoothed_share() -> None:
    """No preset: Poisson arrivals (cv 1); replica 0 of 16 single-engine replicas gets every 16th request, each gap
    a sum of 16 exponential gaps: mean 16 / rate, cv 1 / sqrt(16) = 0.25 (the whole stream thinned would keep cv 1)."""
    rate, r = 80.0, 16
    got = replica_requests(None, 1000, 200, 4000, rate, 3, r, 1, 8192)
    gaps = np.diff(got.arrival_s)
    assert gaps.mean() == pytest.approx(r / rate, rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(0.25, abs=0.03)
    assert np.all(got.input_tokens == 1000) and np.all(got.output_tokens == 200)


def test_the_long_tail_is_cut_to_the_context_as_serve_cuts_it() -> None:
    """A context shorter than the preset's long requests: every request fits it, and the share at that context is
    the share drawn without a limit then cut by `clip_to_context` (serve's truncation), the arrivals untouched."""
    spec = load_workload("code-completion")
    whole = replica_requests(spec, None, None, 600, 20.0, 4, 6, 2, 10**9)
    context = int(np.percentile(whole.input_tokens + whole.output_tokens, 50))
    cut = replica_requests(spec, None, None, 600, 20.0, 4, 6, 2, context)
    assert np.all(cut.input_tokens + cut.output_tokens <= context)
    assert np.any(whole.input_tokens + whole.output_tokens > context)
    expected = clip_to_context(whole, context)[0]
    for a, b in ((cut.arrival_s, expected.arrival_s), (cut.input_tokens, expected.input_tokens),
                 (cut.output_tokens, expected.output_tokens)):
        assert np.array_equal(a, b)
