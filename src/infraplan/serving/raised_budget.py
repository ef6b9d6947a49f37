"""What a `--max-batch` above the stack's default token budget does, said per engine (hL75; hS76 for TensorRT-LLM and
SGLang).

`ServingEngine.budget_of` raises a default budget to the batch cap where the stack's budget holds the decode batch's
tokens too and the engine would not start otherwise (`deployment.check_deployment` refuses a given budget below the
cap). A given budget below the cap: TensorRT-LLM runs it as its default, the iteration capped (`iteration_batch`),
vLLM is refused, in `serve` and `serve-plan` alike (hT76; one rule, `deployment.budget_refusal`, hD77). Each
engine's own:

- vLLM refuses to start with max_num_seqs above max_num_batched_tokens: `SchedulerConfig.verify_max_model_len`
  raises "max_num_batched_tokens (...) must be greater than or equal to max_num_seqs (...)" (vllm 0.12.0
  vllm/config/scheduler.py:262-267, read in the sdist; its defaults, 8192 / 1024 for the API server on a >= 70 GiB
  GPU, vllm/engine/arg_utils.py:1966-2023, lower a defaulted max_num_seqs to the budget, never raise the budget):
  the deployment priced is the one a launch giving --max-num-batched-tokens of the cap runs.
- TensorRT-LLM's max_num_tokens (8192, BuildConfig / LLM API default; NVIDIA Dynamo's TensorRT-LLM worker takes
  its --max-num-tokens default from `BuildConfig.model_fields["max_num_tokens"].default`, ai-dynamo 0.8.1
  dynamo/trtllm/utils/trtllm_utils.py:45, :191) caps each iteration's tokens, and a generating sequence's count:
  its micro-batch scheduler walks the active requests in order and stops where the next one's tokens (beam width +
  draft tokens for a generating one) would pass max_num_tokens (RECALLED from the C++ MicroBatchScheduler, not read
  here: PyPI holds only a stub sdist of tensorrt-llm 1.2.1, its wheels sit on NVIDIA's own index). So with no
  budget given (hS76; toggle `engines.TRTLLM_TOKEN_CAP`) a batch cap above max_num_tokens // (1 + drafts) runs that
  many sequences an iteration (`iteration_batch`): the rest of the admitted requests wait, their prompts too (the
  running sequences' tokens come first in the walk), which prices as a batch cap of that many, the rest waiting in
  the queue (TensorRT-LLM's capacity scheduler also holds their KV; the KV binding below that cap prices the same).
  Until hS76 the budget was raised to the cap, the launch giving --max_num_tokens of it.
- SGLang's chunked_prefill_size caps a prefill batch (its PrefillAdder's `rem_chunk_tokens`), not the decode batch
  (max_running_requests; mixed chunks off by default): the budget stays the chunk (`engines.chunk_budget`, hS76);
  until then it was raised to the cap, a prefill chunk as long as the batch cap (ASSUMPTION of hL75).
"""

from __future__ import annotations

from infraplan.errors import InputError
from infraplan.serving import deployment
from infraplan.serving.engines import ServingEngine, chunk_budget, deployed_budget, token_cap

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


def iteration_batch(engine: str, max_batch: int, budget: int, given: int | None, drafts: int = 0) -> int:
    """The sequences one iteration of the engine runs at batch cap `max_batch` and token budget `budget`: TensorRT-LLM
    (`engines.token_cap`) schedules at most budget // (1 + `drafts`) generating sequences, each a token and its draft
    tokens (module docstring), at its default max_num_tokens and at a given one (`given`, the budget: hT76; until
    then `serve` refused a given budget below the cap and `serve-plan` raised it to the cap); else the cap."""
    if not token_cap(engine):
        return max_batch
    return min(max_batch, max(1, (budget if given is None else given) // (1 + drafts)))


def run_deployment(engine: ServingEngine, given: int | None, memory_bytes: float, attention_dp: int, max_batch: int,
                   drafts: int = 0) -> tuple[int, int]:
    """(the sequences an iteration runs, the token budget) of a deployment at batch cap `max_batch` as `serve` runs it
    (`serving_api.estimate_serving`): one rank's budget (`ServingEngine.budget_of`), TensorRT-LLM's default capping the
    iteration's sequences (`iteration_batch`), then `engines.deployed_budget`. `serve-plan` prices its candidates and
    its whole runs by it (hV76: it ran the cap at a raised budget, `serve` of its own `serve_command` the capped
    batch). A given budget below the batch it runs is refused as `serve` refuses it (`deployment.budget_refusal`:
    vLLM; TensorRT-LLM's given budget caps the iteration instead, SGLang's a prefill chunk)."""
    budget = engine.budget_of(given, memory_bytes, attention_dp)
    run = iteration_batch(engine.engine, max_batch, budget, given, drafts)
    if given is not None and (refused := deployment.budget_refusal(engine.engine, given, run)):  # as `serve`
        raise InputError(refused)
    return run, deployed_budget(engine.engine, budget, run)


def deployment_budget_note(engine: ServingEngine, given: int | None, memory_bytes: float, attention_dp: int,
                           max_batch: int, drafts: int = 0) -> str | None:
    """`raised_budget_note` of a deployment at batch cap `max_batch` (the cap asked, not the batch an iteration runs)
    and token budget `given` (None: the stack's default on the part, one attention-DP rank's): the one line `serve`
    says and `serve-plan` says of its answer, whose `serve_command` reruns it with the same flags (hS77)."""
    return raised_budget_note(engine.engine, engine.ref, engine.budget_on(memory_bytes, attention_dp), max_batch, given,
                              drafts=drafts)


def raised_budget_note(engine: str, stack: str, default_budget: int, max_batch: int, given: int | None,
                       pool: str = "", drafts: int = 0) -> str | None:
    """One line where a default budget (`given` None) was raised to the batch cap (`ServingEngine.budget_of`), or
    caps the sequences an iteration runs (`iteration_batch`), in the engine's own words (module docstring), or where
    TensorRT-LLM's given budget caps them (hT76); None where another budget was given, the cap is within the
    default, or the budget caps a prefill chunk alone (SGLang)."""
    run = iteration_batch(engine, max_batch, default_budget, given, drafts)
    if given is not None and run < max_batch:  # TensorRT-LLM at a given max_num_tokens (hT76)
        per = f" (1 + {drafts} draft tokens each)" if drafts else ""
        return (f"{pool}--token-budget {given:,} holds {run:,} of --max-batch {max_batch:,} generating sequences"
                f"{per}: TensorRT-LLM's micro-batch scheduler stops where the next one's tokens would pass "
                f"max_num_tokens (RECALLED, not read here), so {run:,} sequences run an iteration and the rest wait, "
                f"priced as a batch of {run:,}")
    if given is not None or chunk_budget(engine):
        return None
    if run < max_batch:
        per = f" (1 + {drafts} draft tokens each)" if drafts else ""
        return (f"{pool}--max-batch {max_batch:,} is above what {stack}'s default max_num_tokens of "
                f"{default_budget:,} tokens an iteration holds{per}: TensorRT-LLM's micro-batch scheduler stops where "
                f"the next generating sequence's tokens would pass it (RECALLED, not read here), so {run:,} sequences "
                f"run an iteration and the rest wait, priced as a batch of {run:,}; a launch giving --max_num_tokens "
                f"{max_batch * (1 + drafts)} runs them all (`serve --token-budget` prices it)")
    if max_batch <= default_budget or token_cap(engine):
        return None
    why, flag = ENGINE_RULES.get(engine, ("an iteration holds one token of each running sequence", "its budget"))
    return (f"{pool}--max-batch {max_batch:,} is above {stack}'s default token budget of {default_budget:,} "
            f"tokens an iteration: priced at a budget of {max_batch:,}, as a launch giving {flag} {max_batch} runs "
            f"it; {why}; `serve --token-budget` prices another")
