"""hD (session 77): one rule for the scale-up domain a placed group reads, priced and said.

`training.plan_notes.tp_crossing_notes` computed gcd(unit, block) itself while the pricing read it from
`network.fabric.group_domain`; both now call `network.fabric.placed_domain`, so a change of that rule moves the
priced group and the note together (base: the note kept its own gcd, so the patched rule below moved the pricing
alone and `test_a_changed_rule_moves_both` failed on it).
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

import infraplan.network.fabric as network_fabric
from infraplan.cluster import Cluster
from infraplan.network.fabric import group_domain
from infraplan.training.plan_notes import tp_crossing_notes

BASE = Cluster.resolve("dgx-h100-superpod").fabric
GRID = [(tp, unit, domain, cp) for domain in (4, 8, 72) for unit in (0, 4, 6, 8, 20, 24, 64, 72)
        for tp in (1, 2, 3, 4, 6, 8) for cp in (1, 2, 3, 4)]


def _priced(tp: int, unit: int, domain: int, cp: int) -> list[tuple[str, int, int]]:
    """(group, n, its members a domain) of each inner group the pricing takes across a domain edge, in the note's
    scope: a block within one domain, a TP group above one rank, at least one CP member a side."""
    fabric = dataclasses.replace(BASE, placement_unit=unit, scale_up_domain=domain)
    crossed = []
    for name, n, stride in (("TP", tp, 1), ("CP", cp, tp)):
        d_g = float(group_domain(fabric, float(n), float(stride)))
        if n > 1 and n * stride <= domain and n * stride > d_g and math.floor(d_g / stride) >= 1:
            crossed.append((name, n, math.floor(d_g / stride)))
    return crossed


def _said(tp: int, unit: int, domain: int, cp: int) -> list[tuple[str, int, int]]:
    found = []
    for note in tp_crossing_notes(tp, unit, domain, "GPU", cp):
        m = re.match(r"(TP|CP) (\d+)\b.* with (\d+) of their ranks on one side", note)
        assert m, note
        found.append((m[1], int(m[2]), int(m[3])))
    return found


def test_note_and_pricing_agree_on_a_grid() -> None:
    crossing = 0
    for case in GRID:
        assert _said(*case) == _priced(*case), case
        crossing += bool(_priced(*case))
    assert 50 < crossing < len(GRID) - 50  # both kinds of case are on the grid


def test_a_changed_rule_moves_both(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule where a block up to the unit never crosses: TP 6 on 8-GPU units is then inside, priced and said."""
    assert _said(6, 8, 8, 1) == _priced(6, 8, 8, 1) == [("TP", 6, 2)]
    old = network_fabric.placed_domain
    monkeypatch.setattr(network_fabric, "placed_domain",
                        lambda unit, block, domain: block if unit > 0 and block <= unit else old(unit, block, domain))
    assert _said(6, 8, 8, 1) == _priced(6, 8, 8, 1) == []
    assert _said(6, 4, 8, 1) == _priced(6, 4, 8, 1) == [("TP", 6, 2)]  # beyond the unit: the gcd still
