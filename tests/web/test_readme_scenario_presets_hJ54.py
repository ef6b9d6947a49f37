"""README ("Web app", Scenarios) names the presets `GET /api/scenarios` lists: every shipped example that validates as
a scenario (`web.scenarios.example_specs`). hJ, session 54: hV54 shipped examples/plan-refresh.yaml, which the
endpoint listed while the README still named four presets (this test failed on bc3ff52's README)."""

from __future__ import annotations

import re

from tests.user_docs import doc_path

from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.web.scenarios import example_specs

README = doc_path("web")  # "Web app", docs/web.md (hM64)


def test_the_readme_names_every_scenario_preset_the_web_lists() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    said = re.search(r"listed by `GET /api/scenarios`: ((?:`[a-z0-9-]+`(?:, )?)+)\)", text)
    assert said, "README no longer lists the scenario presets"
    assert sorted(re.findall(r"`([a-z0-9-]+)`", said.group(1))) == sorted(example_specs(ScenarioSpec, "scenario"))
