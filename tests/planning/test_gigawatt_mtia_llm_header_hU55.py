"""gigawatt-2027 offers its MTIA 400 pool to the LLM services, and `plan` sizes none there (hY54, session 54: no
shipped serving stack runs on Meta parts; the lead kept the pool unsized rather than price it "as if" vLLM ran
there). The example's header says so, quoting the reason `plan` prints (hU, session 55): a user reading "GB300
NVL72 vs MTIA 400 ... LLM inference" learns before the run that only the GB300 side is answered. When a shipped
stack comes to run on Meta parts, this fails: the header's paragraph must go with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_accelerator
from infraplan.errors import InputError
from infraplan.serving.stack_placement import default_serving_stack

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gigawatt-2027.yaml"


def test_the_header_says_why_the_mtia_400_pool_serves_no_llm() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    pool = next(p for p in yaml.safe_load(text)["pools"] if p["name"] == "mtia-400")
    assert pool["serves"] == ["llm"] and "stack" not in pool
    with pytest.raises(InputError, match="no shipped serving stack runs there") as refused:
        default_serving_stack(load_accelerator("mtia-400"))
    assert "mtia-400 (Meta)" in str(refused.value)
    header = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "no shipped serving stack runs on Meta parts" in header
    assert '"not sized: chat on mtia-400 (2026, 2027): ... no shipped serving stack runs there"' in header
    assert "answers the GB300 side of the choice only" in header and "stack: vllm-0.x" in header
