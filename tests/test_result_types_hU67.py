"""Every public function's result type has one documented import home: `infraplan` itself (hU67).

`ServingResult` was importable only from `infraplan.serving.serve_results` (hK66's typed user script said so); each
result class lived in its own domain module. `infraplan.RESULT_TYPES` re-exports them lazily (`import infraplan`
stays cheap: tests/test_imports.py), and docs/python-api.md shows them (its blocks run in
tests/test_python_api_docs_hK66.py).
"""

from __future__ import annotations

import types
import typing
from pathlib import Path

import infraplan

FUNCTIONS = sorted(set(infraplan.__all__) - {"__version__", "Cluster", *infraplan.RESULT_TYPES})


def _classes(annotation: object) -> list[type]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [c for arg in typing.get_args(annotation) for c in _classes(arg)]
    return [annotation] if isinstance(annotation, type) else []


def test_every_functions_result_type_is_exported_from_infraplan() -> None:
    returned = {c for name in FUNCTIONS for c in _classes(typing.get_type_hints(getattr(infraplan, name))["return"])}
    assert {c.__name__ for c in returned} == set(infraplan.RESULT_TYPES) - {"Result"}
    for cls in returned:
        assert getattr(infraplan, cls.__name__) is cls
        assert cls.__name__ in infraplan.__all__
    assert all(issubclass(c, infraplan.Result) for c in returned if c is not infraplan.TransformerShape)


def test_from_infraplan_import_a_result_type() -> None:
    from infraplan import FacilityReport, ServingResult

    assert ServingResult.__module__ == "infraplan.serving.serve_results"
    assert FacilityReport.model_fields["it_power_w"].description


def test_the_api_page_names_each_type() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "python-api.md").read_text()
    assert "## Result types" in page
    assert [t for t in infraplan.RESULT_TYPES if f"`{t}`" not in page] == []
