"""hQ59 (session 59's before-stop read): the "why this EP" line's second search (`training.ep_choice`) runs only for
an answer that carries the line. A scaling curve's points (`ScalingResult` keeps no `ep_choice`), a campus sizing's
best (`scenario_sizing._training_point`) and a validation case's best read the best plan alone, yet each point ran a
second search over the other EP kind (mixtral-8x7b on dgx-b200 at 64, 128, 256 GPUs, the curve: 0.17-0.29 s with
it, 0.13-0.14 s without). Checked failing at the session's HEAD: a 2-point `search` ran 4 grid searches, the sizing
2."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.cli.main import main
from infraplan.planning import scenario_sizing
from infraplan.training import search as search_module

MIXTRAL = ["search", "mixtral-8x7b", "--system", "dgx-b200", "--seq-len", "4096", "--global-batch", "256"]


@pytest.fixture
def grids(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """One entry per grid search run (`search._search_grid`)."""
    seen: list[Any] = []
    real = search_module._search_grid

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(search_module, "_search_grid", spy)
    return seen


def test_one_count_still_runs_the_lines_second_search(grids: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*MIXTRAL, "--gpus", "64", "--top", "1", "--dtype", "bf16", "--json"]) == 0
    assert "\"ep_choice\": \"why EP " in capsys.readouterr().out
    assert len(grids) == 2  # the answer's and the other EP kind's alone


def test_a_scaling_curve_runs_one_grid_search_a_point(grids: list[Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*MIXTRAL, "--gpus", "64,128", "--top", "1", "--dtype", "bf16", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"scaling"' in out and "ep_choice" not in out
    assert len(grids) == 2


def test_a_campus_sizing_point_runs_one_grid_search(grids: list[Any]) -> None:
    point = scenario_sizing._training_point("mixtral-8x7b", "b200", "dgx-b200", 64, 4096, 256, "bf16", None, 1e12)
    assert point is not None and " EP" in point.plan
    assert len(grids) == 1
