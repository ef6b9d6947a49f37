"""A plan's image service reads its model as `serve` does (hS63, the twin of hL63's serve fix).

hL63 made `serving.diffusion` refuse an empty model name and keep `None` / "default" for the workload's model. The
plan's up-front preset check still read `svc.model or <workload's model>`: `model: ""` passed the check and was then
refused inside the sizing as "no pool can serve 'imagine' ... unknown diffusion model ''" (a capacity sentence for a
typo), and `model: default`, which the sizing takes, was refused up front as "unknown diffusion model 'default'"."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _spec(model: str | None) -> ScenarioSpec:
    service = {"name": "imagine", "kind": "image", "workload": "image-generation", "images_per_day": "1M",
               "peak_to_average": 1.5, **({} if model is None else {"model": model})}
    return ScenarioSpec.model_validate({
        "name": "img-hS63", "phases": [{"name": "2026", "year": 2026}], "services": [service],
        "pools": [{"name": "h100", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "us",
                   "installed": 64, "available": 64}],
        "sites": [{"name": "us", "power": "100MW", "location": "us-average", "cooling": "air"}]})


def test_an_empty_image_model_is_refused_before_sizing() -> None:
    with pytest.raises(InputError) as refused:
        plan_scenario(_spec(""))
    assert str(refused.value) == "unknown diffusion model ''; known: sd-v1.5-512"  # not "no pool can serve"


def test_default_and_absent_take_the_workloads_model() -> None:
    absent, default = plan_scenario(_spec(None)), plan_scenario(_spec("default"))
    assert absent.model_dump(exclude={"wall_time_s"}) == default.model_dump(exclude={"wall_time_s"})
    assert "sd-v1.5-512, batch <= 16" in default.model_dump()["services"][0]["detail"]  # the model named, not "default"
