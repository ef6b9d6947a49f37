"""hR (session 73): a given `--token-budget` is one attention-DP rank's (`ServingEngine.budget_of`), unlike SGLang's
own `--chunked-prefill-size`, which is the whole server's and which SGLang divides by `--dp` (hG73's NOTE; hW73:
`--token-budget 8192` at `--attention-dp 8` is 8,192 a rank, the default 1,024). The help and docs/serving.md say so."""

from __future__ import annotations

from pathlib import Path

from infraplan.cli.main import load_command
from infraplan.serving.engines import load_engine

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


def test_the_help_says_the_budget_is_one_ranks() -> None:
    (param,) = [p for p in load_command("serve").params if "--token-budget" in p.opts]
    assert "one attention-DP rank's (SGLang's --chunked-prefill-size N at --dp D: N / D)" in param.help


def test_the_docs_convert_sglangs_flag() -> None:
    text = " ".join(DOCS.read_text().split())
    assert "SGLang's chunked_prefill_size 8192 at dp_size 8 is `--token-budget 1024` here" in text


def test_a_given_budget_is_taken_as_one_ranks_and_the_default_is_split() -> None:
    """What the help says, in the engine's rule: given, as given at any attention DP; not given, the stack's
    chunk on the part divided by the ranks (H200's 141 GB: 8,192 / 8 = 1,024)."""
    sglang = load_engine("sglang-0.x")
    h200 = 141e9
    assert sglang.budget_of(8192, h200, attention_dp=8) == 8192
    assert sglang.budget_of(None, h200, attention_dp=8) == 1024
    assert sglang.budget_of(None, h200, attention_dp=1) == 8192
