"""Mutation wave hM22 (session 45): which rows `validation.serving_band_reruns` re-runs on each shipped profile, and
how it labels them, on stand-in rows (the campaigns' runs replaced: each stand-in says where its figure came from).

Expectations from the module docstring ("Which rows", hB41 / hV42 / hV45): every MLPerf row is re-run on each
profile (`RERUN_EVERY_ROW`), but a row already on the profile is its own residual, a row on a part the profile does
not run on (vLLM on Intel's Gaudi: its `runs_on`) is left out, and the default stack leaves out a part whose serve
without --stack runs another stack (AMD: vllm-0.x; Gaudi: sglang-0.x). Residuals carry the profile's stack class;
TPOT's residual (a throughput one, `Residual`'s metric default) is measured / predicted - 1 and TTFT's
predicted / measured - 1 (as the sets score them). On the default stack a row the stack refuses is a bug (raised);
another profile leaves it out (an answer refused has no band).
"""

from __future__ import annotations

from typing import Any

import pytest

import infraplan.validation.inference as inference
import infraplan.validation.inference_frontier as inference_frontier
import infraplan.validation.serving_band_reruns as reruns
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK
from infraplan.errors import InputError

CASES = [{"id": "A", "system": "hgx-h200", "stack": "trtllm-0.x"},
         {"id": "B", "system": "hgx-h200", "stack": "vllm-0.x"},
         {"id": "G", "system": "gaudi2-cluster", "stack": "trtllm-0.x"},
         {"id": "M", "system": "mi300x-cluster", "stack": "vllm-0.x"}]
OWN = {"A": 0.1, "B": 0.2, "G": 0.4, "M": 0.3}  # each case's own residual (the frontier report's)
RERUN = 0.5  # what a re-run on another profile returns here


@pytest.fixture
def stand_in_cases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []

    def run(case: dict[str, Any], engine: object, workloads: object, memo: object) -> dict[str, float]:
        ran.append(f"{case['id']} on {case['stack']}")
        return {"error": RERUN}

    monkeypatch.setattr(inference_frontier, "load_frontier_cases",
                        lambda: {"cases": CASES, "engine": {}, "workloads": {}})
    monkeypatch.setattr(inference_frontier, "frontier_report",
                        lambda: {"cases": [{"id": k, "error": v} for k, v in OWN.items()]})
    monkeypatch.setattr(inference, "run_inference_case", run)
    return ran


def _errors(ref: str) -> dict[str, float]:
    return {case["id"]: error for case, error in reruns._mlperf_on(ref)}


def test_each_profile_reruns_the_mlperf_rows_it_runs_and_keeps_its_own(stand_in_cases: list[str]) -> None:
    assert _errors(DEFAULT_SERVING_STACK) == {"A": OWN["A"], "B": RERUN}  # AMD and Gaudi serve on another stack
    assert _errors("vllm-0.x") == {"A": RERUN, "B": OWN["B"], "M": OWN["M"]}  # vLLM does not run on Gaudi
    assert _errors("sglang-0.x") == {"A": RERUN, "B": RERUN, "G": RERUN, "M": RERUN}  # every row, none its own
    assert "B on vllm-0.x" not in stand_in_cases and "A on vllm-0.x" in stand_in_cases


def test_the_other_profiles_mlperf_residuals_carry_their_stack_class(stand_in_cases: list[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reruns, "_hopper_residuals", lambda ref: [])
    found = [(r.id, r.stack, r.residual) for r in reruns.shipped_serving_residuals()]
    assert found == [("A", "vllm", RERUN), ("B", "vllm", OWN["B"]), ("M", "vllm", OWN["M"]),
                     *[(k, "sglang", RERUN) for k in "ABGM"]]


def test_a_hopper_rows_residuals_on_a_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    """Measured TPOT 20 ms against 16 predicted: +25 % (a throughput residual: the predicted rate 1 / 16 ms over the
    measured 1 / 20 ms, less 1); TTFT 150 ms predicted against 100 measured: +50 %."""
    row = {"id": "r", "system": "h100_sxm", "silicon_tpot_ms": "20", "silicon_ttft_ms": "100"}
    monkeypatch.setattr(reruns, "hopper_rows_on", lambda ref: [(row, {"tpot_s": 0.016, "ttft_s": 0.15})])
    found = {(r.metric, r.stack): r.residual for r in reruns._hopper_residuals("vllm-0.x")}
    assert found == pytest.approx({("throughput", "vllm"): 0.25, ("ttft", "vllm"): 0.5})


def test_a_row_the_default_stack_refuses_is_raised_another_profile_leaves_it_out(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from infraplan.validation import serving_blackwell, serving_hopper, serving_hopper_disagg, serving_hopper_moe

    def refuse(row: dict[str, str], ref: str | None = None) -> dict[str, float]:
        raise InputError("a layout it does not serve")

    monkeypatch.setattr(serving_hopper, "load_rows", lambda: [{"id": "r", "backend": "vllm"}])
    monkeypatch.setattr(serving_hopper_moe, "sampled_rows", lambda: ([],))
    monkeypatch.setattr(serving_hopper_disagg, "sampled_rows", lambda: ([],))
    monkeypatch.setattr(serving_blackwell, "sampled_rows", lambda: ([],))  # hB70's rows re-run too
    monkeypatch.setattr(reruns, "dense_row_on_profile", refuse)
    assert reruns.hopper_rows_on("vllm-0.x") == []
    with pytest.raises(InputError, match="a layout it does not serve"):
        reruns.hopper_rows_on(None)


@pytest.mark.parametrize("ref", [None, "vllm-0.x", "sglang-0.x"])
def test_a_shipped_profile_takes_the_profiles_batch_limits_not_the_rows(ref: str | None) -> None:
    """`serve --stack ref` without --max-batch / --token-budget: the profile's offline max batch and token budget,
    no draft tokens, whatever the row's campaign set (here a max batch of 7, a token budget of 12,345
    and 3 drafts); the layout kept."""
    from dataclasses import replace

    from infraplan.serving.engines import load_engine
    from infraplan.validation import serving_hopper

    dep = replace(serving_hopper.row_deployment(serving_hopper.load_rows()[0]), max_batch=7, speculative_tokens=3,
                  token_budget=12345)
    shipped, engine = reruns.shipped_profile(dep, ref), load_engine(ref)
    assert (shipped.max_batch, shipped.token_budget, shipped.speculative_tokens) == (
        engine.offline_max_batch, engine.token_budget, 0)
    assert engine.offline_max_batch != 7 and engine.token_budget != 12345
    assert (shipped.tp, shipped.pp) == (dep.tp, dep.pp)


def _only(monkeypatch: pytest.MonkeyPatch, which: str) -> dict[str, str]:
    """The Hopper sets reduced to the first row of `which` (dense / moe / disagg): that row."""
    from infraplan.validation import serving_blackwell, serving_hopper, serving_hopper_disagg, serving_hopper_moe

    row = {"dense": lambda: serving_hopper.load_rows()[0], "moe": lambda: serving_hopper_moe.sampled_rows()[0][0],
           "disagg": lambda: serving_hopper_disagg.sampled_rows()[0][0]}[which]()
    monkeypatch.setattr(serving_hopper, "load_rows", lambda: [row] if which == "dense" else [])
    monkeypatch.setattr(serving_hopper_moe, "sampled_rows", lambda: ([row] if which == "moe" else [],))
    monkeypatch.setattr(serving_hopper_disagg, "sampled_rows", lambda: ([row] if which == "disagg" else [],))
    monkeypatch.setattr(serving_blackwell, "sampled_rows", lambda: ([],))  # hB70's rows re-run too
    return row


def test_a_moe_rows_client_connections_cap_the_profiles_batch_never_raise_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark client's connections are the measurement's: they cap the profile's max batch (min), so a cap
    above it leaves the profile's own."""
    from infraplan.serving.engines import load_engine
    from infraplan.validation import campaign_settings, serving_hopper

    _only(monkeypatch, "moe")
    batches: list[int] = []

    def run_row(row: dict[str, str], dep: Any, shape: object = None) -> dict[str, float]:
        batches.append(dep.max_batch)
        return {"ttft_s": 1.0, "tpot_s": 0.01}

    monkeypatch.setattr(serving_hopper, "run_row", run_row)
    for cap, want in ((10**6, load_engine(None).offline_max_batch), (3, 3)):
        monkeypatch.setattr(campaign_settings, "client_connections", lambda row, c=cap: c)
        reruns.hopper_rows_on(None)
        assert batches[-1] == want


def test_a_disaggregated_row_that_does_not_fit_the_default_stack_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    import infraplan.serving.serving_sim as serving_sim

    _only(monkeypatch, "disagg")
    monkeypatch.setattr(serving_sim, "simulate_disaggregated",
                        lambda *a, **k: {"fits": False, "why": "its KV cache does not fit"})
    assert reruns.hopper_rows_on("sglang-0.x") == []
    with pytest.raises(ValueError, match="its KV cache does not fit"):
        reruns.hopper_rows_on(None)
