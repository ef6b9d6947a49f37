"""Mutation wave 5 (hM5): rail-only fabrics' refusals and flags (`network.rail_leaves.with_fabric`, `network.costs.
describe_fabric`), as their docstrings and error lines state them."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network.costs import describe_fabric
from infraplan.network.rail_leaves import with_fabric
from infraplan.network.topology import _rail_leaf_span, build_topology


@pytest.mark.parametrize(("system", "gpus"), [("dgx-h100-superpod", 8), ("gb200-nvl72", 72)])
def test_one_whole_scale_up_domain_has_no_rail_to_build(system: str, gpus: int) -> None:
    # a rail joins one NIC of every HB domain: exactly one domain (8 GPUs of a DGX, 72 of an NVL72 rack) is refused
    with pytest.raises(InputError, match=f"are one {gpus}-GPU domain, with no rail to build"):
        describe_fabric(with_fabric(load_system(system), "rail-only"), gpus)
    assert describe_fabric(with_fabric(load_system(system), "rail-only"), 2 * gpus).rails_count == (
        8 if gpus == 8 else 72)


def test_a_system_without_nics_is_refused_by_the_fabric_switch() -> None:
    spec = load_system("dgx-h100-superpod")
    bare = spec.model_copy(update={"node": spec.node.model_copy(update={"nics_per_node": 0})})
    with pytest.raises(InputError, match="--fabric rail-only needs a NIC-based scale-out fabric; .* 0 NICs per node"):
        with_fabric(bare, "rail-only")


def test_rail_only_is_rail_optimised_even_where_the_systems_clos_is_not() -> None:
    # meta-genai-roce-24k's Clos is not rail-optimised (its catalog entry); a rail-only fabric's leaves are rails,
    # which the schema requires (`rail_only needs rail_optimized: true`)
    spec = load_system("meta-genai-roce-24k")
    assert not spec.network.rail_optimized and not build_topology(spec, 1024).rail_optimized
    rail = with_fabric(spec, "rail-only")
    System.model_validate(rail.model_dump())  # a valid system: the schema's rule holds
    assert build_topology(rail, 1024).rail_optimized


def test_a_job_of_no_whole_pods_caps_the_rail_leaf_at_the_pod() -> None:
    # 384 GPUs on 8-GPU HB domains, pods of 256 (384 is no whole number of them): the leaf domain is the largest
    # multiple of the 16-GPU group up to 32 ports x 8 = 256 GPUs that divides the pod (256), not the job (192)
    assert _rail_leaf_span(16, 32, 8, 384, 1.0, 64, 256) == 256
    # whole pods (1,024 = 4 x 256) and 64 down ports: the leaf takes what its ports reach, 512 GPUs, past the pod
    assert _rail_leaf_span(16, 64, 8, 1024, 1.0, 64, 256) == 512
