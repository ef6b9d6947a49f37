"""Review of session 43's landed diff (hR43): spare trays `auto` on a one-server instance, and the one USD/MWh
electricity type the web's fields share with location files.

A one-server instance (a recsys engine of one device) needs no partner tray in its NVLink domain, so no count of
spare trays holds any (`facility.outage.held_trays` is 0 for r = 1): every count of 0 .. T - 1 gives the same
spares. `auto` named "0, of 0 .. 17 the one with the fewest spare servers" as if it had chosen, after 18 equal
counts; it now tries 0 alone and says why. The web's `electricity_price` had its own copy of the USD/kWh-slip rule
(`web.request_fields._no_kwh_slip`, the same as `limits._usd_per_mwh`); it is now `limits.ElectricityUsdPerMwh`,
which refuses NaN as not finite (it read "less than or equal to 1000000" for a location file).
"""

from __future__ import annotations

import math

import pytest
from pydantic import TypeAdapter, ValidationError

from infraplan.facility.outage import held_trays
from infraplan.limits import ElectricityUsdPerMwh
from infraplan.planning.spares import DEFAULT_REPAIR_S, Instance, spare_nodes
from infraplan.web.request_fields import UsdPerMwh

ONE = Instance(1, "recsys service ranking's engine of one device")


def _gb200(trays: int | str, instance: Instance = ONE):  # type: ignore[no-untyped-def]
    return spare_nodes(16384, 4, "gb200", 0.99, DEFAULT_REPAIR_S, domain_devices=72, spare_trays=trays,
                       instance=instance)


def test_auto_on_a_one_server_instance_tries_zero_alone_and_says_why() -> None:
    assert [held_trays(18, 1, k) for k in range(18)] == [0] * 18  # the premise: no count holds a tray
    auto = _gb200("auto")
    assert auto.tray_choices == (0,)
    assert auto.spare_nodes == _gb200(0).spare_nodes == _gb200(17).spare_nodes
    assert "spare_trays_per_domain auto: 0, a one-server instance holds no spare tray at any count" in auto.rate_basis
    assert "of 0 .. 17" not in auto.rate_basis


def test_auto_on_a_replica_of_two_trays_still_tries_every_count() -> None:
    """TP8 on 4-GPU trays: r = 2, held trays differ by count (outage.held_trays), so auto weighs 0 .. 17."""
    auto = _gb200("auto", Instance(8, "TP8 replica"))
    assert auto.tray_choices == tuple(range(18))
    assert auto.spare_nodes == min(_gb200(k, Instance(8, "TP8 replica")).spare_nodes for k in range(18))


def test_the_web_field_is_the_limits_type() -> None:
    # the limits type under the CLI's --electricity-price rule (hC49: `limits.read_electricity_price`, one rule)
    limits = ElectricityUsdPerMwh.__metadata__  # type: ignore[attr-defined]
    assert UsdPerMwh.__metadata__[:len(limits)] == limits  # type: ignore[attr-defined]
    field = TypeAdapter(UsdPerMwh)
    assert field.validate_python(0) == 0 and field.validate_python(70) == 70  # 0: energy left out of the money
    with pytest.raises(ValidationError, match="USD/kWh"):
        field.validate_python(0.07)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValidationError, match="finite number"):
            field.validate_python(bad)
