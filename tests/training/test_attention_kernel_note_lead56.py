"""A stack's attention kernel that a part with per-kernel rates has no rate for is said, not priced silently
(the lead, session 56): a stack YAML with `attention_kernel: fa3` on H100 (whose catalog entry rates FlashAttention-2
and, through attention_max_fraction, cuDNN) is priced at the part's measured fused-attention rate, and `train` says
so; a part without per-kernel rates (B200: torchtitan 0.1.0 selects cuDNN on sm100) and a kernel the part rates
(fa2 on H100) give no line. Before the change `train` priced fa3 on H100 at 0.50 without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training

KW = dict(tp=1, seq_len=4096, global_batch=8)


def _stack(tmp_path: Path, kernel: str) -> str:
    text = load_stack("torchtitan").model_dump_json()  # the shipped stack, its kernel replaced
    path = tmp_path / f"tt-{kernel}.json"
    text = text.replace('"attention_kernel":"fa2"', f'"attention_kernel":"{kernel}"')
    path.write_text(text.replace('"name":"torchtitan"', f'"name":"tt-{kernel}"', 1))
    return str(path)


def _kernel_notes(system: str, stack: str) -> list[str]:
    notes = estimate_training("llama3-8b", system, 8, stack=stack, **KW).notes  # type: ignore[arg-type]
    return [n for n in notes if "attention kernel" in n and "no measured rate" in n]


def test_an_unrated_kernel_on_a_per_kernel_part_is_said(tmp_path: Path) -> None:
    (line,) = _kernel_notes("dgx-h100-superpod", _stack(tmp_path, "fa3"))
    assert "fa3" in line and "h100-sxm" in line and "0.50 of its bf16 peak" in line


@pytest.mark.parametrize(("system", "kernel"), [("dgx-h100-superpod", "fa2"), ("dgx-b200", "fa2"),
                                                ("dgx-b200", "fa3")])
def test_a_rated_kernel_or_a_part_without_per_kernel_rates_says_nothing(tmp_path: Path, system: str,
                                                                        kernel: str) -> None:
    assert _kernel_notes(system, _stack(tmp_path, kernel)) == []
