"""What a sweep can call besides the typed API functions, and what it refuses to: the CLI commands that have no typed
API function of plain values, as sweep functions (`collective`, `facility`, `campus`, registered in
`sweep.functions.FUNCTIONS`), and the check that an open 'package.module:function' path names a function whose
source declares a typed result (`source_refusal`). (sweep/command_functions.py and sweep/function_source.py until
session 62, hS.)

The commands: each takes the CLI's option names with underscores and reads human units as the CLI does (`bytes`
'1GiB', `rack_power` '40kW', `power` '1GW', `electricity_price` '70/MWh' or '0.07/kWh' through
`limits.read_electricity_price`), then calls the API function behind the command (`network.collective_schedules.
estimate_collective`, `facility.facility.size_facility`, `planning.campus.plan_campus`): one answer from the CLI,
the API, the web and a sweep (tests/consistency/test_api_cli_web_one_answer_hC70.py). Imports are inside each
function, so a worker loads only what it runs.

The source check reads the module's source without importing it or its packages (importing runs the module's
top-level code, which a refused path must not do). `sweep.functions.resolve_callable` asks it before it imports a
path, and checks the annotation again once imported.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from typing import Any

from infraplan.errors import InputError
from infraplan.results import Result
from infraplan.units import parse_bytes


def collective(op: str, system: str, gpus: int, bytes: float | str, placement: str = "packed",  # noqa: A002
               algorithm: str = "auto", sim: str = "analytical", flows_per_pair: int | None = None,
               seed: int | None = None, failed_links: str | None = None, fabric: str | None = None,
               sharp: bool = False) -> Result:
    """`infraplan collective` as a function of plain values (`bytes`: a number or '1GiB'), with its options."""
    from dataclasses import replace

    from infraplan.cluster import Cluster
    from infraplan.network.collective_schedules import estimate_collective
    from infraplan.network.rail_leaves import with_fabric
    from infraplan.planning.training_run import network_with_zone_note
    size = parse_bytes(bytes) if isinstance(bytes, str) else float(bytes)
    cluster = sized = Cluster.resolve(system).for_gpus(int(gpus))  # as the CLI's `collective` (its command module)
    if fabric is not None:
        cluster = replace(cluster, system=with_fabric(cluster.system, fabric))
    # the sweep gives its spec's seed to every function taking one (`functions._call_one`): the analytical model
    # draws nothing, so it is not passed there (`estimate_collective` refuses a seed given to it, as the CLI's --seed)
    return network_with_zone_note(estimate_collective(
        op, cluster, int(gpus), size, placement=placement, algorithm=algorithm, sim=sim, flows_per_pair=flows_per_pair,
        seed=seed if sim == "flow" else None, failed_links=failed_links, sharp=sharp), sized, fabric, system)


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


_MAX_HOPS = 8
"""Re-exports (`from .impl import run`) followed when a path's function is looked for in the source."""


def _module_source(module_name: str) -> tuple[str, str, bool] | str:
    """(file, text, is_package) of a module's Python source, found without importing it or its packages; or
    why there is none."""
    parts = module_name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name: found, not imported
        for depth in range(1, len(parts)):
            if spec is None or spec.submodule_search_locations is None:
                break
            parent = sys.modules.get(".".join(parts[:depth]))
            paths = list(getattr(parent, "__path__", None) or spec.submodule_search_locations)
            spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth + 1]), paths)
    except (ImportError, ValueError, AttributeError):
        spec = None
    if spec is None or spec.name != module_name:
        return f"no module {module_name!r} found"
    if not isinstance(spec.origin, str) or not spec.origin.endswith(".py"):
        return f"module {module_name!r} has no Python source to read it from"
    try:
        return spec.origin, Path(spec.origin).read_text(encoding="utf-8"), spec.submodule_search_locations is not None
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {spec.origin} ({type(exc).__name__})"


def source_refusal(name: str, module_name: str, attribute: str, hops: int = 0) -> str | None:
    """Why the source of `module:attribute` is not a function declaring its result (None: it is one), read
    without importing anything: importing a module runs its top-level code, which a refused path must not do
    (a module that deletes files on import was imported, then refused for its missing annotation)."""
    found = _module_source(module_name)
    if isinstance(found, str):
        return f"sweep function {name!r} does not declare a typed result: {found}"
    origin, text, package = found
    try:
        tree = ast.parse(text, filename=origin)
    except (SyntaxError, ValueError) as exc:
        return f"sweep function {name!r}: cannot read {origin} ({type(exc).__name__})"
    binding: ast.stmt | None = None
    imported: tuple[str, str] | None = None
    stars: list[str] = []
    for node in tree.body:  # the last top-level binding of the name wins, as at import
        targets: list[str] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            targets = [node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            nodes = node.targets if isinstance(node, ast.Assign) else [node.target]
            targets = [n.id for t in nodes for n in ast.walk(t) if isinstance(n, ast.Name)]
        elif isinstance(node, ast.Import):
            targets = [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module_name.split(".") if package else module_name.split(".")[:-1]
                parts = parts[:len(parts) - node.level + 1] if node.level > 1 else parts
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                if alias.name == "*":
                    stars.append(base)
                elif (alias.asname or alias.name) == attribute:
                    binding, imported = node, (base, alias.name)
        if attribute in targets:
            binding, imported = node, None
    if binding is None:
        for star in stars if hops < _MAX_HOPS else []:
            if source_refusal(name, star, attribute, hops + 1) is None:
                return None
        return f"sweep function {name!r}: module {module_name!r} defines no function {attribute!r}"
    if imported is not None:
        if hops >= _MAX_HOPS:
            return f"sweep function {name!r}: {attribute!r} is re-exported more than {_MAX_HOPS} times"
        return source_refusal(name, imported[0], imported[1], hops + 1)
    if not isinstance(binding, ast.FunctionDef):
        kind = "an async function" if isinstance(binding, ast.AsyncFunctionDef) else \
            "a class, no readable signature of a function" if isinstance(binding, ast.ClassDef) else \
            "not a function defined with `def`"
        return (f"sweep function {name!r} is {kind} ({origin}:{binding.lineno}): a sweep runs a function "
                "annotated `-> R` where R subclasses infraplan.results.Result")
    if binding.returns is None:
        return (f"sweep function {name!r} does not declare a typed result ({origin}:{binding.lineno}): a sweep "
                "runs a function annotated `-> R` where R subclasses infraplan.results.Result")
    return None
