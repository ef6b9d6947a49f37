"""The cost of a single estimate's DP pricing (hP16, session 40): its short cuts give the full path's bits.

A single estimate whose last stage is its first's (the same layers and windows, no MTP module, a table each) prices
that stage's DP exposure once (`step_assembly.assemble_step`: `end_stage_dp_forms` of the same stage twice is its
once), and reads the DP groups of its collectives' key once for its stages (`step_time._dp_key_of`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.training.conftest import dp_stage_grid

from infraplan.training import dp_collectives_memo, dp_exposure, step_assembly, step_time
from infraplan.training.dp_exposure import dp_windows
from infraplan.training.estimate import evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays


def test_a_stage_is_priced_once_a_plan_and_the_grid_rows_keep_their_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 405B under the NeMo recipe (the embedding and the loss counted as layers: its ends alike) over 480
    plans of a 2,048-GPU grid: each single estimate prices no stage's DP exposure twice (the same windows, own
    parameters and counting), some price both ends in one call, and every plan's DP exposure and step time are
    its grid row's bits."""
    shape, cluster, profile, plan = dp_stage_grid("llama3-405b", 2048, "nemo-26.04", 3)
    out = evaluate_plans(shape, cluster, plan, profile)
    wide = np.broadcast_shapes(*(np.shape(getattr(plan, f)) for f in plan.__dataclass_fields__))
    flat = {k: np.broadcast_to(v, wide) for k, v in out.items() if k in ("dp_comm_exposed", "step_time_s")}
    calls: list[tuple[Any, ...]] = []
    real = dp_exposure.end_stage_dp_forms

    def recorded(*args: Any, **kwargs: Any) -> Any:
        own = args[12]  # (its windows: as it reads them, given or from its layers and host time)
        windows = args[13] if len(args) > 13 and args[13] is not None else dp_windows(*args[1:9])
        calls.append((tuple(np.ravel(windows)), bool(args[11]), own[1], own[2], own[5]))
        return real(*args, **kwargs)

    monkeypatch.setattr(step_assembly, "end_stage_dp_forms", recorded)
    both_ends_once = 0
    for z, k, r in np.ndindex(*wide):
        alone = PlanArrays(**{f: np.broadcast_to(getattr(plan, f), wide)[z, k, r][None]
                              for f in plan.__dataclass_fields__})
        calls.clear()
        one = evaluate_plans(shape, cluster, alone, profile)
        counted = [call for call in calls if call[1]]
        assert len(set(counted)) == len(counted), (z, k, r, counted)
        ends = [call for call in counted if call[4] == 1.0]
        both_ends_once += int(len(ends) == 1 and np.all(np.asarray(alone.pp) > 2))
        for key, values in flat.items():
            assert one[key][0] == values[z, k, r], (key, z, k, r)
    assert both_ends_once > 0


def test_the_dp_groups_of_the_collectives_key_are_read_once_an_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The heaviest stage's and the stages' own DP collectives of one plan share the key's plan part (its DP groups,
    PP, ZeRO, the switches), read once; the estimate is the one that reads it per stage."""
    shape, cluster, profile, plan = dp_stage_grid("llama3-405b", 2048, "nemo-26.04", 3)
    alone = PlanArrays(**{f: np.ravel(getattr(plan, f))[:1] for f in plan.__dataclass_fields__})
    reads: list[int] = []
    real = dp_collectives_memo.dp_key_of  # (`step_time`'s since hK58's split, and the memo's own)

    def counted(*args: Any) -> Any:
        reads.append(1)
        return real(*args)

    monkeypatch.setattr(step_time, "dp_key_of", counted)
    monkeypatch.setattr(dp_collectives_memo, "dp_key_of", counted)
    clear_one_plan_memo()  # (the plan and its collectives priced here, not found)
    fast = evaluate_plans(shape, cluster, alone, profile)
    assert len(reads) == 1
    clear_one_plan_memo()
    real_price = dp_collectives_memo.one_plan_dp_collectives
    monkeypatch.setattr(step_time, "one_plan_dp_collectives",
                        lambda *args: real_price(*args[:7]))  # (each stage its own key: the held part left out)
    slow = evaluate_plans(shape, cluster, alone, profile)
    assert len(reads) > 2
    for key in ("dp_comm_exposed", "step_time_s"):
        assert np.array_equal(fast[key], slow[key]), key
