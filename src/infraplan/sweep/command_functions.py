"""The CLI commands that have no typed API function of plain values, as the sweep's functions: `collective`,
`facility` and `campus` (registered in `sweep.functions.FUNCTIONS`).

Each takes the CLI's option names with underscores and reads human units as the CLI does (`bytes` '1GiB',
`rack_power` '40kW', `power` '1GW', `electricity_price` '70/MWh' or '0.07/kWh' through
`limits.read_electricity_price`), then calls the API function behind the command (`network.collective_schedules.
estimate_collective`, `facility.facility.size_facility`, `planning.campus.plan_campus`): one answer from the CLI,
the API, the web and a sweep (tests/consistency/test_api_cli_web_one_answer_hC70.py). Imports are inside each
function, so a worker loads only what it runs.
"""

from __future__ import annotations

from typing import Any

from infraplan.errors import InputError
from infraplan.results import Result
from infraplan.units import parse_bytes


def collective(op: str, system: str, gpus: int, bytes: float | str, placement: str = "packed",  # noqa: A002
               algorithm: str = "auto", sim: str = "analytical", flows_per_pair: int | None = None,
               seed: int = 0, failed_links: str | None = None, fabric: str | None = None,
               sharp: bool = False) -> Result:
    """`infraplan collective` as a function of plain values (`bytes`: a number or '1GiB'), with its options."""
    from dataclasses import replace

    from infraplan.cluster import Cluster
    from infraplan.network.collective_schedules import estimate_collective
    from infraplan.network.rail_leaves import with_fabric
    size = parse_bytes(bytes) if isinstance(bytes, str) else float(bytes)
    cluster = Cluster.resolve(system).for_gpus(int(gpus))  # as the CLI's `collective` (cli/commands/collective.py)
    if fabric is not None:
        cluster = replace(cluster, system=with_fabric(cluster.system, fabric))
    return estimate_collective(op, cluster, int(gpus), size, placement=placement, algorithm=algorithm, sim=sim,
                               flows_per_pair=flows_per_pair, seed=seed, failed_links=failed_links, sharp=sharp)


def read_usd_per_mwh(value: float | str) -> float:
    """`electricity_price` in USD/MWh, read as the CLI's --electricity-price (`limits.read_electricity_price`)."""
    import warnings

    from infraplan.limits import ElectricityPriceWarning, read_electricity_price

    price, warning = read_electricity_price(value, "electricity_price")
    if warning is not None:
        warnings.warn_explicit(warning, ElectricityPriceWarning, __file__, 0, module=__name__)
    return price


def _overrides(costs: str | None, pue: float | None, electricity_price: float | str | None,
               server_price: float | None) -> Any:
    """`--costs` with the price options of `facility` and `campus` on top, as the CLI merges them (the electricity
    price read as the CLI reads it, `read_usd_per_mwh`)."""
    from infraplan.cluster.cost import load_cost_overrides

    price = None if electricity_price is None else read_usd_per_mwh(electricity_price)
    return load_cost_overrides(costs).merged(pue=pue, electricity_usd_per_mwh=price,
                                             server_usd_per_accelerator=server_price)


def read_watts(value: float | str | None, name: str) -> float | None:
    from infraplan.units import parse_power_w

    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    if value.strip().startswith("-"):
        raise InputError(f"{name} must be positive, got {value}")
    return float(parse_power_w(value))


def facility(system: str | None = None, accelerator: str | None = None, count: int | None = None,
             cooling: str | None = None, location: str | None = None, build_type: str | None = None,
             rack_power: float | str | None = None, pue: float | None = None,
             electricity_price: float | str | None = None, server_price: float | None = None,
             costs: str | None = None) -> Result:
    """`infraplan facility` as a function (`rack_power` in W or '40kW'; `electricity_price` '70/MWh' or '0.07/kWh',
    a bare number USD/MWh; `server_price` $ per accelerator)."""
    from infraplan.facility.facility import size_facility

    overrides = _overrides(costs, pue, electricity_price, server_price)
    return size_facility(system=system, accelerator=accelerator, count=count, cooling=cooling, location=location,
                         build_type=build_type, rack_power_w=read_watts(rack_power, "rack_power"), overrides=overrides)


def campus(power: float | str, accelerator: str, cooling: str | None = None, phases: str | None = None,
           location: str | None = None, build_type: str | None = None, pue: float | None = None,
           electricity_price: float | str | None = None, server_price: float | None = None,
           costs: str | None = None, reserve: float = 0.0) -> Result:
    """`infraplan campus` as a function (`power` in W or '1GW'; `electricity_price` '70/MWh' or '0.07/kWh', a bare
    number USD/MWh; `reserve` the share of the budget kept unbuilt)."""
    from infraplan.planning.campus import plan_campus

    overrides = _overrides(costs, pue, electricity_price, server_price)
    watts = float(read_watts(power, "power") or 0.0)
    return plan_campus(watts, accelerator, cooling, phases, location, build_type, overrides, reserve=reserve)
