"""Shared helpers of the serving tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import capacity, release_tables, routed_experts
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

BodyOf = Callable[[str, str, bool, int, str], np.ndarray]
TpotOnOff = Callable[[dict[str, str]], tuple[float, float]]


@pytest.fixture
def moe_body(monkeypatch: pytest.MonkeyPatch) -> BodyOf:
    """`body(model, stack, on, tp, dtype)`: the iteration body (seconds by tokens, 8,192-token budget) of `model` on
    one H200 replica at TP `tp`, with the `serving.routed_experts` switch the test names (`moe_body.switch`) on
    or off: the toggle of one kernel rule, everything else the same."""

    def body(model: str, stack: str, on: bool, tp: int, dtype: str) -> np.ndarray:
        monkeypatch.setattr(routed_experts, body.switch, on)  # type: ignore[attr-defined]
        cluster = Cluster.resolve("hgx-h200")
        dep = Deployment(tp=tp, dtype=dtype, engine=stack.split("-")[0], stack=stack, token_budget=8192)
        return build_iteration_cost(load_model(model), cluster.accelerator, cluster.fabric, dep).body_s

    return body


def count_probes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A one-item list counting the capacity search's probes (`Candidate._meets_now` calls) from now on; a test reads
    it, and resets it with `probes[0] = 0`."""
    probes = [0]
    meets_now = capacity.Candidate._meets_now

    def counted(self, *a):  # type: ignore[no-untyped-def]
        probes[0] += 1
        return meets_now(self, *a)

    monkeypatch.setattr(capacity.Candidate, "_meets_now", counted)
    return probes


@pytest.fixture
def release_all_reduce_tpot(monkeypatch: pytest.MonkeyPatch) -> TpotOnOff:
    """`tpot(row)`: a Hopper validation row's predicted TPOT (s) with its release's measured all-reduce table, then
    without (`release_tables.RELEASE_ALL_REDUCE` off), the row-cost cache emptied after each run."""
    from infraplan.validation import serving_hopper  # (only these tests run validation rows)

    def tpot(row: dict[str, str]) -> tuple[float, float]:
        on = serving_hopper.run_row(row)["tpot_s"]
        monkeypatch.setattr(release_tables, "RELEASE_ALL_REDUCE", False)
        serving_hopper._COSTS.clear()
        off = serving_hopper.run_row(row)["tpot_s"]
        serving_hopper._COSTS.clear()
        return on, off

    return tpot
