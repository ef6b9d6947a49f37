"""serve-plan's search keeps each candidate's engine tables for all its probes (`loop_stepping.kept_cost_tables`).

hH66 put `image_sizing` between `search_capacity` and its decorator: the helper took the scope and the search ran
without it, every probe rebuilding its engine's cost tables (hR66's before-stop read)."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.serving import capacity, capacity_answer
from infraplan.serving.loop_stepping import tables_kept


def test_the_search_runs_inside_the_table_keeping_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def stop(model: str) -> None:  # the search's first model step: record the scope, then stop the search
        seen.append(tables_kept())
        raise InputError("stopped")

    monkeypatch.setattr(capacity, "load_model", stop)
    with pytest.raises(InputError, match="stopped"):
        capacity.search_capacity("llama3-8b", "hgx-h100", 1.0, input_len=512, output_len=128, ttft_slo=2.0,
                                 tpot_slo=0.05)
    assert seen == [True]
    assert not tables_kept()  # closed again after the search
    assert capacity_answer.image_sizing("image-generation").startswith(": `plan` sizes")  # (hL76's split)
