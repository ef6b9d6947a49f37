"""Mutation wave 17 (hM17, session 43): spare trays held for instances smaller than the domain (hL44;
facility/outage.py `held_trays`, planning/spares.py), on cases the landed tests left open.

GB200 NVL72: 18 trays of 4 GPUs in one NVLink domain. With no spare tray asked (k = 0) an instance of r trays keeps
hF43's count whatever the remainder 18 mod r: whole instances pooled over the pool, which is the count of a pool whose
scale-up domain is the instance itself (TP16: r = 4, 18 = 4 x 4 + 2; TP20: r = 5, 18 = 3 x 5 + 3; nothing is held
for the 2 or 3 trays no instance fills, since no replica is formed again inside a domain). With k = 2 and TP8
(r = 2): 18 - 2 = 16 trays hold 8 replicas exactly, so the 2 held are the 2 asked and nothing over.
"""

from __future__ import annotations

import pytest

from infraplan.facility.outage import held_trays
from infraplan.planning.spares import DEFAULT_REPAIR_S, Instance, Spares, spare_nodes


def _gb200(spare_trays: int, instance: int, domain: int = 72) -> Spares:
    return spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=domain, spare_trays=spare_trays,
                       instance=Instance(instance, f"TP{instance}"))


@pytest.mark.parametrize(("blast", "one_asked"), [(4, 2), (5, 3), (7, 4)])
def test_no_spare_tray_asked_holds_nothing_whatever_the_remainder(blast: int, one_asked: int) -> None:
    """k = 1 by hand: 17 trays hold 4 x 4, 3 x 5 or 2 x 7 trays of instances, so 2, 3 or 4 are held; k = 0 holds
    none of the 2, 3 or 4 trays 18 leaves over (18 = 4 x 4 + 2 = 3 x 5 + 3 = 2 x 7 + 4)."""
    assert held_trays(18, blast, 0) == 0
    assert held_trays(18, blast, 1) == one_asked


@pytest.mark.parametrize("instance", [16, 20])
def test_no_spare_tray_is_the_instance_domain_count_for_a_remainder(instance: int) -> None:
    got, own = _gb200(0, instance), _gb200(0, instance, domain=instance)
    assert got.spare_trays_per_domain == 0 and got.blast_trays == instance // 4
    assert (got.spare_nodes, got.spare_units, got.expected_nodes_down) == (own.spare_nodes, own.spare_units,
                                                                          own.expected_nodes_down)


def test_spare_trays_that_fill_the_domain_exactly_are_the_ones_asked() -> None:
    two = _gb200(2, 8)
    assert (two.blast_trays, two.spare_trays_per_domain) == (2, 2)
    assert "2 servers held free in each domain (the 2 asked; spare_trays_per_domain, ASSUMPTION [U])" in two.rate_basis
    assert "no instance fills" not in two.rate_basis and "at most" not in two.rate_basis


def test_one_tray_held_beside_instances_on_a_smaller_domain() -> None:
    """GB200 NVL36 (9 trays of 4): k = 1 leaves 8 trays, 4 TP8 replicas fill them, so 1 tray is held: a held tray,
    and said so, not the whole-instance rule with k 'not applying'."""
    one = _gb200(1, 8, domain=36)
    assert (one.domain_trays, one.blast_trays, one.spare_trays_per_domain) == (9, 2, 1)
    assert "held free in each domain (the 1 asked;" in one.rate_basis and "does not apply" not in one.rate_basis


def test_one_held_server_is_said_in_the_singular() -> None:
    from infraplan.planning.spares import _held_basis

    assert _held_basis(1, 1).startswith("1 server held free in each domain")
    assert _held_basis(2, 2).startswith("2 servers held free in each domain")
