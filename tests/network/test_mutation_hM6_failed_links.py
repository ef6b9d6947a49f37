"""Mutation wave 6 (hM6): `--failed-links TIER:FRACTION` fails that fraction of the tier's uplinks ROUNDED to the
nearest link (`network.routing.fail_links`, its docstring), not floored."""

from __future__ import annotations

import pytest
from flow_toy_fabric import TOY

from infraplan.catalog import load_system
from infraplan.network.routing import build_links, fail_links, parse_failed_links
from infraplan.network.topology import build_topology


@pytest.mark.parametrize(("text", "count"), [("rack:0.3", 154), ("rack:30%", 154), ("rack:0.001", 1),
                                             ("rack:0.0009", 0), ("rack:2", 2)])
def test_a_fraction_of_the_uplinks_is_rounded_to_the_nearest_link(tmp_path, text: str, count: int) -> None:
    """The toy's rack tier has 512 uplinks (32 racks x 16): 0.3 x 512 = 153.6 -> 154; 0.001 x 512 = 0.512 -> 1;
    0.0009 x 512 = 0.46 -> 0; a plain 2 is a count."""
    path = tmp_path / "toy.yaml"
    path.write_text(TOY)
    topo = build_topology(load_system(str(path)))
    tier, amount, fraction = parse_failed_links(text)
    _, failed, total = fail_links(topo, build_links(topo, 1e12, 0.9), tier, amount, seed=3, fraction=fraction)
    assert (failed, total) == (count, 512)


def test_without_saying_which_an_amount_of_one_is_one_link(tmp_path) -> None:
    """`fail_links(..., fraction=None)`: a count when >= 1, so 1.0 is one link of the 512, not all of them."""
    path = tmp_path / "toy.yaml"
    path.write_text(TOY)
    topo = build_topology(load_system(str(path)))
    _, failed, total = fail_links(topo, build_links(topo, 1e12, 0.9), "rack", 1.0, seed=3)
    assert (failed, total) == (1, 512)
