"""A stack's fp8 dot-product attention that the plan's recipe does not run is said (hH57's hostile input on hA57).

hA57 priced fp8 attention only under the per-tensor recipes, as Megatron-Core 0.16.1 builds them (fp8_utils.py:
555-571: `fp8_dpa` passed to the delayed and tensorwise / current recipes, not to blockwise, MXFP8 or NVFP4; TE 2.14
dot_product_attention.py:676-680 runs DPA in fp8 under DS / CS only). A stack file asking
`fp8.dot_product_attention: true` with a blockwise recipe, or a plan in MXFP8 / NVFP4 on a stack that asks it, was
priced in bf16 attention without a word (Megatron ignores the flag as silently): `train` now says it, once, beside
the precision notes. Fails before (no note)."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training

PLAN = dict(gpus=64, tp=4, pp=2, seq_len=8192, global_batch=128)


def _stack_file(tmp_path: Path, recipe: str, dpa: bool) -> str:
    base = load_stack("nemo-26.04")
    fp8 = base.fp8.model_copy(update={"dot_product_attention": dpa, "recipe": recipe})
    path = tmp_path / f"nemo-{recipe}-{dpa}.json"
    path.write_text(base.model_copy(update={"fp8": fp8}).model_dump_json())
    return str(path)


def _notes(stack: str, dtype: str) -> list[str]:
    result = estimate_training("llama3-70b", "dgx-b200", stack=stack, dtype=dtype, **PLAN)  # type: ignore[arg-type]
    return [n for n in result.notes if "dot-product attention" in n]


def test_a_recipe_without_fp8_attention_says_the_stacks_flag_is_not_run(tmp_path: Path) -> None:
    current = _stack_file(tmp_path, "current", True)
    (note,) = _notes(current, "mxfp8")
    assert note.startswith("fp8 dot-product attention (the stack's fp8.dot_product_attention) not run under mxfp8")
    assert "priced in bf16" in note
    (note,) = _notes(_stack_file(tmp_path, "blockwise", True), "fp8")
    assert "under the blockwise recipe" in note
    assert _notes(current, "fp8") == []  # current scaling runs it
    assert _notes(current, "bf16") == []  # nothing asked of a bf16 plan
    assert _notes(_stack_file(tmp_path, "blockwise", False), "fp8") == []  # not asked
