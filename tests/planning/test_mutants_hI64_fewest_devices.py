"""hI64 mutation wave on hR63's `scenario_caps.fewest_devices` (each pool's units re-chosen at the fewest devices
covering its share), by hand on small option sets (devices and capacities written out), through `trim_idle`, its
entry point (hB64, b3a623e9, replaced `fewest_devices` by `planning.fixed_servers`; these answers hold under both),
against the rules stated and the programme they must keep feasible (planning/phased_mix.py: a whole option, an LLM
deployment or a training job, is binary, `var_ub` 1; a later pool's share at most the demand the earlier ones
leave)."""

from __future__ import annotations

import numpy as np

from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_caps import trim_idle
from infraplan.planning.scenario_spec import ScenarioSpec

# pool 0: a whole 8-device unit for 20/s, units of 2 devices at 10/3 each; pool 1: a whole 12-device unit for 10,
# units of 4 devices at 2.5 each
OPTIONS = [MixOption(0, 0, 0, 20.0, 8, True), MixOption(0, 0, 0, 10.0 / 3, 2, False),
           MixOption(0, 1, 0, 10.0, 12, True), MixOption(0, 1, 0, 2.5, 4, False)]
DEMAND = np.array([[20.0]])


def test_the_second_pool_covers_what_the_first_leaves_not_what_it_was_given() -> None:
    """19.9/s: pool 0's three units of 10/3 (10, 6 devices) and pool 1's four units of 2.5 (10, 16 devices), 0.1 over
    the demand (less than any unit: nothing to trim). Pool 1 is left 9.9, which a whole unit of 9.9 covers with 12
    devices; its full 10 would need that unit and one more (16)."""
    options = [*OPTIONS[:2], MixOption(0, 1, 0, 9.9, 12, True), OPTIONS[3]]
    assert trim_idle(options, np.array([0, 3, 0, 4]), np.array([[19.9]])).tolist() == [0, 3, 1, 0]


def test_a_pool_left_nothing_by_the_earlier_ones_keeps_no_units() -> None:
    """Pool 0's six units of 10/3 cover the 20 alone (re-chosen as its whole unit, 8 devices); pool 1's two units
    serve none of the demand and are dropped."""
    assert trim_idle(OPTIONS, np.array([0, 6, 0, 2]), DEMAND).tolist() == [1, 0, 0, 0]


def test_a_whole_option_stays_one_unit() -> None:
    """40/s on pool 0 alone: its whole unit once (20) and six units of 10/3 (20), 20 devices; two whole units would be
    16 devices but a whole option is binary in the programme."""
    pool0 = OPTIONS[:2]
    got = trim_idle(pool0, np.array([1, 6]), np.array([[40.0]]))
    assert got.tolist() == [1, 6]


def test_seven_units_of_1_71_cover_11_97() -> None:
    """7 x 1.71 = 11.97 exactly in decimal (the MILP and `trim_idle` count a demand met within 1e-9 of it); in binary
    floating point 7 * 1.71 is 11.969999999999999: 7 units of 2 devices (14), not 8 (16)."""
    options = [MixOption(0, 0, 0, 1.71, 2, False), MixOption(0, 0, 0, 1.71, 5, False)]
    assert 7 * 1.71 < 11.97
    assert trim_idle(options, np.array([5, 2]), np.array([[11.97]])).tolist() == [7, 0]


def test_idle_devices_are_neither_used_nor_spares() -> None:
    """A pool row's devices are the services' devices, the spare nodes' and the idle rest (ScenarioPoolRow's
    `idle_devices`: "devices in service that no service uses and that are not spares"): 5 M QPS of dlrm-high on
    H100 with spare nodes at p = 0.999."""
    spec = ScenarioSpec.model_validate({
        "name": "spared", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-high", "latency_slo": "20ms", "qps": "5M"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s", "price_usd_per_device": 42_000}],
        "sites": [{"name": "s", "power": "20MW", "location": "us-average"}],
        "policy": {"objective": "tco", "spare_probability": 0.999}})
    plan = plan_scenario(spec)
    (row,) = plan.pools
    used = sum(s.devices for s in plan.services)
    assert row.spare_devices > 0 and row.devices % 8 == 0
    assert row.idle_devices == row.devices - used - row.spare_devices
