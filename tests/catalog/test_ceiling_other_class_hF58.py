"""A fallback MFU ceiling taken from another stack class's figure says so (hF58).

`search llama3-70b --system mi300x-cluster --stack torchtitan` printed "MFU ceiling bf16: 56.3 % ... from ampere
bf16, stack class megatron, FALLBACK, no cdna3 bf16 figure: the best of any family", read as if megatron were the
plan's class; the family's own other-class figure already said "no torchtitan figure in bf16: the best of any stack
class" (hU47). The any-family and other-precision fallbacks now say whose class the figure is.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.published_mfu import published_mfu_ceiling


@pytest.mark.parametrize(("accelerator", "dtype", "lookup"), [
    ("mi300x", "bf16", "any_family"),  # no cdna3 figure: Korthikanti's A100 (megatron)
    ("b200", "bf16", "own_other_precision"),  # no blackwell bf16 figure: its fp8 share (megatron)
])
def test_the_basis_names_the_figure_s_class(accelerator: str, dtype: str, lookup: str) -> None:
    asked = published_mfu_ceiling(accelerator, "torchtitan", dtype)
    assert asked is not None and asked.lookup == lookup and asked.stack == "megatron"
    assert asked.basis.endswith(", a megatron stack's (any stack class; the plan's is torchtitan)")
    same = published_mfu_ceiling(accelerator, "nemo-26.04", dtype)  # a megatron-class plan: nothing added
    assert same is not None and same.mfu == asked.mfu and "the plan's is" not in same.basis
