"""Mutation wave on hN42's / hV42's serving band bases (hM16, session 42): tests that kill the survivors of hand
mutations of `catalog.answer_bands.settings_basis` / `vendor_default_basis` and of the dense serving set's
`stated_concurrency` (hD42).

Rules by hand from their docstrings: only an answer banded by the default serving stack's re-run rows
(trtllm-0.x as shipped) with engine settings of its own says the rows are on their measurements' settings; only an
answer whose stack was chosen by vendor (no --stack) on a stack other than trtllm-0.x says no row is re-run on it.
The clients are stated as `silicon_concurrency=N` in a row's source (serving_hopper.csv), no other count.
"""

from __future__ import annotations

from infraplan.catalog.answer_bands import settings_basis, vendor_default_basis
from infraplan.catalog.error_bands import ErrorBand
from infraplan.validation.serving_row_rules import stated_concurrency, why_not

BAND = ErrorBand(low=-0.2, high=0.3, cases=12, basis="12 serving cases")
CHANGED = ["--max-batch 64 (default 256)"]


def test_changed_settings_are_said_only_on_the_default_stacks_band() -> None:
    """trtllm-0.x with --max-batch 64: the basis says its settings are not the stack's defaults and names the flag;
    vllm-0.x with the same flag likewise (its own re-run rows, hV45); no change: as it was."""
    said = settings_basis(BAND, "trtllm-0.x", CHANGED)
    assert said is not None and said.basis.startswith("12 serving cases; ") and said.basis.endswith(CHANGED[0])
    assert (said.low, said.high, said.cases) == (BAND.low, BAND.high, BAND.cases)
    # vllm-0.x as shipped is banded by its own re-run rows now (hV45): the flag is said, naming its defaults
    vllm = settings_basis(BAND, "vllm-0.x", CHANGED)
    assert vllm is not None and "not vllm-0.x's defaults" in vllm.basis and vllm.basis.endswith(CHANGED[0])
    assert settings_basis(BAND, "trtllm-0.x", []) == BAND
    assert settings_basis(None, "trtllm-0.x", CHANGED) is None


def test_a_vendor_default_is_said_only_where_no_stack_was_asked_and_it_is_not_trtllm() -> None:
    """vllm-0.x taken by default (an AMD part): said, naming vllm-0.x; asked with --stack: as it was; trtllm-0.x by
    default (NVIDIA): as it was."""
    said = vendor_default_basis(BAND, "vllm-0.x", True)
    assert said is not None and "vllm-0.x is the default serving stack on this part's vendor" in said.basis
    assert vendor_default_basis(BAND, "vllm-0.x", False) == BAND
    assert vendor_default_basis(BAND, "trtllm-0.x", True) == BAND


def test_only_silicon_concurrency_states_the_clients() -> None:
    """`silicon_concurrency=48` states 48 clients (two digits read whole); a source with another `...concurrency=`
    count (the engine's own cap) states none, so the row is not scored."""
    assert stated_concurrency({"silicon_data_source": "job 1; silicon_concurrency=48; isl=1000"}) == 48
    row = {"id": "x", "silicon_data_source": "job 1; max_concurrency=64"}
    assert stated_concurrency(row) is None
    assert why_not(row) is not None


def test_serve_plan_names_the_token_budget_it_priced() -> None:
    """serve-plan with --token-budget 32 and a batch cap of 64 on TensorRT-LLM (the H100 default stack): its
    max_num_tokens caps an iteration's sequences, so the deployment priced (and its serve command) runs 32 sequences
    at the 32-token budget asked (hT76; until then the budget was raised to the cap, 64); the band's basis names the
    settings given, as `serve` of the same flags does (hS77: its serve command gives the cap 64, not the 32 run)."""
    from infraplan.serving.capacity import search_capacity

    r = search_capacity("llama3-8b", "dgx-h100-superpod", 2.0, input_len=512, output_len=64, ttft_slo=5.0,
                        tpot_slo=0.1, dtypes=("bf16",), batch_caps=(64,), token_budget=32, requests=200,
                        disaggregation=False)
    assert r.deployment is not None and r.serve_command is not None
    assert r.stack == "trtllm-0.x"
    assert (r.deployment.max_batch, r.deployment.token_budget) == (32, 32)
    assert "--max-batch 64 --token-budget 32 " in r.serve_command  # the cap asked, as `serve` runs it (hS77)
    assert r.error_band is not None and "--max-batch 64 (default 256); --token-budget 32 (default 8192)" in \
        r.error_band.basis


def test_serve_plan_on_amd_without_a_stack_says_its_band_is_not_the_default_stacks() -> None:
    """serve-plan on an MI300X with no --stack prices vllm-0.x (AMD's default): both bands say no row is re-run on
    it as a default answer, as `serve`'s do; asked with --stack vllm-0.x, neither says it."""
    from infraplan.serving.capacity import search_capacity

    kw = dict(input_len=512, output_len=64, ttft_slo=5.0, tpot_slo=0.1, dtypes=("bf16",), batch_caps=(64,),
              requests=200, disaggregation=False)
    said = "vllm-0.x is the default serving stack on this part's vendor"
    r = search_capacity("llama3-8b", "mi300x-cluster", 2.0, **kw)  # type: ignore[arg-type]
    assert r.stack == "vllm-0.x"
    assert r.error_band is not None and said in r.error_band.basis
    assert r.ttft_error_band is not None and said in r.ttft_error_band.basis
    asked = search_capacity("llama3-8b", "mi300x-cluster", 2.0, stack="vllm-0.x", **kw)  # type: ignore[arg-type]
    assert asked.error_band is not None and said not in asked.error_band.basis
