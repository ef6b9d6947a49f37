"""Mutation spot-checks, third wave (hM, session 34): which residuals an error band and an MFU ceiling are taken
from (catalog/error_bands.py).

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)") and holds the
rule of the module's docstring (and published_mfu.yaml's header) on synthetic residuals, not the shipped ones."""

from __future__ import annotations

import pytest

from infraplan.catalog import published_mfu
from infraplan.catalog.error_bands import Residual, error_band, stack_class
from infraplan.catalog.published_mfu import PublishedMfu, published_mfu_ceiling


def _cases(family: str, stack: str, values: list[float]) -> list[Residual]:
    return [Residual(id=f"{family}-{stack}-{i}", family=family, stack=stack, kind="serving", residual=v,
                     campaign=f"{family}-{stack}-{i}") for i, v in enumerate(values)]


def test_the_second_tier_is_the_same_family_under_any_stack() -> None:
    """Pools, nearest first: family + stack class, then the same family under any stack, then every case. A Hopper
    TensorRT-LLM question with no Hopper TensorRT-LLM case takes the 10 Hopper vLLM campaigns (+5 % to +14 %), not
    the 10 Blackwell TensorRT-LLM ones (-50 %). Mutant G02 took the second tier by stack class."""
    residuals = tuple(_cases("hopper", "vllm", [0.05 + 0.01 * i for i in range(10)])
                      + _cases("blackwell", "trtllm", [-0.5] * 10))
    band = error_band("h100-sxm", "trtllm-0.x", "serving", residuals)
    assert band is not None and "hopper, any stack" in band.basis
    assert 0.05 <= band.low <= band.high <= 0.14


def test_the_full_range_fallback_is_taken_over_every_case_of_the_kind() -> None:
    """Below 9 campaigns in every pool the band is the full range of the last pool (every case of the kind):
    3 Hopper campaigns (+10..+30 %) and 3 Ampere ones (-40..-20 %) give -40..+30 % to a Hopper question, with the
    (K - 1) / (K + 1) = 71 % coverage of K = 6. Mutant G03 took the range of the nearest pool (Hopper's 3)."""
    residuals = tuple(_cases("hopper", "megatron", [0.1, 0.2, 0.3]) + _cases("ampere", "megatron", [-0.4, -0.3, -0.2]))
    band = error_band("h100-sxm", None, "serving", residuals)
    assert band is not None and (band.low, band.high) == (-0.4, 0.3)
    assert "any accelerator" in band.basis and "71%" in band.basis


def test_a_stack_file_path_is_classed_by_its_file_name() -> None:
    """A user's stack file by path: its class is that of its name (NeMo is Megatron-Core underneath). Mutant G07
    classed the whole path."""
    assert stack_class("/home/me/stacks/nemo-custom.yaml") == "megatron"
    assert stack_class("stacks/vllm-0.x.yaml") == "vllm"


def test_the_mfu_ceiling_prefers_the_stacks_own_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """published_mfu.yaml's rule: the family's entry for the stack class, else any class of the family. With a
    Hopper bf16 Megatron figure of 0.43 and a DeepSpeed one of 0.50, a Megatron plan is held to 0.43. Mutant G08
    took the family's best whatever the class."""
    entries = (PublishedMfu(family="hopper", stack="megatron", dtype="bf16", mfu=0.43, source="a"),
               PublishedMfu(family="hopper", stack="deepspeed", dtype="bf16", mfu=0.50, source="b"))
    monkeypatch.setattr(published_mfu, "load_published_mfu", lambda: entries)
    ceiling = published_mfu_ceiling("h100-sxm", "megatron", "bf16")
    assert ceiling is not None and ceiling.mfu == 0.43
    other = published_mfu_ceiling("h100-sxm", "torchtitan", "bf16")  # no torchtitan figure: the family's best
    assert other is not None and other.mfu == 0.50
