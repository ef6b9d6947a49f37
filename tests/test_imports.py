"""The package surface and its import graph: a cheap `import infraplan`, the public API, no import cycles."""

from __future__ import annotations

import subprocess
import sys

import grimp
import networkx as nx
import pytest

import infraplan

# Explicit on purpose: adding or removing a public name is a decision this list records.
PUBLIC_API = ["Cluster", "compare_scenarios", "estimate_recsys", "estimate_training", "estimate_video", "load_model",
              "plan_campus", "plan_facility", "plan_fleet", "plan_scenario", "plan_serving", "run_sweep",
              "run_validation", "search_plans", "simulate_serving"]
RESULT_TYPES = ["CampusPlan", "FacilityReport", "FleetMixResult", "ImageServingResult", "PlanSearchResult",  # (hU67)
                "RecsysEstimate", "Result", "ScenarioComparison", "ScenarioPlan", "ServingPlanResult", "ServingResult",
                "SweepRun", "TrainingEstimate", "TransformerShape", "ValidationReport", "VideoEstimate"]
HEAVY = ("numpy", "scipy", "pydantic", "networkx", "plotly", "typer", "rich", "yaml")


def test_import_infraplan_loads_no_model_code():
    code = "import sys, infraplan; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "infraplan" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]
    assert not [m for m in loaded if m.startswith("infraplan.")]


def test_all_is_the_public_api_and_dir_shows_it():
    assert sorted(infraplan.__all__) == sorted(["__version__", *PUBLIC_API, *RESULT_TYPES])
    assert sorted(infraplan._LAZY) == sorted([*PUBLIC_API, *RESULT_TYPES])  # every public name has a lazy target
    assert sorted(infraplan.RESULT_TYPES) == sorted(RESULT_TYPES)
    assert set(infraplan.__all__) <= set(dir(infraplan))


@pytest.mark.parametrize("name", PUBLIC_API + RESULT_TYPES)
def test_public_name_imports(name):
    value = getattr(infraplan, name)
    assert callable(value)
    assert value.__name__ in infraplan._LAZY[name]  # the object the table names, not a stand-in
    assert vars(infraplan)[name] is value  # cached after the first access


def test_aliases_are_the_domain_functions():
    from infraplan.facility.facility import size_facility
    from infraplan.serving.serving_api import estimate_serving

    assert infraplan.plan_facility is size_facility
    assert infraplan.simulate_serving is estimate_serving


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = infraplan.no_such_thing  # type: ignore[attr-defined]
    assert not hasattr(infraplan, "estimate_everything")


def _module_cycles(package: str) -> list[list[str]]:
    """Import cycles among the package's modules (its facade `__init__.py` itself is left out)."""
    graph = grimp.build_graph(package, cache_dir=None)
    digraph = nx.DiGraph()
    for module in graph.modules:
        if module == package:
            continue
        digraph.add_node(module)
        digraph.add_edges_from((module, imported) for imported in graph.find_modules_directly_imported_by(module)
                               if imported != package)
    return sorted(sorted(c) for c in nx.strongly_connected_components(digraph) if len(c) > 1)


def test_no_import_cycles_between_modules():
    assert _module_cycles("infraplan") == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    """The check is not vacuous: a two-module cycle in a throwaway package is found."""
    package = tmp_path / "cyclepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclepkg import b\n")
    (package / "b.py").write_text("from cyclepkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _module_cycles("cyclepkg") == [["cyclepkg.a", "cyclepkg.b"]]
