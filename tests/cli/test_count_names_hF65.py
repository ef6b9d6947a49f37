"""A count is named `*_count`; a flag is a flag (hF, session 65; session 64's "Left", API names): `search`'s
`feasible` was a count of plans where `serve-plan`'s `feasible` is a flag, and neither `evaluated` nor `feasible` said
it was a count. Now search's JSON (and the Python result models) give `evaluated_count` / `feasible_count` (a scaling
curve's points too, and its `evaluated_count` over every point), serve-plan's `candidates_evaluated_count`, and
serve-plan's `feasible` stays a boolean."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main
from infraplan.serving.results import ServingPlanResult
from infraplan.training.results import PlanSearchResult, ScalingPoint, ScalingResult


@pytest.mark.parametrize(("model", "counts"), [
    (PlanSearchResult, {"evaluated_count", "feasible_count"}), (ScalingPoint, {"evaluated_count", "feasible_count"}),
    (ScalingResult, {"evaluated_count"}), (ServingPlanResult, {"candidates_evaluated_count"})])
def test_counts_are_named_as_counts(model: type, counts: set[str]):
    fields = model.model_fields
    assert counts <= set(fields), sorted(fields)
    assert not {"evaluated", "candidates_evaluated"} & set(fields)
    assert all("count" in (fields[name].description or "") for name in counts)
    if model is ServingPlanResult:
        assert fields["feasible"].annotation is bool  # the flag
    else:
        assert "feasible" not in fields


def test_search_json_gives_the_counts(capsys: pytest.CaptureFixture[str]):
    code = main(["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "64", "--top", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and not {"evaluated", "feasible"} & set(data)
    assert isinstance(data["evaluated_count"], int) and 0 < data["feasible_count"] <= data["evaluated_count"]
