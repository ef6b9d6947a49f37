"""Mutation spot-check (hH2, session 33): the draft layer's prefill cost per prompt token is its table's slope."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving.deployment import Deployment
from infraplan.serving.speculative import prompt_token_s


def test_prompt_token_seconds_are_the_marginal_seconds_per_token() -> None:
    """A draft layer costing a + b m seconds for m tokens costs b seconds per more prompt token: with a = 1 ms and
    b = 2 us over 0..4,096 tokens, 2 us (the fixed 1 ms is not a per-token cost). Without drafts: 0."""
    m = np.arange(4097, dtype=np.float64)
    table = 1e-3 + 2e-6 * m
    dep = Deployment(speculative_tokens=1, acceptance=0.8)
    assert prompt_token_s(dep, table, 4096) == pytest.approx(2e-6, rel=1e-9)
    assert prompt_token_s(Deployment(), table, 4096) == 0.0
