"""A closed loop without --requests runs 10 requests per client, as the validated closed-loop rows (hU53).

Before, `serve --concurrency N` simulated 2,000 requests whatever N: 999 clients and 1,000 clients then ran 2 waves
and 2 waves plus a straggler, and read 7 % apart (DeepSeek-R1 wide EP on an NVL72: 1,999 vs 2,000 clients, 42 %);
4,096 clients held at most 2,000 requests. The steady state of N clients does not jump between N - 1 and N.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.limits import MAX_REQUESTS
from infraplan.serving.serve_inputs import DEFAULT_REQUESTS, closed_loop_requests
from infraplan.serving.serving_api import estimate_serving as serve
from infraplan.validation.serving_hopper import REQUESTS_PER_CLIENT

KW: dict[str, Any] = dict(input_len=128, output_len=512, dtype="fp8")


def _run(clients: int, requests: int | None = None) -> Any:
    return serve("llama3-8b", "h100-sxm", 1, concurrency=clients, requests=requests, **KW)


def test_default_count_is_the_validated_rows_per_client_count() -> None:
    result = _run(1000)
    assert result.requests == REQUESTS_PER_CLIENT * 1000  # validation.serving_hopper's harness count


def test_one_client_more_or_less_moves_the_steady_state_little() -> None:
    fewer, more = _run(999), _run(1000)
    assert fewer.output_tokens_per_s == pytest.approx(more.output_tokens_per_s, rel=0.01)  # was 7.1 % apart


def test_the_default_runs_as_the_same_count_given() -> None:
    assert _run(999).output_tokens_per_s == _run(999, 9990).output_tokens_per_s


def test_small_loops_keep_the_old_default_and_a_trace_or_an_open_loop_is_untouched() -> None:
    assert closed_loop_requests(None, 8, None) == DEFAULT_REQUESTS
    assert closed_loop_requests(None, None, None) is None
    assert closed_loop_requests(None, 500, "trace.csv") is None
    assert closed_loop_requests(123, 5000, None) == 123
    assert closed_loop_requests(None, 1_048_576, None) == MAX_REQUESTS


def test_fewer_requests_than_clients_says_so_not_the_front_end() -> None:
    result = serve("llama3-8b", "h100-sxm", 1, concurrency=300, requests=200, **KW)
    notes = [w for w in result.warnings if w.startswith("closed loop")]
    assert len(notes) == 1 and "at most 200 of the 300 clients" in notes[0] and "front end" not in notes[0]
    assert "give 3,000" in notes[0]


def test_a_straggler_wave_given_by_hand_is_named_as_such() -> None:
    notes = [w for w in _run(999, 2000).warnings if w.startswith("closed loop")]
    assert len(notes) == 1 and "2.0 requests per client" in notes[0] and "front end" not in notes[0]
    assert not [w for w in _run(999).warnings if w.startswith("closed loop")]


def test_drafts_on_a_model_without_an_mtp_module_say_what_draft_is_priced() -> None:
    eagle = serve("llama3-8b", "h100-sxm", 1, concurrency=4, requests=8, speculative_tokens=2, acceptance=0.7, **KW)
    assert [w for w in eagle.warnings
            if "has no multi-token-prediction module" in w and "2 draft tokens a step are" in w]  # hU69: "token(s)"
    mtp = serve("deepseek-v3", "gb200-nvl72", 8, attention_dp=8, concurrency=8, requests=16, speculative_tokens=1,
                acceptance=0.8, input_len=128, output_len=64, dtype="nvfp4")
    assert not [w for w in mtp.warnings if "multi-token-prediction" in w]  # its own MTP layer drafts
    plain = serve("llama3-8b", "h100-sxm", 1, concurrency=4, requests=8, **KW)
    assert not [w for w in plain.warnings if "multi-token-prediction" in w]


def test_an_ep_group_beyond_one_scale_up_domain_is_said_and_one_inside_is_not() -> None:
    kw: dict[str, Any] = dict(dtype="fp8", input_len=128, output_len=16, concurrency=16, requests=32)
    wide = serve("deepseek-r1", "dgx-h100-superpod", 16, attention_dp=16, **kw)
    assert [w for w in wide.warnings if w.startswith("EP 16 spans 2 scale-up domains of 8 GPUs")]
    inside = serve("deepseek-r1", "dgx-h100-superpod", 8, attention_dp=8, **kw)
    assert not [w for w in inside.warnings if "scale-up domains" in w]
