"""What `serve-plan`'s capacity search (`serving.capacity`) holds fixed or varies beside TP, PP and the batch cap:
the KV-cache dtype, speculative decoding (MTP drafts) and an MoE model's wide-EP degrees.

KV-cache dtype (`kv_for`): `--kv-dtype` as given on every candidate (checked as `serve` checks it: a format the
stack's engine offers, `kv_cache_dtypes` of its YAML, and the accelerator runs), else each weight dtype's default,
as `serve` takes it (`serving.kv_default`: the model config's quantization_config, else fp8 with fp8 / nvfp4 weights).

Speculative decoding (`draft_choices`): `--speculative-tokens K --acceptance R` run on every candidate as given, as
`serve` prices them (`serving.speculative`; a model without an MTP module gets `serve`'s one-layer draft of its own
shape); `--try-speculative` searches every layout twice, plain and with the model's own MTP module as the draft (K =
its `num_nextn_predict_layers`, DeepSeek-V3 / R1: 1), at `--acceptance` or MTP_ACCEPTANCE. Either needs a stack whose
engine runs MTP drafts (`speculative_decoding` in its YAML, with sources: `serving.engines`); `--try-speculative`
needs a model with an MTP module. Ties in accelerators go to plain decoding (`replica_search.option_rank`), so MTP
is chosen only where it saves accelerators, and the answer says which (`draft_note`).
MTP_ACCEPTANCE: DeepSeek-V3's measured second-token acceptance, 85-90 % (DeepSeek-AI, "DeepSeek-V3 Technical
Report", arXiv:2412.19437 sec. 5.4.3), its lower end: the ASSUMPTION the validation's MTP campaign is priced at too
(`validation.campaign_settings`, "Speculative decoding"); real acceptance varies with the text.

Weight formats (`tie_order`): every one asked that the part and engine run is searched; ties in accelerators go to
the checkpoint's own format (its quantization_config's, else bf16), then the wider (`DTYPE_BYTES`), so a quantised
format is chosen only where it saves accelerators, as MTP and wide EP are, whatever the order of `--dtypes` (hL76:
it was that order, so `--dtypes fp8,bf16` flipped llama3-8b's answer at 5 req/s on one H200, both formats on 1 GPU).
At equal accelerators the cost per token is the same accelerator-hours (0.4298 vs 0.4296 $/M tokens there), so cost
does not break the tie; the narrower format's lower latency (TPOT p99 6.3 vs 12.5 ms) is said, not chosen
(`format_tie_note`), as both meet the SLOs.

Wide EP (`wide_ep_degrees`): see `serving.capacity`'s module docstring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.serving.capacity_candidate import replica_kv
from infraplan.serving.deployment import Deployment, check_deployment
from infraplan.serving.engine_facts import speculative_decoding
from infraplan.serving.engines import ServingEngine, serving_profile
from infraplan.serving.kv_default import default_kv_dtype
from infraplan.serving.speculative import require_acceptance

MTP_ACCEPTANCE = 0.85  # ASSUMPTION: DeepSeek-V3's second-token acceptance, the low end of 85-90 % (docstring)
Drafts = tuple[int, float]  # (speculative tokens K, per-token acceptance R); (0, 0.0): plain decoding


def kv_for(shape: TransformerShape, dtype: str, kv_dtype: str | None, engine: str = "",
           accelerator: str = "") -> str:
    """The KV-cache dtype of a candidate of weight `dtype` on `engine` and the catalog part `accelerator` (unnamed:
    the checkpoint rules alone, `serving.kv_default`): `kv_dtype` as given, else `serve`'s default."""
    return kv_dtype or default_kv_dtype(shape, dtype, engine, accelerator)[0]


def draft_choices(shape: TransformerShape, acc: Accelerator, engine: ServingEngine, kv_dtype: str | None,
                  speculative_tokens: int, acceptance: float | None, try_speculative: bool) -> tuple[Drafts, ...]:
    """The (K, R) drafts every candidate is searched with (module docstring); InputError, one line, for a bad
    combination: an unknown or unoffered KV dtype, drafts the stack's engine does not run, `try_speculative` on a
    model without an MTP module or beside given drafts, drafts without an acceptance or an acceptance without them."""
    if try_speculative and speculative_tokens:
        raise InputError(f"give --speculative-tokens {speculative_tokens} (searched as given) or --try-speculative "
                         "(the search tries the model's MTP module), not both")
    if acceptance is not None and not (speculative_tokens or try_speculative):
        raise InputError(f"--acceptance {acceptance:g} is the drafts' acceptance: it needs --speculative-tokens N or "
                         "--try-speculative")
    require_acceptance(speculative_tokens, acceptance)  # as `serve` refuses it
    if try_speculative and not shape.num_mtp_layers:
        raise InputError(f"--try-speculative tries {shape.name}'s multi-token-prediction module "
                         "(num_nextn_predict_layers), and it has none (DeepSeek-V3 / R1 ship one); --speculative-"
                         "tokens N --acceptance R prices a one-layer draft of its own shape, as `serve` does")
    k = shape.num_mtp_layers if try_speculative else speculative_tokens
    r = (MTP_ACCEPTANCE if acceptance is None else acceptance) if k else 0.0
    profile = serving_profile(engine.ref)
    if k and profile is not None and not speculative_decoding(profile):
        flag = "--try-speculative" if try_speculative else f"--speculative-tokens {k}"
        raise InputError(f"{flag}: stack {engine.name} runs no speculative decoding (`speculative_decoding` in its "
                         "YAML); use trtllm-0.x, vllm-0.x or sglang-0.x")
    # the KV dtype, K and R checked as `serve` checks them, on a layout every model and part builds
    check_deployment(shape, acc, Deployment(kv_dtype=kv_dtype or "bf16", engine=engine.engine, stack=engine.ref,
                                            speculative_tokens=k, acceptance=r))
    return ((0, 0.0), (k, r)) if try_speculative else ((k, r),)


def draft_note(choices: tuple[Drafts, ...], chosen: Drafts, shape: TransformerShape) -> list[str]:
    """What `--try-speculative` (two `choices`: plain, then MTP) chose (module docstring); none without it."""
    if len(choices) < 2:
        return []
    k, r = choices[-1]
    tried = (f"--try-speculative: every layout searched with and without {shape.name}'s MTP module as a {k}-token "
             f"draft (acceptance {r:g})")
    if chosen[0]:
        return [f"{tried}; MTP chosen: it needs fewer accelerators than plain decoding"]
    return [f"{tried}; plain decoding chosen: MTP needs no fewer accelerators here (ties go to plain decoding)"]


def wide_ep_degrees(shape: TransformerShape, acc: Accelerator, domain: int, dtype: str, kv_dtype: str,
                    token_budget: int, max_batch: int, stack: str, shortest_tokens: int = 0) -> list[int]:
    """Attention-DP (= EP) degrees d of the wide-EP layouts tried for an MoE model (`serving.capacity`): the powers
    of two from 2 up to the scale-up domain and the expert count whose expert shard (TP 1, E / d experts per GPU)
    leaves room for a KV cache of `kv_dtype`, by the rule every candidate's cache is sized by
    (`capacity_candidate.replica_kv`, with the search's shortest sequence `shortest_tokens`: a sliding-window
    model's windows for the sequences its pool holds, not every slot of the cap; hY53); none for a dense model."""
    if not shape.is_moe:
        return []
    degrees = [1 << k for k in range(1, int(math.log2(max(domain, 1))) + 1)]
    return [d for d in degrees if d <= shape.num_experts and replica_kv(shape, acc, Deployment(
        ep=d, attention_dp=d, dtype=dtype, kv_dtype=kv_dtype, max_batch=max_batch, token_budget=token_budget,
        stack=stack), shortest_tokens).blocks > 0]


def drafts_text(k: int) -> str:
    """A rejected layout's drafts, where it has any (`capacity.search_capacity`'s `rejected` lines)."""
    return f" with {k} draft token{'s' if k > 1 else ''}" if k else ""


def tie_order(shape: TransformerShape, kinds: Sequence[str]) -> list[str]:
    """The weight formats searched, in the order ties in accelerators go (module docstring: the search keeps equal
    options in enumeration order, `replica_search.option_rank`): the checkpoint's own, then the wider."""
    own = shape.checkpoint_weight_dtype or "bf16"
    return sorted(kinds, key=lambda d: (d != own, -DTYPE_BYTES[d]))


def format_tie_note(chosen: dict[str, Any], alternatives: list[dict[str, Any]], device: str = "GPU") -> list[str]:
    """A line where another weight format's option met on as many accelerators as the answer's (`alternatives`:
    serve-plan's next-best), saying the tie rule (`tie_order`); none otherwise."""
    others = list(dict.fromkeys(o["dtype"] for o in alternatives
                                if o["gpus"] == chosen["gpus"] and o["dtype"] != chosen["dtype"]))
    if not others:
        return []
    n, dtype = chosen["gpus"], chosen["dtype"]
    return [f"{' and '.join(others)} weights also meet the SLOs on {n:,} {device}{'' if n == 1 else 's'} in the "
            f"search's probes (alternatives); {dtype} chosen: at equal accelerators the checkpoint's own format, "
            "then the wider, wins (a quantised format only where it saves accelerators), whatever the order of "
            f"--dtypes; the cost per token is the same {device}-hours, and `serve --dtype {others[0]}` prices its "
            "latency"]
