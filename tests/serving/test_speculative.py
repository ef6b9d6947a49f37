"""Speculative decoding's pricing (`serving.speculative`): the first draft step over the verified positions, the
draft layer over the prompt, the draft's attention queries."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import speculative
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time, prefill_time

R1 = load_model("deepseek-r1")
H200 = Cluster.resolve("hgx-h200")
TP8 = Deployment(tp=8, ep=8, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=4096, engine="trtllm",
                 stack="trtllm-0.x")


def _costs(dep: Deployment, **toggles: bool):  # type: ignore[no-untyped-def]
    saved = {k: getattr(speculative, k) for k in toggles}
    try:
        for k, v in toggles.items():
            setattr(speculative, k, v)
        return build_iteration_cost(R1, H200.accelerator, H200.fabric, dep)
    finally:
        for k, v in saved.items():
            setattr(speculative, k, v)


def test_first_draft_step_runs_over_every_verified_position() -> None:
    """With one MTP token the draft layer sees 2 tokens a row (AIConfigurator's batch x (nextn + 1)): the step costs
    more than with the draft over one token a row, by about one layer's extra tokens, far less than a layer."""
    mtp = replace(TP8, speculative_tokens=1, acceptance=0.85)
    over = _costs(mtp, DRAFT_OVER_VERIFIED=True, DRAFT_OVER_PROMPT=False)
    one = _costs(mtp, DRAFT_OVER_VERIFIED=False, DRAFT_OVER_PROMPT=False)
    plain = _costs(TP8)
    for b in (4, 32):
        t_over, t_one, t0 = (float(decode_time(c, b, 2000)) for c in (over, one, plain))
        assert t0 < t_one < t_over < t_one + (t0 / R1.num_layers) * 2  # at most ~a layer at twice the tokens


def test_decode_head_is_verification_plus_draft() -> None:
    """The head table at r rows: body[r q] - body[r] + head[r q] + the draft's steps (K = 2: the first over r q
    tokens, the second over r), each sampling r rows."""
    dep = replace(TP8, max_batch=4, speculative_tokens=2, acceptance=0.7)
    n = 2 * dep.max_batch * 3 + 1
    body, head, draft = np.arange(n) * 3.0, np.arange(n) * 0.5, np.arange(n) * 0.25 + 1.0
    got = speculative.decode_head(dep, body, head, draft)  # the draft's attention fixed time: `decode_fixed_s` (hC63)
    r = 4
    want = (body[3 * r] - body[r] + head[3 * r]) + (draft[3 * r] + head[r]) + (draft[r] + head[r])
    assert got[r] == pytest.approx(want)
    assert got[0] == 0.0 and len(got) == 2 * dep.max_batch + 1


def test_the_draft_layer_runs_over_the_prompt() -> None:
    """Prefill with drafts runs one more layer over the prompt: (layers + 1) / layers of the pair time and a
    per-token body term, so a 4k prompt takes ~1 / 61 longer; without drafts nothing changes."""
    mtp = replace(TP8, speculative_tokens=1, acceptance=0.85)
    on, off = _costs(mtp, DRAFT_OVER_PROMPT=True), _costs(mtp, DRAFT_OVER_PROMPT=False)
    assert on.pair_s / off.pair_s == pytest.approx((R1.num_layers + 1) / R1.num_layers, rel=1e-3)
    assert on.per_prefill_token_s > off.per_prefill_token_s == 0.0
    grow = float(prefill_time(on, 1, 4096)) / float(prefill_time(off, 1, 4096)) - 1.0
    assert 0.3 / R1.num_layers < grow < 2.0 / R1.num_layers
    assert speculative.prompt_layers(TP8) == 0 and speculative.prompt_token_s(TP8, np.ones(10), 8) == 0.0


def test_decode_queries_count_the_draft_steps() -> None:
    """Queries per row and step: 1 + K per target layer; the draft layer 1 + K for its first step, 1 after."""
    assert speculative.decode_query_layers(TP8, 61) == 61
    k1 = replace(TP8, speculative_tokens=1, acceptance=0.8)
    k3 = replace(TP8, speculative_tokens=3, acceptance=0.8)
    assert speculative.decode_query_layers(k1, 61) == 61 * 2 + 2
    assert speculative.decode_query_layers(k3, 61) == 61 * 4 + 4 + 2
