"""The min cut of a built folded Clos between two halves of its endpoints (`clos_topology.ClosTopology.bisection_of`).

A bisection is the least capacity any cut between two equal halves of the endpoints crosses. On a tree of domains
(each tier's switches over whole domains of the tier below, balanced wiring) the least cut keeps as many domains
whole on one side as it can: the endpoints are split packed, the first half (A) from the first domain on, the rest
(B) after it. Each domain's switches of one tier act as one vertex: every lower switch of the domain has the same
links to each of them (balanced wiring), and where they are split into planes every plane carries the same share
(a rail leaf takes the same NIC of every node, so every plane sees the same A and B), so a cut puts all of them on
one side. The least cut between A and B is then exact by recursion, bottom up: a domain whose switches sit on
side S pays, for each child domain, the cheaper of putting the child's switches on S (its own cut) or on the other
side (its own cut plus the child's uplinks). At the leaves, a NIC link of an endpoint on the other side is cut.

The old figure (half the endpoints' NICs, bounded at every tier below the top by the uplinks of half the domains,
`occupied // 2`) missed the half domain of an odd count: 728 A100 in 5 pods of 160 reported 8 TB/s (2 pods'
uplinks), where the cut through the middle pod crosses 2.5 pods' worth (10 TB/s of 800 GPUs' fabric, as the same
switches in 10 pods of 80 gave; hI68). The tests check it against networkx's max flow on the built graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

Run = tuple[int, Fraction]  # (children, endpoints each child holds), in packing order


@dataclass(frozen=True)
class Level:
    """One tier's domain: its children (level 0: endpoints, `runs` unused) and its uplinks' capacity (0: top)."""

    runs: tuple[Run, ...]
    up_bytes_per_s: float


def packed_cut(levels: Sequence[Level], endpoint_bytes_per_s: float, a: Fraction, b: Fraction) -> float:
    """Least capacity between the first `a` endpoints and the next `b` (packed from the first domain) of the fabric
    whose domains `levels` describe bottom up, the last the top's one domain; an endpoint's link runs at
    `endpoint_bytes_per_s`. Fractions: half of an odd count splits a node's links (its GPUs' share of its NICs)."""
    memo: dict[tuple[int, Fraction, Fraction], tuple[float, float]] = {}

    def cost(level: int, a: Fraction, b: Fraction) -> tuple[float, float]:
        """(cut with this domain's switches on A, on B) inside a domain holding `a` A and `b` B endpoints."""
        if level == 0:
            return float(b) * endpoint_bytes_per_s, float(a) * endpoint_bytes_per_s
        key = (level, a, b)
        if key not in memo:
            up = levels[level - 1].up_bytes_per_s
            on_a = on_b = 0.0
            for count, (ca, cb) in _children(levels[level].runs, a, b):
                child_a, child_b = cost(level - 1, ca, cb)
                on_a += count * min(child_a, child_b + up)
                on_b += count * min(child_b, child_a + up)
            memo[key] = (on_a, on_b)
        return memo[key]

    return min(cost(len(levels) - 1, a, b))


def _children(runs: tuple[Run, ...], a: Fraction, b: Fraction) -> list[tuple[int, tuple[Fraction, Fraction]]]:
    """The children's contents, packed (A first, then B, then idle), as (how many, (A, B)) for equal neighbours."""
    out: list[tuple[int, tuple[Fraction, Fraction]]] = []
    for count, size in runs:
        left = count
        while left and (a or b):
            if a >= size or (not a and b >= size):  # whole children of one side
                take = min(left, int((a or b) // size))
                out.append((take, (size, Fraction(0)) if a else (Fraction(0), size)))
                a, b = (a - take * size, b) if a else (a, b - take * size)
            else:  # the one child that holds the end of A (and B's start), or B's end
                ca = min(a, size)
                cb = min(b, size - ca)
                out.append((1, (ca, cb)))
                a, b, take = a - ca, b - cb, 1
            left -= take
    return out
