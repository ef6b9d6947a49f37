"""hN59's review of `planning.service_match` (hB59): hand mutants over a service's identity and the match that no
test of tests/planning/test_compare_match_hB59.py killed (validation/notes/product_review_tried.md, session 59):
the TPOT SLO dropped from the identity, the match taking the first free service of the other side over the one of
its own name, a matched service left unclaimed (matched twice), and the unmatched line's SLO test reading the TTFT
SLO only. The searches are stubbed as in test_compare_match_hB59 (its `stub` fixture).
"""

from __future__ import annotations

from typing import Any

from tests.planning.test_compare_match_hB59 import _spec, stub  # noqa: F401 (the fixture)
from tests.planning.test_compare_precision_hC58 import _chat, _scenario

from infraplan.planning.compare import compare_scenarios


def _two(name: str, device: str, first: str, second: str) -> dict[str, Any]:
    """A scenario of two copies of one chat service, named `first` and `second` (in that order)."""
    raw = _scenario(name, device, "vllm-0.x")
    raw["services"] = [{**_chat("vllm-0.x"), "name": first}, {**_chat("vllm-0.x"), "name": second}]
    return raw


def test_a_tpot_slo_alone_makes_two_services(stub: Any) -> None:  # noqa: F811
    """One name, one model and workload and rate, TPOT SLOs 0.05 s and 0.1 s: not one service (the SLOs differ)."""
    mtia = _spec(_scenario("mtia", "mtia-400-rack", "vllm-0.x"), tpot_slo=0.05)
    gb200 = _spec(_scenario("gb200", "gb200-nvl72", "vllm-0.x"), tpot_slo=0.1)
    c = compare_scenarios([mtia, gb200])
    assert c.like_for_like is None and c.like_for_like_dtypes == {}
    line = c.precision_notes[0]
    assert line.startswith("precision: chat is not one service across the scenarios (different SLOs: mtia: ")
    assert "TTFT/TPOT SLOs" in line and "/0.05 s" in line and "/0.1 s" in line


def test_a_service_is_matched_to_the_one_of_its_own_name_where_several_agree(stub: Any) -> None:  # noqa: F811
    mtia = _spec(_scenario("mtia", "mtia-400-rack", "vllm-0.x"))
    gb200 = _spec(_two("gb200", "gb200-nvl72", "assistant", "chat"))  # "assistant" first: the first free one
    c = compare_scenarios([mtia, gb200])
    assert c.like_for_like_dtypes == {"chat": ["bf16"]}  # before (mutant): "chat (mtia) / assistant (gb200)"
    assert c.precision_notes[0].startswith("precision: chat runs at different precisions")


def test_a_service_of_one_side_is_matched_once(stub: Any) -> None:  # noqa: F811
    """Two identical services on the first side, one on the second: the second side's is matched to one of them;
    the other stands alone (no precision line of its own)."""
    mtia = _spec(_two("mtia", "mtia-400-rack", "chat", "chat2"))
    gb200 = _spec(_scenario("gb200", "gb200-nvl72", "vllm-0.x"), name="assistant")
    c = compare_scenarios([mtia, gb200])
    assert list(c.like_for_like_dtypes) == ["chat (mtia) / assistant (gb200)"]
    assert not any(n.startswith("precision: chat2") for n in c.precision_notes)


def test_a_service_compared_under_another_name_is_not_said_uncompared(stub: Any) -> None:  # noqa: F811
    """mtia's "chat" (70B) is gb200's "assistant"; gb200's own "chat" is the 8B. Before: the first line said mtia's
    chat "is not one service across the scenarios ...: its precisions are not compared", and the next compared it."""
    mtia = _spec(_scenario("mtia", "mtia-400-rack", "vllm-0.x"))
    raw = _scenario("gb200", "gb200-nvl72", "vllm-0.x")
    raw["services"] = [{**_chat("vllm-0.x"), "model": "llama3-8b"}, {**_chat("vllm-0.x"), "name": "assistant"}]
    c = compare_scenarios([mtia, _spec(raw)])
    assert c.like_for_like_dtypes == {"chat (mtia) / assistant (gb200)": ["bf16"]}
    assert not any("not compared" in n for n in c.precision_notes)
    assert c.precision_notes[0].startswith("precision: chat (mtia) / assistant (gb200), matched as one service")
