"""hM75 mutants of `serving.raised_budget.raised_budget_note` (hL75): each engine's line names its own launch flag
(vLLM's --max-num-batched-tokens, vllm 0.12.0 config/scheduler.py; TensorRT-LLM's --max_num_tokens; SGLang's
--chunked-prefill-size) at the batch cap, above the default it raised."""

from __future__ import annotations

import pytest

from infraplan.serving.raised_budget import raised_budget_note


@pytest.mark.parametrize(("engine", "flag"), [("vllm", "--max-num-batched-tokens"), ("trtllm", "--max_num_tokens"),
                                              ("sglang", "--chunked-prefill-size")])
def test_each_engine_names_its_own_flag(engine: str, flag: str) -> None:
    note = raised_budget_note(engine, f"{engine}-x", 2048, 4096, None)
    assert note is not None
    assert note.startswith("--max-batch 4,096 is above " + f"{engine}-x's default token budget of 2,048 tokens")
    assert f"as a launch giving {flag} 4096 runs it" in note
    assert raised_budget_note(engine, f"{engine}-x", 2048, 2048, None) is None  # the cap within the default
