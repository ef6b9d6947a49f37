"""Mutation wave hM22 (session 45): `cluster.power.idle_power` takes a catalogued idle figure of 0 W as given.

The catalog's `idle_power_w` is a power of at least 0 W (`catalog.file_checks.Watts`, ge=0); the 10 %-of-TDP default
is only for a part whose file gives no idle figure (None), so a stated 0 W is the catalog's, not the default.
"""

from __future__ import annotations

from infraplan.catalog import load_accelerator
from infraplan.cluster.power import accelerator_power_w, idle_power


def test_a_catalogued_zero_idle_is_the_catalogs() -> None:
    part = load_accelerator("h100-sxm").model_copy(update={"idle_power_w": 0.0, "idle_power_source": "a datasheet"})
    idle = idle_power(part)
    assert (idle.watts, idle.rule) == (0.0, "catalog")
    assert float(accelerator_power_w(part, 0.5)) == 0.5 * part.tdp_w  # linear from 0 W to TDP
