"""Mutation wave hM21 (session 44): the closed loop's few-requests note (`serve_inputs.few_requests_note`, hU53).

Expectations: a loop given exactly one request per client has every client hold one, so it is said as one request
per client, not as clients left idle; and where the answer's own figures satisfy Little's law (requests/s x mean
end-to-end latency / clients within 1 % of 1: four identical requests prefilled and decoded together) there is
nothing for a closed-loop note to explain.
"""

from __future__ import annotations

from infraplan.serving.serve_inputs import few_requests_note
from infraplan.serving.serve_results import LLMDeployment
from infraplan.serving.serving_api import estimate_serving


def test_one_request_per_client_is_said_as_such() -> None:
    note = few_requests_note(300, 300)
    assert "1.0 requests per client" in note and "clients ever hold" not in note
    assert "at most 299 of the 300 clients ever hold a request" in few_requests_note(299, 300)


def test_one_wave_that_satisfies_littles_law_carries_no_note() -> None:
    result = estimate_serving("llama3-8b", "h100-sxm", 1, concurrency=4, requests=4, input_len=128,
                              output_len=512, dtype="fp8")
    rate, e2e = result.requests_per_s, result.e2e_s.mean if result.e2e_s else None
    assert rate is not None and e2e is not None and abs(rate * e2e / 4 - 1.0) < 0.01
    assert not [w for w in result.warnings if w.startswith("closed loop")]


def test_an_ep_group_that_part_fills_a_domain_counts_that_domain() -> None:
    """EP 12 on 8-GPU scale-up domains occupies ceil(12 / 8) = 2 of them (12 // 8 would say 1)."""
    result = estimate_serving("deepseek-r1", "dgx-h100-superpod", 12, attention_dp=12, dtype="fp8", input_len=128,
                              output_len=16, concurrency=16, requests=32)
    assert isinstance(result.deployment, LLMDeployment) and result.deployment.ep == 12
    assert [w for w in result.warnings if w.startswith("EP 12 spans 2 scale-up domains of 8 GPUs")]
