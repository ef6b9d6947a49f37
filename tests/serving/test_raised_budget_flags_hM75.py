"""hM75 mutants of `serving.raised_budget.raised_budget_note` (hL75): each engine's line names its own launch flag
(vLLM's --max-num-batched-tokens, vllm 0.12.0 config/scheduler.py; TensorRT-LLM's --max_num_tokens; SGLang's
--chunked-prefill-size) at the batch cap, above the default it raised."""

from __future__ import annotations

import pytest

from infraplan.serving import engines
from infraplan.serving.raised_budget import raised_budget_note


@pytest.mark.parametrize(("engine", "flag"), [("vllm", "--max-num-batched-tokens"), ("trtllm", "--max_num_tokens"),
                                              ("sglang", "--chunked-prefill-size")])
def test_each_engine_names_its_own_flag(engine: str, flag: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "TRTLLM_TOKEN_CAP", False)  # hS76's rules off: the budget raised on every engine
    monkeypatch.setattr(engines, "SGLANG_CHUNK_BUDGET", False)
    note = raised_budget_note(engine, f"{engine}-x", 2048, 4096, None)
    assert note is not None
    assert note.startswith("--max-batch 4,096 is above " + f"{engine}-x's default token budget of 2,048 tokens")
    assert f"as a launch giving {flag} 4096 runs it" in note
    assert raised_budget_note(engine, f"{engine}-x", 2048, 2048, None) is None  # the cap within the default


def test_trtllm_caps_and_sglang_keeps_its_chunk_hs76() -> None:
    """hS76: TensorRT-LLM runs max_num_tokens sequences an iteration (its own line, the launch flag at the cap);
    SGLang's chunk caps a prefill batch alone (nothing raised, no line)."""
    note = raised_budget_note("trtllm", "trtllm-x", 2048, 4096, None) or ""
    assert "so 2,048 sequences run an iteration" in note and "--max_num_tokens 4096 runs them all" in note
    assert raised_budget_note("sglang", "sglang-x", 2048, 4096, None) is None
