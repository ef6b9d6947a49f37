"""hI65 mutation wave on `layer_recipe.quantised_gather_ratios` (hD64): the SP all-gathers' bytes over bf16's where
the stack gathers in the GEMMs' format (nemo-26.04), by hand from TE 2.14 distributed.py: per-tensor fp8 ("current",
nemo-26.04's recipe) gathers the row-wise 1-byte data once and builds the transpose after the gather (:1000-1014):
forward and backward 1 / 2 of bf16's bytes. MXFP8 gathers the row-wise and the column-wise copies (`_all_gather_mxfp8`
:1504-1550), each 1 B an element plus one 1-byte E8M0 scale per 32 (OCP MX v1.0): forward (1 + 1/32) / 2, backward
twice that. A bf16 plan gathers bf16 (1, 1)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training.layer_recipe import quantised_gather_ratios
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

NEMO = load_stack("nemo-26.04")


@pytest.mark.parametrize(("dtype", "fwd", "bwd"), [("fp8", 0.5, 0.5), ("mxfp8", 33 / 64, 33 / 32),
                                                   ("bf16", 1.0, 1.0)])
def test_the_gathered_bytes_by_recipe(dtype: str, fwd: float, bwd: float) -> None:
    shape = load_model("llama3-8b")
    plans = enumerate_plans(shape, 8, 4096, 64, [dtype], 8)
    plans = plans.take(np.flatnonzero(valid_mask(shape, plans) & (plans.tp > 1))[:4])
    got = quantised_gather_ratios(plans, np.full(len(plans), dtype != "bf16"), NEMO, 0.0)
    assert got is not None
    assert np.ravel(got[0]) == pytest.approx([fwd] * len(plans), rel=1e-12)
    assert np.ravel(got[1]) == pytest.approx([bwd] * len(plans), rel=1e-12)


def test_the_layers_kept_in_bf16_gather_bf16() -> None:
    """A recipe keeping a quarter of the layers in bf16 (NVFP4's first and last layers, arXiv:2509.25149 sec. 4.1,
    as a stack file sets it): per-tensor fp8 gathers 3/4 x 1 B + 1/4 x 2 B an element, 0.625 of bf16's, each way."""
    shape = load_model("llama3-8b")
    plans = enumerate_plans(shape, 8, 4096, 64, ["fp8"], 8)
    plans = plans.take(np.flatnonzero(valid_mask(shape, plans) & (plans.tp > 1))[:4])
    got = quantised_gather_ratios(plans, np.full(len(plans), True), NEMO, 0.25)
    assert got is not None
    assert np.ravel(got[0]) == pytest.approx([0.625] * len(plans), rel=1e-12)
    assert np.ravel(got[1]) == pytest.approx([0.625] * len(plans), rel=1e-12)
