"""Mutation wave hM21 (session 44): `training.pipeline_split_rule`'s search enumeration and nearest-split words.

Hand expectations from Megatron-Core's even split (num_layers + the embedding / loss slots divisible by PP x VPP,
megatron-core 0.16.1 transformer/transformer_block.py:155-157, :174-177) and its interleaving needing PP > 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from infraplan.catalog import load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.training.pipeline_split_rule import LaidOut, dividing_split, searched_vpps


@dataclass(frozen=True)
class _Space:
    shape: TransformerShape
    extra_layers: int
    max_vpp: int
    divisible: LaidOut | None


LLAMA3_8B = load_model("llama3-8b")  # 32 layers


def test_the_search_tries_every_virtual_stage_up_to_the_cap_from_pp_2() -> None:
    """Any split (None): VPP 1..min(32 // PP, max_vpp), the cap included; PP 1 interleaves nothing."""
    space = _Space(LLAMA3_8B, 0, 4, None)
    assert list(searched_vpps(space, {"pp": 2})) == [1, 2, 3, 4]  # 32 // 2 = 16, capped at 4
    assert list(searched_vpps(space, {"pp": 16})) == [1, 2]  # 32 // 16 = 2 below the cap
    assert list(searched_vpps(space, {"pp": 1})) == [1]


def test_the_search_counts_the_embedding_and_loss_slots() -> None:
    """34 slots (32 layers + embedding + loss, `account_for_*_in_pipeline_split`) = 2 x 17: at PP 2 only VPP 1
    divides within a cap of 8 (VPP 17 does too, above it); at PP 17, VPP 1 and 2 (34 // 17 = 2 chunks per rank
    at most). Without the two slots (32 layers) PP 17 would have none."""
    space = _Space(LLAMA3_8B, 2, 8, ())
    assert list(searched_vpps(space, {"pp": 2})) == [1]
    assert list(searched_vpps(space, {"pp": 17})) == [1, 2]
    assert list(searched_vpps(_Space(LLAMA3_8B, 0, 8, ()), {"pp": 17})) == []


def test_the_nearest_pipeline_offered_at_a_vpp_is_a_pipeline() -> None:
    """63 slots at PP 2 x VPP 3: no VPP at PP 2 divides 63 (odd), so the PPs at VPP 3 are offered: 3 (9 chunks),
    7, 21; PP 1 x VPP 3 is not one (interleaving needs PP > 1), so only 3 is named."""
    assert dividing_split(63, 2, 3) == "nearest valid PP at VPP 3: 3"
