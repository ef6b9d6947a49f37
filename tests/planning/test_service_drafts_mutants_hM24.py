"""Mutation wave hM24 (session 46) on an LLM service's draft fields (`planning.fields_read`, hR48): their bounds
are serve's (`serving.deployment.MAX_SPECULATIVE_TOKENS`; an acceptance is a probability), refused when the file is
read, as serve-plan refuses the same flags."""

from __future__ import annotations

import pytest

from infraplan.planning.fleet_spec import ServiceSpec
from infraplan.serving.deployment import MAX_SPECULATIVE_TOKENS

LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}


def test_draft_tokens_are_bounded_as_serve_bounds_them() -> None:
    ok = ServiceSpec.model_validate({**LLM, "speculative_tokens": MAX_SPECULATIVE_TOKENS, "acceptance": 0.8})
    assert ok.speculative_tokens == MAX_SPECULATIVE_TOKENS
    with pytest.raises(ValueError, match="speculative_tokens"):
        ServiceSpec.model_validate({**LLM, "speculative_tokens": MAX_SPECULATIVE_TOKENS + 1, "acceptance": 0.8})


@pytest.mark.parametrize("acceptance", [1.01, 1.5, -0.1])
def test_an_acceptance_outside_zero_to_one_is_refused_on_reading(acceptance: float) -> None:
    with pytest.raises(ValueError, match="acceptance"):
        ServiceSpec.model_validate({**LLM, "speculative_tokens": 1, "acceptance": acceptance})
    assert ServiceSpec.model_validate({**LLM, "speculative_tokens": 1, "acceptance": 1.0}).acceptance == 1.0
