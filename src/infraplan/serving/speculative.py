"""Speculative decoding (MTP / EAGLE drafts) in a serving iteration: the verification, the draft steps, the draft
layer over the prompt.

Tokens per step (`speculative_tokens` K > 0, per-token `acceptance` R; `serving.deployment.Deployment.tokens_per_step`):
Leviathan et al., ICML'23 (arXiv:2211.17192, eq. 1): with i.i.d. acceptance a step emits (1 - R^(K+1)) / (1 - R)
tokens on average (1 + R for one draft token: DeepSeek-V3's MTP accepts the second token 85-90 % of the time,
arXiv:2412.19437 sec. 5.4.3, 1.8x tokens/s).

A decode step (`decode_head`, the head table of `serving.llm_iteration` indexed by the decode rows r):
* verification: 1 + K tokens per row through every layer of the target and its LM head (body[r (1 + K)] + head[r (1 +
  K)] in place of body[r] + head[r]); the cache is read once per row and layer for all of them (FlashMLA folds the query
  tokens into its head dimension, recalled; the MLA decode FLOPs and the measured per-row term count the queries:
  `serving.mla_decode.decode_terms`, `serving.mla_absorb`);
* the draft: K steps of one transformer layer plus the shared LM head (DeepSeek-V3 MTP module, sec. 2.2: an h x 2h
  projection of [RMSNorm(h); RMSNorm(Emb)], one block, the shared head; EAGLE, Li et al. 2024, the same shape). The
  FIRST draft step runs over every verified position of the row, r (1 + K) tokens (`DRAFT_OVER_VERIFIED`): the module
  extends the last accepted token, known only after the verification, so an engine feeds it all 1 + K positions at
  fixed shapes (TensorRT-LLM's MTP worker: recalled, its source is not readable here); NVIDIA AIConfigurator prices
  the MTP layers the same way, its generation ops over num_layers + nextn layers (aiconfigurator-core 0.12.0
  sdk/models/helpers.py:1033-1042 `mtp_scale_factor`) at the decode batch x (nextn + 1) (rust_engine_step.py:484-485,
  :545, :659; aiconfigurator 0.7.0, readable, sdk/backends/base_backend.py:111-112 `batch_size = batch_size *
  (model._nextn + 1)` before every generation op).
  Further draft steps (K > 1) run one token per row; each draft step samples its row on the LM head (head[r]).
  The draft layer reads its own cache once per draft step (`llm_iteration`: kv_layers = layers + K).
  Its attention op is a target layer's (vLLM 0.12.0 deepseek_mtp.py:73-94: the `mtp_block` is a
  DeepseekV2DecoderLayer; SGLang 0.5.6 deepseek_nextn.py:109-117 the same; the proposer / EAGLE worker runs it
  through the engine's attention backend, vLLM v1/spec_decode/eagle.py:327, :411, SGLang eagle_worker.py:303-306,
  :615-624), so each draft forward pays a target layer's decode attention fixed time (`decode_fixed_s` over
  kv_layers: the measured fit's fixed term, or the roofline's launches of the op and its pre-processing / append
  kernels, `serving.decode_kernels.attention_terms`), and the draft layer over the prompt a prefill layer's
  (`prefill_fixed_s` over prompt_layers; hC63: it was one launch a draft step, and none over the prompt).
These per-row costs go into the head table: exact for decode-only iterations; in a mixed iteration the verification
tokens are priced at the marginal body cost of a pure-decode batch.

The prompt (`prompt_token_s`, `prompt_layers`; `DRAFT_OVER_PROMPT`): the draft layer keeps a KV cache of its own
over every position, so the prefill runs it over every prompt token once (DeepSeek-V3 sec. 2.2, eq. 21-22: the MTP
module combines h_i and Emb(t_{i+1}) for every position i, its block causal over them; SGLang's EAGLE worker runs the
draft model's "draft extend" over the prompt after the target's prefill; TensorRT-LLM gives its context engine the MTP
layers' KV pools, get_num_spec_layers(spec_config), so a disaggregated prefill worker needs the speculative config
too: aiconfigurator 0.12.0 generator/rule_plugin/trtllm.rule:44-52). Priced as one more layer of (query, key) pairs
and the draft layer's marginal per-token body time at the token budget (the layer's weight read is paid by the decode
steps' draft anyway): a 1 / layers share of the prefill (1.6 % for DeepSeek-V3's 61 layers). AIConfigurator scales
only its generation ops by the MTP layers (sdk/models/deepseek.py `_mtp_scale_factor`), not its context ops.
LIMITATION: the disaggregated prefill pool runs without drafts (`serving.serving_sim`), so it omits this pass.

A request's cache (`CONTEXT_GROWTH`, `context_growth`, `draft_slots`): a step appends the tokens it emits, T =
`tokens_per_step` in expectation, to the sequence's KV cache; the rejected drafts' slots are written by the
verification and rolled back (vLLM 0.12.0 v1/core/sched/scheduler.py:1082-1099: num_computed_tokens -= num_rejected,
the step's tokens 1 + num_accepted; SGLang 0.5.8.post1 srt/speculative/eagle_info.py:420 kv_committed_len +=
num_accepted, :436-449 the rejected drafts' slots freed, :520 seq_lens += accept_length + 1; TensorRT-LLM's source is
not readable here; AIConfigurator 0.12.0 counts 1 + (OSL - 1) / T iterations a request, aiconfigurator-core
sdk/backends/base_backend.py:1211). So the engine loops (`serving.fcfs_loop`, `serving.engine_loop`) grow a decoding
sequence's cached tokens by T a step (the model is deterministic: the expected value; its step s reads ctx + T (s -
1)), a request still takes `Deployment.decode_steps` = ceil((OSL - 1) / T) steps, and its KV reservation holds the
slots of its last verification: ctx + T (steps - 1) + 1 + K written, + 1 as a plain request's prompt + output
(`loop_stepping.request_tokens`; vLLM allocates num_computed + new + K lookahead slots a step,
v1/core/kv_cache_manager.py:272-275); `serving_sim.fit_check` refuses a request whose reservation would pass the
cache (`reserved_past_output`). LIMITATION: under on-demand KV admission (`serving.engine_loop`) a decoding
sequence still takes its blocks one token a step (its block residues, preemption and recompute count steps); the
cached-token read grows by T there too.
The memory (`DRAFT_MEMORY`, `memory_draft_layers`): the draft module is resident beside the target: its weights
(one layer of the model's first kind and the h x 2h projection; the embedding and LM head shared with the target:
SGLang 0.5.9 speculative/eagle_worker.py:157, :183 `set_embed_and_head`; `serving.kv_cache.draft_layer_bytes`) and
its own KV cache over every pooled token (one more layer). TensorRT-LLM sizes its pool after the model, MTP layers
included, loads and splits it over the target's and get_num_spec_layers' extra layers (aiconfigurator 0.12.0
generator/rule_plugin/trtllm.rule:44-52), so both come out of the pool (vLLM's drafter too: weights under
gpu_memory_utilization, its layers in the KV cache spec; recalled). SGLang sizes the target's pool over its own
layers and weights, the draft runner's cache holds as many tokens outside it, and the fraction reserves 2 GiB more
for the draft (0.5.9 model_runner_kv_cache_mixin.py:124-146, :402-412; server_args.py:1051-1057:
`serving.sglang_memory.mem_fraction_static`, `drafts`). DeepSeek-R1 fp8 at TP8: ~1.4 GiB of weights a GPU and
1 / 61 more bytes a token (TensorRT-LLM: B200 pool 2.62 -> 2.54 M tokens, H200 1.56 -> 1.50 M). Effect (session 50,
hM87, validation/notes/serving_blackwell_tried.md): no scored drafting row has its pool bind; none moves.
Not modelled: the MTP sampler's acceptance kernels (one launch per draft step).

Effect (toggles, one tree, every row of the MoE / MLA set, repeats once; the only set with drafting rows: the 19
scored rows of the 2026-01-14 TensorRT-LLM campaign, `validation.campaign_settings`; notes round 22):
* both off (the earlier pricing: draft over one token a row, no prompt pass): 15.232 % (TTFT 21.39, TPOT 9.07); TP8
  rows (14) TPOT mean |error| 0.066 (median -0.053), TTFT 0.633; attention-DP8 rows (5) TPOT 0.248 (-0.253);
* `DRAFT_OVER_VERIFIED` alone 15.230 % (TP8 TPOT median -0.050); `DRAFT_OVER_PROMPT` alone 15.219 % (TTFT 21.37);
* both on: 15.218 % (TTFT 21.37, TPOT 9.06); TP8 TPOT 0.065 (-0.049), TTFT 0.628 (-0.708); attention-DP8 TPOT 0.242
  (-0.250), TTFT 0.734. Dense Hopper, disaggregated and the other `validate` sets hold no drafting row: unchanged.
* `CONTEXT_GROWTH` (round 23, on top): 14.876 -> 14.883 % (TTFT 20.727 -> 20.726, TPOT 9.025 -> 9.040); TP8 TPOT
  0.066 -> 0.072 (1k / 8k at 128 clients +0.030 -> +0.081, round 22's estimate), attention-DP8 TPOT 0.250 -> 0.247.
Measured, not adopted: each verification token reading the cache as its own sequence (AIConfigurator's pricing of
the generation attention at the decode batch x (nextn + 1), above): 15.222 % (TP8 TPOT 0.069, median -0.007).
"""

from __future__ import annotations

import numpy as np

from infraplan.errors import InputError
from infraplan.serving.deployment import Deployment

DRAFT_OVER_VERIFIED = True  # the first draft step runs over the 1 + K verified positions (docstring; toggle)
DRAFT_OVER_PROMPT = True  # the draft layer runs over every prompt token in the prefill (docstring; toggle)
CONTEXT_GROWTH = True  # a step appends its T expected tokens to the cache, reserving its verification's slots (toggle)
DRAFT_MEMORY = True  # the draft layer's weights and its own KV layer come out of the KV pool (docstring; toggle)
PROMPT_ROW_UNVERIFIED = True  # a prompt chunk's row verifies nothing; its drafting as the engine runs it (toggle)
PROMPT_ROW_ENGINES = frozenset({"vllm", "sglang"})  # engines whose source says so (`verified_row_s`; hC67)
DRAFT_STEPS_IN_PREFILL = frozenset({"vllm", "trtllm"})  # engines that run the further draft steps for a prompt row


def decode_head(dep: Deployment, body_s: np.ndarray, head_s: np.ndarray, draft_layer_s: np.ndarray) -> np.ndarray:
    """The head table (seconds per decode-row count 0 .. 2 max_batch) of a speculative step (module docstring):
    verification of 1 + K tokens a row (`body_s`, `head_s` by tokens / rows), the first draft step over the verified
    positions and K - 1 more over one token a row (`draft_layer_s`: the draft layer and its input projection by
    tokens; its attention op's fixed time is the iteration's, over `kv_layers`), each sampling its rows on the LM
    head."""
    k, q = dep.speculative_tokens, 1 + dep.speculative_tokens
    r = np.arange(2 * dep.max_batch + 1)
    first = r * q if DRAFT_OVER_VERIFIED else r
    draft = (draft_layer_s[first] + head_s[r]) + (k - 1) * (draft_layer_s[r] + head_s[r])
    verify = body_s[r * q] - body_s[r] + head_s[r * q]
    return np.where(r > 0, verify + draft, 0.0)


def verified_row_s(dep: Deployment, spec_head_s: np.ndarray, head_s: np.ndarray,
                   draft_layer_s: np.ndarray) -> np.ndarray | None:
    """The part of `decode_head`'s table (`spec_head_s`: `decode_head` of these `head_s` and `draft_layer_s`, by row
    count) that r decode rows pay and r prompt-chunk rows do not, for `IterationCost.decode_row_s` (a prompt chunk's
    row pays head[r] less it, hC65 / hC66); None: a prompt row pays a decode row's whole (`PROMPT_ROW_UNVERIFIED`
    off) or no drafts.

    A prompt chunk, cut or finishing, has no draft tokens to verify: one target row, as a plain iteration's (vLLM
    0.12.0 v1/worker/gpu_model_runner.py:1941-1975, `_calc_spec_decode_metadata`: num_draft_tokens + 1 sampled rows a
    request, 1 for a prompt chunk). Its drafting, by engine:
    * vLLM 0.12.0 drafts for every request of the batch, a partial prefill too: the proposer's first forward runs
      over every scheduled token (the prompt's: `prompt_token_s`), samples each request's last token (v1/spec_decode/
      eagle.py:235-238, :338-339), then K - 1 further steps over the whole batch (:405-411); a partial prefill's
      next token is the prompt's own ("backup", :560-586, from `discard_request_mask`, gpu_model_runner.py:1421-1426,
      :3366-3375), and its drafts are trimmed when it is scheduled (v1/core/sched/scheduler.py:366-383). So r prompt
      rows pay the draft's sampled rows and K - 1 further steps, not the verification's K extra tokens through the
      target and their LM-head rows, and the first draft step over one position each (the rest are prompt tokens).
    * SGLang 0.5.6: a batch with prompts runs the target's extend and the draft's extend over its tokens, the draft
      sampling each sequence's last token (`capture_for_decode`); no verification and no draft step
      (speculative/eagle_worker.py:271-286, :865-900, :1006-1011): the draft steps run in the next decode batch.
    * TensorRT-LLM: not readable here (the PyPI wheel is a stub), so not in `PROMPT_ROW_ENGINES`: its prompt rows keep
      a decode row's whole price, as before. Measured with it in (its MTP worker recalled to draft for context
      requests as vLLM does, `DRAFT_STEPS_IN_PREFILL`): the only drafting rows (TensorRT-LLM R1, K = 1) move the
      MoE/MLA set 0.1471447 -> 0.1471635 and Blackwell 0.1974599 -> 0.1974858 (hC67, measured with `decode_kernels.
      ONE_EXTEND_CALL` on; hC65's what-if moved them the same way).
    So r prompt rows pay head[r] (the target's rows) + head[r] (the draft's) + the further steps where drafted."""
    k = dep.speculative_tokens
    if not (k and PROMPT_ROW_UNVERIFIED and dep.engine in PROMPT_ROW_ENGINES):
        return None
    r = np.arange(2 * dep.max_batch + 1)
    further = (k - 1) * (draft_layer_s[r] + head_s[r]) if dep.engine in DRAFT_STEPS_IN_PREFILL else 0.0
    prompt = 2.0 * head_s[r] + further
    return np.where(r > 0, spec_head_s - prompt, 0.0)


def prompt_layers(dep: Deployment) -> int:
    """Draft layers that run over each prompt token in the prefill: 1 with drafts (the one MTP / EAGLE module over
    the prompt, module docstring), else 0."""
    return 1 if dep.speculative_tokens and DRAFT_OVER_PROMPT else 0


def prompt_token_s(dep: Deployment, draft_layer_s: np.ndarray, token_budget: int) -> float:
    """Seconds per prompt token of the draft layer's body in the prefill: its marginal time per token over the top
    half of the token budget (`draft_layer_s` by tokens); 0 without drafts."""
    top = min(token_budget, len(draft_layer_s) - 1)
    if not prompt_layers(dep) or top < 2:
        return 0.0
    return float(draft_layer_s[top] - draft_layer_s[top // 2]) / (top - top // 2)


def decode_query_layers(dep: Deployment, layers: float) -> float:
    """(decode query, layer) pairs one decode row runs through the attention of a step: 1 + K queries through every
    target layer, and through the draft layer 1 + K for its first step (`DRAFT_OVER_VERIFIED`, else 1) and 1 for
    each further one (module docstring)."""
    k = dep.speculative_tokens
    if not k:
        return layers
    return layers * (1 + k) + ((1 + k) if DRAFT_OVER_VERIFIED else 1) + (k - 1)


def context_growth(dep: Deployment) -> float:
    """Cached tokens a decode step appends to a sequence: T = `tokens_per_step` with drafts (`CONTEXT_GROWTH`),
    else 1 (module docstring)."""
    return dep.tokens_per_step if dep.speculative_tokens and CONTEXT_GROWTH else 1.0


def draft_slots(dep: Deployment) -> int:
    """Cache slots a verification writes beyond the accepted tokens and rolls back: K with drafts
    (`CONTEXT_GROWTH`), else 0 (module docstring)."""
    return dep.speculative_tokens if CONTEXT_GROWTH else 0


def reserved_past_output(dep: Deployment) -> int:
    """Tokens a request's KV reservation may hold beyond prompt + output: its last verification's K draft slots and
    the fraction of a step (T (steps - 1) + 1 + K + 1 < output + K + 1: `loop_stepping.request_tokens`); 0 without
    drafts (`fit_check` of `serving.serving_sim`)."""
    k = draft_slots(dep) if dep.speculative_tokens else 0
    return k + 1 if k else 0


def memory_draft_layers(dep: Deployment) -> int:
    """Draft layers resident beside the target (`serving.kv_cache.kv_capacity`'s `draft_layers`): 1 with drafts
    (`DRAFT_MEMORY`), the one MTP / EAGLE module whose weights and KV layer the pool gives up (module docstring)."""
    return 1 if dep.speculative_tokens and DRAFT_MEMORY else 0


def require_acceptance(speculative_tokens: int, acceptance: float | None) -> None:
    """Drafts need their acceptance rate (`serve` and `serve-plan` refuse them alike: at R = 0 the drafts were priced
    with never a token gained)."""
    if speculative_tokens and acceptance is None:
        raise InputError(f"--speculative-tokens {speculative_tokens} needs --acceptance R, the per-token acceptance "
                         "rate of the drafts (DeepSeek-V3's MTP: 0.85-0.9; 0 prices drafts that are all rejected)")


MIXED_DRAFT_BUDGET = True  # a decoding sequence's 1 + K tokens in the iteration's token budget (`budget_tokens`)


def budget_tokens(dep: Deployment) -> int:
    """Tokens a decoding sequence takes of an iteration's token budget, the prefill chunks beside it getting the rest:
    1 + K with drafts (the token and its K drafts, all verified), else 1. vLLM's scheduler schedules a running
    request's `num_tokens_with_spec` (prompt + output + spec_token_ids) less its computed tokens from the budget
    before any waiting request's chunk (vllm 0.12.0 v1/core/sched/scheduler.py:254-264, :364 `token_budget -=
    num_new_tokens`, then the waiting requests from what is left, :416-628); TensorRT-LLM's micro-batch scheduler
    counts beam width + draft tokens of a generating request against max_num_tokens (RECALLED, as
    `raised_budget.iteration_batch`'s cap). SGLang runs a pending prefill batch alone (prefill-first), so it never
    shares. Toggle `MIXED_DRAFT_BUDGET` (off: 1 token a sequence, as before hL76). Effect (`validate --json`, the
    TensorRT-LLM MTP campaign's rows, `validation.campaign_settings`): MoE / MLA mean |error| 0.147484 -> 0.147467,
    Blackwell 0.197350 -> 0.197355; no other set moves."""
    return 1 + dep.speculative_tokens if MIXED_DRAFT_BUDGET else 1
