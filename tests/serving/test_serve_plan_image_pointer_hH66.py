"""serve-plan's refusal of an image question names where it is answered, and the service it names is read by `plan`.

hH66's walk: "how many accelerators does this image rate need under its SLO" asked of serve-plan got "serve-plan
searches LLM deployments; workload 'image-generation' is diffusion" (no way on), and `serve-plan sd-v1.5-512
--workload chat` got "unknown model 'sd-v1.5-512'; known: ..." (42 LLMs) where `serve` says "sd-v1.5-512 is a
diffusion model".
"""

from __future__ import annotations

import pytest

from infraplan.cli import main
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

POINTER = ("`plan` sizes an image service's accelerators under its p99 SLO (services: {kind: image, workload: "
           "image-generation, rate: R}); `serve` runs one deployment")
WORKLOAD = "serve-plan searches LLM deployments; workload 'image-generation' is diffusion"


@pytest.mark.parametrize(("model", "workload", "first"), [
    ("sd-v1.5-512", "image-generation", WORKLOAD),
    ("llama3-8b", "image-generation", WORKLOAD),
    ("sd-v1.5-512", "chat", "sd-v1.5-512 is a diffusion model; serve-plan searches LLM deployments"),
])
def test_the_refusal_points_to_plan(capsys: pytest.CaptureFixture[str], model: str, workload: str,
                                    first: str) -> None:
    code = main(["serve-plan", model, "--system", "h100-sxm", "--rate", "5", "--workload", workload])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"{first}: {POINTER}" in err and "unknown model" not in err


def test_the_service_it_names_is_sized_by_plan() -> None:
    spec = ScenarioSpec.model_validate({
        "name": "images", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "imagine", "kind": "image", "workload": "image-generation", "rate": 5}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a"}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}]})
    row = next(r for r in plan_scenario(spec).services if r.service == "imagine")
    assert row.devices >= 1 and row.demand_unit == "images/s"
