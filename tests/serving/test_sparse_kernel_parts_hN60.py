"""DeepSeek Sparse Attention served on a part the sparse FlashMLA kernel does not run on (sm90 / sm100 only, vLLM
0.12.0 flashmla_sparse.py:89-90) says so in its kernel line (`serving.mla_decode.kernel_path`, hN60); a Hopper or
Blackwell part's line does not."""

from __future__ import annotations

import pytest

from infraplan.catalog.loader import load_accelerator, load_model
from infraplan.serving.mla_decode import kernel_path


@pytest.mark.parametrize(("part", "said"), [("a100-80gb", True), ("mi300x", True), ("h200", False),
                                            ("b200", False)])
def test_sparse_kernel_line_names_parts_without_it(part: str, said: bool) -> None:
    line = kernel_path(load_model("deepseek-v3.2"), load_accelerator(part), "vllm", "bf16")
    assert line is not None and line.startswith("DeepSeek Sparse Attention")
    assert ("is not a part the sparse FlashMLA kernel runs on" in line) is said
    assert "is not a part" not in (kernel_path(load_model("deepseek-v3"), load_accelerator(part), "vllm", "bf16")
                                   or "")
