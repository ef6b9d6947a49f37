"""The routed experts' grouped GEMM with per-expert counts spread by the router (`serving.routed_experts`)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import routed_experts
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost


@pytest.mark.parametrize(("lam", "tile"), [(0.3, 16.0), (5.0, 16.0), (30.0, 32.0), (256.0, 128.0), (32.0, 64.0)])
def test_expected_tiles_match_a_seeded_poisson_sample(lam: float, tile: float) -> None:
    """E[ceil(X / t)], X ~ Poisson(lambda), from the incomplete gamma sum vs 400k seeded draws (within 1 %)."""
    draws = np.random.default_rng(0).poisson(lam, 400_000)
    sampled = float(np.mean(np.ceil(draws / tile)))
    assert routed_experts.expected_tiles(np.array([lam]), tile)[0] == pytest.approx(sampled, rel=0.01)


def test_one_token_per_hit_expert_is_one_tile_each() -> None:
    """Decode (lambda << 1): every expert that gets a token runs one tile, P(X > 0) = 1 - exp(-lambda)."""
    lam = np.array([0.0, 0.01, 0.1, 0.5])
    assert np.allclose(routed_experts.expected_tiles(lam, 16.0), 1.0 - np.exp(-lam), rtol=1e-6)


def _body_s(model: str, dep: Deployment, spread: bool, monkeypatch: pytest.MonkeyPatch) -> np.ndarray:
    monkeypatch.setattr(routed_experts, "ROUTED_TOKEN_SPREAD", spread)
    cluster = Cluster.resolve("hgx-h200")
    return build_iteration_cost(load_model(model), cluster.accelerator, cluster.fabric, dep).body_s


def test_prefill_cost_does_not_jump_when_the_mean_count_crosses_a_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    """GPT-OSS-120B (128 experts, top-4) on one H200: 4096 tokens give a mean of 128 tokens per expert, 4100 give
    128.1. Padding the mean, every expert ran two 128-row tiles at 4100 (+69 % body time for 0.1 % more tokens);
    padding each expert's Poisson count, the tiles grow with the tokens; a batch of exactly 8192 tokens (256 per
    expert: two tiles on the mean) runs ~2.5 tiles per expert."""
    dep = Deployment(dtype="int4")
    mean = _body_s("gpt-oss-120b", dep, False, monkeypatch)
    spread = _body_s("gpt-oss-120b", dep, True, monkeypatch)
    assert mean[4100] / mean[4096] > 1.5
    assert spread[4100] / spread[4096] < 1.02
    assert spread[8192] > 1.1 * mean[8192]
    assert spread[4] == pytest.approx(mean[4], rel=1e-9)  # decode: one tile per hit expert, weight-bound


def test_dense_models_are_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    dep = Deployment(tp=2)
    assert np.array_equal(_body_s("llama3-8b", dep, False, monkeypatch), _body_s("llama3-8b", dep, True, monkeypatch))
