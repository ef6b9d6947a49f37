"""infraplan: planner and simulator for AI compute infrastructure, from the chip to the gigawatt.

The public Python API is the handful of names below; each is the function the matching CLI command calls:

- ``estimate_training``   one training plan: step time, tokens/s, MFU, memory per GPU (``infraplan train``;
                          ``schedule=`` one of ``training.schedules.PIPELINE_SCHEDULES``, e.g. ``"zb-v"``)
- ``search_plans``        every valid TP/CP/PP/DP/EP plan, ranked (``infraplan search``)
- ``simulate_serving``    LLM serving: simulated TTFT/TPOT/throughput of one deployment (``infraplan serve``)
- ``plan_serving``        fewest accelerators meeting serving SLOs at a request rate (``infraplan serve-plan``;
                          ``stack=`` the serving stack profile)
- ``estimate_recsys``     recommendation-model inference on an accelerator (``infraplan recsys``)
- ``estimate_video``      video transcoding streams per device and fleet size (``infraplan video``)
- ``plan_facility``       data-centre sizing: power, racks, water, cost, carbon (``infraplan facility``)
- ``plan_campus``         fill a power budget with accelerators (``infraplan campus``)
- ``plan_fleet``          which devices serve which inference services, as a MILP (``infraplan fleet-mix``)
- ``plan_scenario``       a scenario file -> devices, racks, sites, MW, capex, TCO, tCO2e (``infraplan plan``)
- ``compare_scenarios``   scenarios side by side with deltas (``infraplan compare``)
- ``run_sweep``           a design-space sweep to resumable Parquet results (``infraplan sweep``)
- ``Cluster``             a system resolved once: accelerator, node, fabric, topology, power layout
- ``load_model``          a model shape from a preset name or an HF ``config.json`` path
- ``run_validation``      every model against the published cases (``infraplan validate``)

Each function returns a typed result (a frozen pydantic model; `--json` prints its `model_dump_json()`), importable
from here as well, e.g. ``from infraplan import ServingResult`` (``RESULT_TYPES``): ``TrainingEstimate``
(estimate_training), ``PlanSearchResult`` (search_plans), ``ServingResult`` or ``ImageServingResult``
(simulate_serving), ``ServingPlanResult`` (plan_serving), ``RecsysEstimate``, ``VideoEstimate``, ``FacilityReport``
(plan_facility), ``CampusPlan``, ``FleetMixResult``, ``ScenarioPlan``, ``ScenarioComparison``, ``SweepRun``,
``ValidationReport``, ``TransformerShape`` (load_model); ``Result`` is the base class of every result.

docs/python-api.md has a runnable example of each. Bad input raises ``infraplan.errors.InputError`` with the one line
the CLI prints (the numbers' bounds: ``infraplan.bounds``, shared with the CLI's options).

Names are imported lazily (PEP 562 module ``__getattr__``), so ``import infraplan`` stays cheap: numpy, scipy
and pydantic load only when a function is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# public name -> "module:attribute"; nothing here is imported until first use.
_LAZY: dict[str, str] = {
    "estimate_training": "infraplan.training.estimate:estimate_training",
    "search_plans": "infraplan.training.search:search_plans",
    "simulate_serving": "infraplan.serving.serving_api:estimate_serving",
    "plan_serving": "infraplan.serving.capacity:search_capacity",
    "estimate_recsys": "infraplan.recsys.estimate:estimate_recsys",
    "estimate_video": "infraplan.video.transcode:estimate_video",
    "plan_facility": "infraplan.facility.facility:size_facility",
    "plan_campus": "infraplan.planning.campus:plan_campus",
    "plan_fleet": "infraplan.planning.fleet_mix:plan_fleet",
    "plan_scenario": "infraplan.planning.scenario:plan_scenario",
    "compare_scenarios": "infraplan.planning.compare:compare_scenarios",
    "run_sweep": "infraplan.sweep.runner:run_sweep",
    "Cluster": "infraplan.cluster.cluster:Cluster",
    "load_model": "infraplan.catalog.loader:load_model",
    "run_validation": "infraplan.validation.runner:run_validation",
}
# the public functions' result types, from the module that defines each (their one public import home, hU67)
RESULT_TYPES: dict[str, str] = {
    "Result": "infraplan.results:Result",
    "TrainingEstimate": "infraplan.training.results:TrainingEstimate",
    "PlanSearchResult": "infraplan.training.results:PlanSearchResult",
    "ServingResult": "infraplan.serving.serve_results:ServingResult",
    "ImageServingResult": "infraplan.serving.results:ImageServingResult",
    "ServingPlanResult": "infraplan.serving.results:ServingPlanResult",
    "RecsysEstimate": "infraplan.recsys.results:RecsysEstimate",
    "VideoEstimate": "infraplan.video.results:VideoEstimate",
    "FacilityReport": "infraplan.facility.results:FacilityReport",
    "CampusPlan": "infraplan.planning.results:CampusPlan",
    "FleetMixResult": "infraplan.planning.fleet_mix_results:FleetMixResult",
    "ScenarioPlan": "infraplan.planning.scenario_results:ScenarioPlan",
    "ScenarioComparison": "infraplan.planning.scenario_results:ScenarioComparison",
    "SweepRun": "infraplan.sweep.results:SweepRun",
    "ValidationReport": "infraplan.validation.results:ValidationReport",
    "TransformerShape": "infraplan.catalog.transformer_shape:TransformerShape",
}
_LAZY.update(RESULT_TYPES)

__all__ = [
    "Cluster", "__version__", "compare_scenarios", "estimate_recsys", "estimate_training", "estimate_video",
    "load_model", "plan_campus", "plan_facility", "plan_fleet", "plan_scenario", "plan_serving", "run_sweep",
    "run_validation", "search_plans", "simulate_serving",
    # the result types (RESULT_TYPES)
    "CampusPlan", "FacilityReport", "FleetMixResult", "ImageServingResult", "PlanSearchResult", "RecsysEstimate",
    "Result", "ScenarioComparison", "ScenarioPlan", "ServingPlanResult", "ServingResult", "SweepRun",
    "TrainingEstimate", "TransformerShape", "ValidationReport", "VideoEstimate",
]

if TYPE_CHECKING:  # static checkers see the real objects; at run time they load on first access
    from infraplan.catalog.loader import load_model
    from infraplan.catalog.transformer_shape import TransformerShape
    from infraplan.cluster.cluster import Cluster
    from infraplan.facility.facility import size_facility as plan_facility
    from infraplan.facility.results import FacilityReport
    from infraplan.planning.campus import plan_campus
    from infraplan.planning.compare import compare_scenarios
    from infraplan.planning.fleet_mix import plan_fleet
    from infraplan.planning.fleet_mix_results import FleetMixResult
    from infraplan.planning.results import CampusPlan
    from infraplan.planning.scenario import plan_scenario
    from infraplan.planning.scenario_results import ScenarioComparison, ScenarioPlan
    from infraplan.recsys.estimate import estimate_recsys
    from infraplan.recsys.results import RecsysEstimate
    from infraplan.results import Result
    from infraplan.serving.capacity import search_capacity as plan_serving
    from infraplan.serving.results import ImageServingResult, ServingPlanResult
    from infraplan.serving.serve_results import ServingResult
    from infraplan.serving.serving_api import estimate_serving as simulate_serving
    from infraplan.sweep.results import SweepRun
    from infraplan.sweep.runner import run_sweep
    from infraplan.training.estimate import estimate_training
    from infraplan.training.results import PlanSearchResult, TrainingEstimate
    from infraplan.training.search import search_plans
    from infraplan.validation.results import ValidationReport
    from infraplan.validation.runner import run_validation
    from infraplan.video.results import VideoEstimate
    from infraplan.video.transcode import estimate_video


def __getattr__(name: str) -> Any:
    """Import a public name on first access and cache it in the module namespace."""
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'infraplan' has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
