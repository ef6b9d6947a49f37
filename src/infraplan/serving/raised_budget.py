"""What a `--max-batch` above the stack's default token budget does to the budget priced, said per engine (hL75).

`ServingEngine.budget_of` raises a default budget to the batch cap (an iteration holds one token of each running
sequence within its budget; `deployment.check_deployment` refuses a given budget below the cap). That was said
nowhere, and the rule was SGLang's alone though it applied on every stack. Each engine's own:

- vLLM refuses to start with max_num_seqs above max_num_batched_tokens: `SchedulerConfig.verify_max_model_len`
  raises "max_num_batched_tokens (...) must be greater than or equal to max_num_seqs (...)" (vllm 0.12.0
  vllm/config/scheduler.py:262-267, read in the sdist; its defaults, 8192 / 1024 for the API server on a >= 70 GiB
  GPU, vllm/engine/arg_utils.py:1966-2023, lower a defaulted max_num_seqs to the budget, never raise the budget):
  the deployment priced is the one a launch giving --max-num-batched-tokens of the cap runs.
- TensorRT-LLM's max_num_tokens (8192, BuildConfig / LLM API default) caps each iteration's tokens, a generating
  sequence's one included, so at the default an iteration holds at most max_num_tokens of the max_batch_size
  sequences (its micro-batch scheduler, RECALLED, not read here: no TensorRT-LLM source in reach): the deployment
  priced is the one launched with --max_num_tokens of the cap.
- SGLang's chunked_prefill_size caps a prefill chunk, not the decode batch (max_running_requests; mixed chunks off by
  default): its decode runs the batch cap at the default chunk; the one budget here lets a prefill chunk grow to the
  cap too (ASSUMPTION: one budget for both).
"""

from __future__ import annotations

ENGINE_RULES = {
    "vllm": ("vLLM refuses to start with max_num_seqs above max_num_batched_tokens (vllm 0.12.0 "
             "config/scheduler.py:262-267)", "--max-num-batched-tokens"),
    "trtllm": ("TensorRT-LLM's max_num_tokens caps each iteration's tokens, a generating sequence's one included: "
               "at its default an iteration would run at most that many of the batch (its micro-batch scheduler, "
               "RECALLED, not read here)", "--max_num_tokens"),
    "sglang": ("SGLang's chunked_prefill_size caps a prefill chunk, not the decode batch (max_running_requests): "
               "ASSUMPTION: one budget for both, a prefill chunk as long as the batch cap",
               "--chunked-prefill-size"),
}


def raised_budget_note(engine: str, stack: str, default_budget: int, max_batch: int, given: int | None,
                       pool: str = "") -> str | None:
    """One line where a default budget (`given` None) was raised to the batch cap (`ServingEngine.budget_of`), in
    the engine's own words (module docstring); None where a budget was given or the cap is within the default."""
    if given is not None or max_batch <= default_budget:
        return None
    why, flag = ENGINE_RULES.get(engine, ("an iteration holds one token of each running sequence", "its budget"))
    return (f"{pool}--max-batch {max_batch:,} is above {stack}'s default token budget of {default_budget:,} "
            f"tokens an iteration: priced at a budget of {max_batch:,}, as a launch giving {flag} {max_batch} runs "
            f"it; {why}; --token-budget prices another")
