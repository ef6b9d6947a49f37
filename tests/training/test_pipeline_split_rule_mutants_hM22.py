"""Mutation wave hM22 (session 45): `training.pipeline_split_rule.dividing_split` offers the one-layer-per-chunk split.

Megatron-Core's even split takes any PP x VPP whose chunks divide the layer slots (megatron-core 0.16.1
transformer/transformer_block.py:155-157, :174-177), down to one layer per chunk: PP = slots at VPP 1, or
VPP = slots // PP at a PP. The nearest valid split above a refused one may be exactly that bound; hand counts below.
"""

from __future__ import annotations

from infraplan.training.pipeline_split_rule import dividing_split


def test_a_pipeline_of_one_layer_per_stage_is_offered() -> None:
    """9 slots at PP 4: the PPs dividing 9 are 1, 3 and 9 (one layer per stage), so the nearest either side of 4
    are 3 and 9."""
    assert dividing_split(9, 4, 1) == "nearest valid PPs: 3, 9"


def test_one_layer_per_virtual_stage_is_offered() -> None:
    """8 slots at PP 2 x VPP 3 = 6 chunks (refused): at PP 2 the VPPs with 2 x v dividing 8 are 1, 2 and 4
    (4 = 8 // 2: one layer per chunk), so the nearest either side of 3 are 2 and 4."""
    assert dividing_split(8, 2, 3) == "nearest valid VPPs at PP 2: 2, 4"
