"""hM73's mutation wave on session 73's serving code: a prefill pool's default token budget raised to its batch cap,
a bool refused as a layout field, and SGLang's start ratio capped at 1 whatever the conservativeness."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving import engines
from infraplan.serving.capacity_candidate import candidate_for
from infraplan.serving.capacity_layouts import own_prefill
from infraplan.serving.disaggregated import PrefillLayout, decode_first_token_s
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.output_reserve import OutputReserve
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_api import estimate_serving


def test_a_prefill_pools_default_budget_is_raised_to_its_batch_cap_a_given_one_is_kept(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SGLang on H200 (8,192-token chunk tier) with the prefill pool at attention DP 8: 8,192 // 8 = 1,024 a rank,
    below its --prefill-max-batch 2,048. hS76: SGLang's chunk caps a prefill batch alone (`engines.chunk_budget`), so
    it stays 1,024; with that rule off the default is raised to 2,048 (`split_pools`, as `ServingEngine.budget_of`:
    an iteration holds one token of each running sequence within its budget); the decode pool keeps its 1,024."""
    args = {"attention_dp": 8, "dtype": "fp8", "prefill_gpus": 8, "input_len": 2000, "output_len": 100,
            "rate": 2.0, "requests": 20, "stack": "sglang-0.x"}
    layout = {"tp": 1, "attention_dp": 8, "max_batch": 2048}
    chunk = estimate_serving("deepseek-v3", "hgx-h200", 16, **args, prefill=layout).deployment
    assert (chunk.prefill.token_budget, chunk.prefill.max_batch, chunk.decode.token_budget) == (1024, 2048, 1024)
    monkeypatch.setattr(engines, "SGLANG_CHUNK_BUDGET", False)
    raised = estimate_serving("deepseek-v3", "hgx-h200", 16, **args, prefill=layout).deployment
    assert (raised.prefill.token_budget, raised.decode.token_budget) == (2048, 1024)
    kept = estimate_serving("deepseek-v3", "hgx-h200", 16, **args,
                            prefill={**layout, "max_batch": 512}).deployment
    assert kept.prefill.token_budget == 1024  # 8,192 // 8, above its cap of 512: not raised


@pytest.mark.parametrize("field", ["tp", "token_budget"])
def test_a_bool_is_no_whole_number_for_a_layout_field(field: str) -> None:
    """YAML's `prefill_tp: true` is a bool, an int subclass in Python: refused, not run as TP 1."""
    with pytest.raises(InputError, match=f"{field} True is not"):
        PrefillLayout.read({field: True})


def test_the_start_ratio_is_capped_at_one_whatever_the_conservativeness() -> None:
    """SGLang's scheduler: init_new_token_ratio = min(SGLANG_INIT_NEW_TOKEN_RATIO (0.7) x schedule_conservativeness,
    1.0), min ratio = init x 0.14 (scheduler.py:811-823, as `output_reserve` cites): at conservativeness 2 the start
    is 1.0 (not 1.4) and the floor 0.14 after the 600 decay batches."""
    reserve = OutputReserve([0], [10], 1.0, 16, 2.0)
    assert reserve.ratio() == pytest.approx(1.0)
    assert reserve.ratio(300) == pytest.approx(1.0 - 300 * (1.0 - 0.14) / 600)
    assert reserve.ratio(600) == pytest.approx(0.14) and reserve.ratio(5000) == pytest.approx(0.14)


def test_serve_plans_own_prefill_candidates_run_their_own_ranks_budget() -> None:
    """serve-plan's prefill layouts of their own (`capacity_layouts.own_prefill`) beside an attention-DP 8 SGLang
    decode pool on H200 (8,192-token chunk tier, // dp_size a rank: 1,024 there): the TP8 prefill candidate is probed
    at 8,192 a rank, the attention-DP 8 (MoE TP) ones at 1,024, as `serve --prefill-tp` runs them (hG73's
    `prefill_budget`), not at the decode pool's 1,024 for all."""
    cluster = Cluster.resolve("hgx-h200")
    shape, acc, fabric = load_model("deepseek-v3"), cluster.accelerator, cluster.fabric
    sample = build_requests(None, None, 8000, 500, 64, None, 0)
    dep = Deployment(tp=1, ep=8, attention_dp=8, dtype="fp8", kv_dtype="fp8", max_batch=64, stack="sglang-0.x",
                     token_budget=1024)
    found = own_prefill(shape, acc, fabric, dep, candidate_for(shape, acc, fabric, dep, sample), sample)
    budgets = {(f["prefill_tp"], f["prefill_attention_dp"], f["prefill_moe_tp"]): c.dep.token_budget
               for f, c in found}
    assert budgets == {(8, 1, 1): 8192, (1, 8, 2): 1024, (1, 8, 4): 1024, (1, 8, 8): 1024}


def test_a_given_prefill_token_budget_is_a_changed_engine_setting_of_the_answer() -> None:
    """`serve --prefill-token-budget 4096` beside a TP8 SGLang prefill pool on H200 (its default 8,192): the answer's
    error band says the engine settings are not the stack's defaults and names the flag; at the default it does not
    (`changed_engine_settings`' `prefill`, hG73)."""
    args = {"attention_dp": 8, "dtype": "fp8", "prefill_gpus": 8, "input_len": 2000, "output_len": 100,
            "rate": 2.0, "requests": 20, "stack": "sglang-0.x"}
    given = estimate_serving("deepseek-v3", "hgx-h200", 16, **args, prefill={"tp": 8, "token_budget": 4096})
    plain = estimate_serving("deepseek-v3", "hgx-h200", 16, **args, prefill={"tp": 8})
    assert given.error_band is not None and plain.error_band is not None
    assert "--prefill-token-budget 4096 (default 8192)" in given.error_band.basis
    assert "--prefill-token-budget" not in plain.error_band.basis


@pytest.mark.parametrize(("steps", "finish", "first"), [
    (1, 1.5, 1.5),   # its one decode step's token is its first and its last: it leaves at the finish
    (4, 3.0, 1.5),   # 1.0 + one pick-up iteration of its (3.0 - 1.0) / 4 = 0.5 s mean step
])
def test_the_decode_side_first_token_is_one_mean_step_after_the_kv(steps: int, finish: float, first: float) -> None:
    got = decode_first_token_s(np.array([0.9]), np.array([1.0]), np.array([finish]), np.array([steps]),
                               np.array([steps + 1]), pickup_iterations=1.0)
    assert got == pytest.approx([first], rel=1e-12)
