"""Mutation wave 12 (hM12): `Cluster.for_gpus`, `check_gpus` and `scaled` as their docstrings state them
(cluster/cluster.py): an accelerator preset grows to any count, a catalog system keeps its size, a count below one
is refused, and a what-if of a generic cluster stays generic."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.errors import InputError


def test_an_accelerator_preset_grows_to_the_count_asked() -> None:
    """`--system h800 --gpus 2048` means 2,048 of them on the generic fabric; 8 or fewer is the node itself."""
    node = Cluster.resolve("h100-sxm")
    big = node.for_gpus(2048)
    assert big.generic and big.total_accelerators == 2048 and big.accelerator == node.accelerator
    assert node.for_gpus(8) is node and node.for_gpus(4) is node


def test_a_catalog_system_keeps_its_size_and_the_caller_refuses_more() -> None:
    """A catalog system is not made generic by a larger count: `check_gpus` then names the accelerator preset."""
    system = Cluster.resolve("dgx-h100-superpod")
    assert system.for_gpus(system.total_accelerators + 8) is system
    with pytest.raises(InputError, match="the accelerator preset h100-sxm takes any count"):
        system.for_gpus(system.total_accelerators + 8).check_gpus(system.total_accelerators + 8)


def test_zero_accelerators_is_refused_and_one_is_not() -> None:
    system = Cluster.resolve("dgx-h100-superpod")
    with pytest.raises(InputError, match="--gpus must be a positive number of accelerators, got 0"):
        system.check_gpus(0)
    system.check_gpus(1)
    system.check_gpus(system.total_accelerators)


def test_a_what_if_of_an_accelerator_preset_still_grows() -> None:
    """`scaled` changes bandwidths only: the generic node of 8 scaled x2 up still takes 64 accelerators, at the
    scaled NVLink bandwidth."""
    node = Cluster.resolve("h100-sxm")
    what_if = node.scaled(scale_up=2.0)
    assert what_if.generic
    grown = what_if.for_gpus(64)
    assert grown.total_accelerators == 64
    assert grown.accelerator.scale_up_bandwidth_bytes_per_s == 2.0 * node.accelerator.scale_up_bandwidth_bytes_per_s
