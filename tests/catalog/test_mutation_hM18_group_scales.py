"""Mutation wave 2 (hM18, session 43) on `model_config_quantization.stored_bytes`' GPTQ / AWQ branch: a config that
leaves out its symmetry takes the quantiser's own default.

AutoAWQ's default quant_config is {"zero_point": True, "q_group_size": 128, "w_bit": 4} (asymmetric: a packed 4-bit
zero per group beside the fp16 scale); AutoGPTQ's BaseQuantizeConfig has sym=True (no zeros kept by Marlin). By hand,
groups of 128: 0.5 + (2 + 0.5) / 128 B per weight asymmetric, 0.5 + 2 / 128 symmetric."""

from __future__ import annotations

import pytest

from infraplan.catalog.model_config_quantization import stored_bytes


def test_awq_without_zero_point_is_asymmetric() -> None:
    assert stored_bytes({"quant_method": "awq", "w_bit": 4, "q_group_size": 128}) == \
        pytest.approx(0.5 + 2.5 / 128, rel=1e-12)


def test_gptq_without_sym_is_symmetric() -> None:
    assert stored_bytes({"quant_method": "gptq", "bits": 4, "group_size": 128}) == \
        pytest.approx(0.5 + 2.0 / 128, rel=1e-12)


def test_no_group_count_is_the_formats_width() -> None:
    """No group size stated: no per-group term, the format's own width (0: not added). A group size that is not a
    count (0, a string) is refused since hR43: tests/catalog/test_group_size_review_hR43.py."""
    assert stored_bytes({"quant_method": "gptq", "bits": 4, "group_size": None, "sym": True}) == 0.0
