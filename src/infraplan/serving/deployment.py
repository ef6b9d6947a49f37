"""How one model is served (`Deployment`): parallelism, precision, batch limits, speculative decoding, and the
checks that reject a deployment that cannot be built at all (`check_deployment`; one that does not fit memory is
`serving.kv_cache`'s question).

A replica is TP x PP accelerators, times `attention_dp` data-parallel attention ranks for wide expert parallelism
(`ep = attention_dp x TP`: DeepSeek-V3 report, arXiv:2412.19437 sec. 3.4; `serving.llm_iteration`), else EP
inside the TP group. Each replica runs PP virtual engines per attention rank (`engines_per_replica`). An attention-DP
replica may split each expert's FFN over `moe_tp` of its GPUs instead (`ep x moe_tp = attention_dp x TP`; TensorRT-LLM
`moe_tensor_parallel_size` with `enable_attention_dp`): MoE TP 4, EP 1 over 4 attention-DP ranks holds every expert
on every GPU at a quarter of its width (`serving.host_overhead.inference_layout`, `ops.layer` "attention DP + MoE TP").

Weight precisions are `serving.kv_cache.WEIGHT_DTYPES` (bf16, fp8, int8, int4, nvfp4, mxfp4, mxfp8: the registry
`ops.precision.SERVING_FORMATS`) and KV-cache precisions `KV_DTYPES`, of which the stack's engine offers those its
YAML lists (`kv_cache_dtypes`, each with the engine release file:line: SGLang and vLLM have no int8 cache;
`serving.engines` "Engine facts"); a format other than bf16, weight-only int4 and mxfp4 needs the accelerator's
catalog to list its peak, and a format some engines lack (mxfp8: SGLang and TensorRT-LLM, not vLLM 0.12) the stack
to run it: its YAML's `weight_formats`, else its engine family's (`serving.engine_facts.weight_formats`; pytorch-mtia,
vLLM's loop, states MTIA's own, mxfp8 among them, hM2) (`format_refusal`, naming the formats the part and stack run,
and another shipped stack that runs the asked format there, or more formats there: vLLM's fp8 refusal on MTIA 400
said nothing of SGLang's mxfp8, hW51). SGLang 0.5.9 serves MXFP8 experts on
its cutlass MoE only, which asserts EP 1 (server_args.py:2127-2134 forces the backend, :2168-2175 asserts
`ep_size == 1`): an MoE model in mxfp8 on SGLang at EP > 1 is refused (`layout_refusal`). MXFP4 weights (OCP MX: e2m1
values, one e8m0 scale byte per 32 = 4.25 bits, 0.53125 B per weight) run natively (mxfp4 x mxfp8 tensor cores)
where the catalog lists mxfp4, else weight-only (`mxfp4_weight_only`): the kernels dequantise them to bf16 and
multiply on the bf16 tensor cores, as vLLM serves GPT-OSS's MXFP4 experts on
Hopper (vllm 0.18.0 model_executor/layers/quantization/mxfp4.py:109-173: on SM90 FlashInfer's MXFP4 x BF16 MoE, else
the Triton matmul_ogs kernels, else Marlin; :307-318 and :397/:433 the uint8 weights with one uint8 scale per
32-element block) and SGLang 0.5.9 does (srt/layers/quantization/mxfp4.py:136-159 and :349: Triton matmul_ogs on
SM90; FlashInfer's mxfp8-activation MoE only on SM100, :327-328). The result names the path priced (`weight_format`),
and the layers it covers where the model config's checkpoint stores only the routed experts quantised (GPT-OSS's
MXFP4, Kimi K2.5's INT4: `ops.precision.weight_scope`; every other GEMM and weight then bf16).

Speculative decoding (`speculative_tokens` K, `acceptance` R): Leviathan et al., ICML'23 (arXiv:2211.17192,
eq. 1): with i.i.d. per-token acceptance R a step emits (1 - R^(K+1)) / (1 - R) tokens on average
(`tokens_per_step`; 1 + R for one draft token: DeepSeek-V3's MTP accepts the second token 85-90 % of the time,
sec. 5.4.3), so a sequence needs ceil((output - 1) / tokens per step) decode steps after its first token
(`decode_steps`). K is at most `MAX_SPECULATIVE_TOKENS` (MTP / EAGLE deployments use 1-5). The draft's and the
verification's costs are `serving.llm_iteration`'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.catalog.kernel_fits import DTYPE_BYTES
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.ops.precision import (
    SERVING_FORMATS,
    WEIGHT_SCOPES,
    kind_dtype,
    scope_words,
    stored_weight_bytes,
    weight_scope,
)
from infraplan.serving.engine_facts import kv_cache_dtypes, serving_stacks
from infraplan.serving.engines import ServingEngine, chunk_budget, load_engine, serving_profile
from infraplan.serving.expert_slots import engine_refusal
from infraplan.serving.kv_cache import KV_DTYPES, WEIGHT_DTYPES, kv_dtype_refusal
from infraplan.serving.request_intake import attention_dp_refusal
from infraplan.serving.stack_placement import stack_on_accelerator
from infraplan.serving.tp_split import tp_split_refusal

MAX_SPECULATIVE_TOKENS = 8  # draft tokens per step (MTP / EAGLE deployments use 1-5)


@dataclass(frozen=True)
class Deployment:
    """How one model is served: parallelism, precision, batch limits. `replicas` copies of TP x PP GPUs."""

    tp: int = 1
    pp: int = 1
    ep: int = 1
    replicas: int = 1
    dtype: str = "bf16"
    kv_dtype: str = "bf16"
    max_batch: int = 256
    token_budget: int = 8192
    block_tokens: int = 16
    engine: str = "trtllm"  # the stack's engine family (trtllm | vllm | sglang)
    stack: str = "trtllm-0.x"  # serving stack profile (name or YAML path): KV rule, scheduler, custom all-reduce
    attention_dp: int = 1  # data-parallel attention ranks of a wide-EP replica (ep = attention_dp x TP)
    moe_tp: int = 1  # an attention-DP replica's ranks each expert's FFN is split over (ep x moe_tp = attention_dp x TP)
    speculative_tokens: int = 0  # K draft (MTP) tokens per decode step
    acceptance: float = 0.0  # per-token acceptance rate of the draft tokens

    @property
    def gpus_per_replica(self) -> int:
        return self.tp * self.pp * self.attention_dp

    @property
    def engines_per_replica(self) -> int:
        """Independent engines of one replica: PP virtual engines of every attention-DP rank."""
        return self.pp * self.attention_dp

    @property
    def expert_shards(self) -> int:
        """EP degree outside the TP group (wide EP: the attention-DP ranks); 1 when EP sits inside TP."""
        return self.attention_dp

    @property
    def tokens_per_step(self) -> float:
        """Mean tokens one decode step emits per sequence: (1 - R^(K+1)) / (1 - R) (module docstring)."""
        k, r = self.speculative_tokens, self.acceptance
        return float(k + 1) if r >= 1.0 else (1.0 - r ** (k + 1)) / (1.0 - r)

    def decode_steps(self, output_tokens: np.ndarray) -> np.ndarray:
        """Decode steps after the first token: output - 1, or fewer by the speculative tokens per step."""
        after_first = np.asarray(output_tokens) - 1
        if self.speculative_tokens == 0:
            return after_first
        return np.ceil(after_first / self.tokens_per_step).astype(after_first.dtype)

    @property
    def gpus(self) -> int:
        return self.gpus_per_replica * self.replicas

    def as_dict(self) -> dict:
        return {"replicas": self.replicas, "tp": self.tp, "pp": self.pp, "ep": self.ep, "gpus": self.gpus,
                "dtype": self.dtype, "kv_dtype": self.kv_dtype, "max_batch": self.max_batch,
                "token_budget": self.token_budget, "block_tokens": self.block_tokens,
                "engine": self.engine, "attention_dp": self.attention_dp, "moe_tp": self.moe_tp,
                "speculative_tokens": self.speculative_tokens, "acceptance": self.acceptance,
                "tokens_per_step": self.tokens_per_step}


def check_deployment(shape: TransformerShape, accelerator: Accelerator, dep: Deployment, pool: str = "") -> None:
    """Raise InputError for a deployment that cannot be built at all (not for one that does not fit). `pool`:
    "prefill-" where `dep` is the prefill pool `serve --prefill-*` lays out (`disaggregated.split_pools`): its layout
    refusals name those options, not the decode pool's (hI53: `--prefill-ep 16` on 8 experts said `--attention-dp`)."""

    def said(label: str, option: str) -> str:  # "EP 16" -> "EP 16 (--prefill-ep)" for the prefill pool
        return f"{label} (--{pool}{option})" if pool else label

    if dep.dtype not in WEIGHT_DTYPES:
        raise InputError(f"--dtype must be one of {', '.join(WEIGHT_DTYPES)}, got {dep.dtype!r}")
    if dep.kv_dtype not in KV_DTYPES:
        raise InputError(kv_dtype_refusal(dep.kv_dtype))
    engine_kv, part_kv = kv_gaps(accelerator, dep.kv_dtype, dep.stack, dep.engine)
    if engine_kv:
        raise InputError(engine_kv)
    if refused := format_refusal(accelerator, dep.dtype, dep.stack):  # int4 / mxfp4 run weight-only on any part
        raise InputError(refused)
    if part_kv:
        raise InputError(part_kv)
    if min(dep.tp, dep.pp, dep.ep, dep.replicas, dep.max_batch, dep.token_budget, dep.block_tokens,
           dep.attention_dp, dep.moe_tp) < 1:
        named = {"TP": dep.tp, "PP": dep.pp, "EP": dep.ep, "attention DP": dep.attention_dp, "MoE TP": dep.moe_tp,
                 "replicas": dep.replicas,
                 "--max-batch": dep.max_batch, "--token-budget": dep.token_budget, "block size": dep.block_tokens}
        raise InputError("TP, PP, EP, attention DP, MoE TP, replicas, --max-batch, --token-budget and block size must "
                         "be >= 1, "
                         "got " + ", ".join(f"{k} {v}" for k, v in named.items() if v < 1))
    if not 0 <= dep.speculative_tokens <= MAX_SPECULATIVE_TOKENS:
        raise InputError(f"--speculative-tokens must be 0 to {MAX_SPECULATIVE_TOKENS}, got {dep.speculative_tokens}")
    if not 0.0 <= dep.acceptance <= 1.0:
        raise InputError(f"--acceptance {dep.acceptance} must be in [0, 1] (a per-token acceptance rate)")
    if dep.acceptance > 0 and not dep.speculative_tokens:  # a rate in range: not called out of range (hF57)
        raise InputError(f"--acceptance {dep.acceptance} needs --speculative-tokens >= 1 (the draft tokens it is the "
                         "acceptance rate of)")
    if shape.num_heads % dep.tp:
        raise InputError(f"{shape.name} has {shape.num_heads} attention heads, not divisible by "
                         f"{said(f'TP {dep.tp}', 'tp')}")
    if refused := tp_split_refusal(shape, dep.tp, dep.engine, dep.attention_dp, pool):  # vLLM / SGLang (hW72)
        raise InputError(refused)
    if dep.pp > shape.num_layers:
        raise InputError(f"{said(f'PP {dep.pp}', 'pp')} exceeds the {shape.num_layers} layers of {shape.name}")
    if dep.attention_dp > 1:
        if not shape.is_moe:
            replicas = (f"--{pool}tp 1 and --{pool}gpus N give N data-parallel prefill workers" if pool else
                        "--tp 1 and --gpus N give N data-parallel replicas")
            raise InputError(f"--{pool}attention-dp {dep.attention_dp} is wide EP: it spreads an MoE model's experts "
                             f"over the attention-DP ranks; {shape.name} is dense (no experts): serve it as replicas "
                             f"({replicas})")
        if (dep.ep * dep.moe_tp != dep.attention_dp * dep.tp or dep.ep > shape.num_experts
                or shape.ffn_hidden_size % dep.moe_tp):
            raise InputError(f"wide EP needs an MoE model and EP x MoE TP = {said('attention DP', 'attention-dp')} "
                             f"x {said('TP', 'tp')} = {dep.attention_dp * dep.tp}, EP <= its experts, MoE TP "
                             f"dividing its expert width; got {said(f'EP {dep.ep}', 'ep')}, "
                             f"{said(f'MoE TP {dep.moe_tp}', 'moe-tp')} for {shape.name} ({shape.num_experts} "
                             f"experts of {shape.ffn_hidden_size}){_wide_ep_broken(shape, dep)}")
        if refused := engine_refusal(shape, dep.ep, dep.engine, dep.stack):  # EP must divide the built experts
            raise InputError(refused + (f" (--{pool}ep {dep.ep})" if pool else ""))
        if refused := moe_tp_refusal(dep.engine, dep.attention_dp, dep.tp, dep.moe_tp, pool):  # vLLM: all or none
            raise InputError(refused)
    elif dep.moe_tp > 1 and not shape.is_moe:  # not "give --attention-dp", which a dense model is refused (hI54)
        raise InputError(f"MoE TP {dep.moe_tp} (--{pool}moe-tp) splits an MoE model's experts; {shape.name} is dense "
                         f"(no experts): drop --{pool}moe-tp (--{pool}tp splits its FFN)")
    elif dep.moe_tp > 1:
        raise InputError(f"MoE TP {dep.moe_tp} (--{pool}moe-tp) splits the experts of an attention-DP replica: give "
                         f"--{pool}attention-dp > 1; without attention DP the experts are split over the TP group "
                         f"(--{pool}tp / --{pool}ep)")
    elif dep.ep > 1 and (not shape.is_moe or dep.tp % dep.ep or shape.num_experts % dep.ep):
        experts = f"{shape.num_experts} experts" if shape.is_moe else "no experts (dense)"
        raise InputError(f"{said(f'EP {dep.ep}', 'ep')} needs an MoE model with experts and TP divisible by it "
                         f"(or --{pool}attention-dp for EP across attention data-parallel ranks); {shape.name} has "
                         f"{experts}, {said(f'TP {dep.tp}', 'tp')}")
    if dep.attention_dp <= 1 and dep.ep > 1 and (refused := engine_refusal(shape, dep.ep, dep.engine, dep.stack)):
        raise InputError(refused + (f" (--{pool}ep {dep.ep})" if pool else ""))  # EP in the TP group: as serve-plan
    if refused := layout_refusal(shape, dep.dtype, dep.engine, dep.ep):  # SGLang's MXFP8 experts: EP 1 only
        raise InputError(refused + (f" (--{pool}ep {dep.ep})" if pool else ""))
    if refused := attention_dp_refusal(dep.stack, dep.attention_dp):  # SGLang's receive skipper: no attention DP
        raise InputError(refused + (f" (--{pool}attention-dp {dep.attention_dp})" if pool else ""))
    if refused := budget_refusal(dep.engine, dep.token_budget, dep.max_batch, pool):
        raise InputError(refused)


def budget_refusal(engine: str, budget: int, run_batch: int, pool: str = "") -> str | None:
    """Why a deployment whose iterations run `run_batch` sequences at a token budget of `budget` cannot start: an
    iteration holds one token of each running sequence, so a budget below the batch is refused (vLLM refuses
    max_num_seqs above max_num_batched_tokens: `serving.raised_budget`); None where it holds the batch or caps a
    prefill chunk alone (SGLang, `engines.chunk_budget`, hS76). `check_deployment`'s rule for `serve` and, of the
    batch a given budget runs, `raised_budget.run_deployment`'s for `serve-plan` (hT76; one home, hD77). `pool`:
    "prefill-" for a prefill pool's own options."""
    if budget >= run_batch or chunk_budget(engine):
        return None
    return f"--{pool}token-budget {budget} must be >= --{pool}max-batch {run_batch}"


def kv_gaps(accelerator: Accelerator, kv_dtype: str, stack: str, engine: str | None) -> tuple[str | None, str | None]:
    """Why a KV cache of `kv_dtype` cannot run under the serving stack `stack` (engine family `engine`) on
    `accelerator`, as `--kv-dtype`'s lines (None: no gap): (the stack's engine offers no such cache: its YAML's
    `kv_cache_dtypes`, with sources; the part lists no peak for the format, bf16 running on any)."""
    profile = serving_profile(stack)  # the KV-cache formats the stack's engine offers (its YAML, with sources)
    offered = kv_cache_dtypes(profile) if profile is not None else KV_DTYPES
    name = profile.engine if profile is not None else engine
    return (None if kv_dtype in offered else
            f"--kv-dtype {kv_dtype}: {name} has no {kv_dtype} KV cache (it offers {', '.join(offered)})",
            None if kv_dtype == "bf16" or accelerator.supports(kv_dtype) else
            f"--kv-dtype {kv_dtype}: {accelerator.name} has no {kv_dtype} support in its catalog file; use "
            "--kv-dtype bf16")


def _wide_ep_broken(shape: TransformerShape, dep: Deployment) -> str:
    """Which of wide EP's three rules a layout breaks, said after them (hW59: EP 16 on Mixtral's 8 experts read as
    the whole rule, with no word of which part failed)."""
    broken = [f"EP {dep.ep} x MoE TP {dep.moe_tp} = {dep.ep * dep.moe_tp}, not {dep.attention_dp * dep.tp}"
              if dep.ep * dep.moe_tp != dep.attention_dp * dep.tp else "",
              f"EP {dep.ep} above its {shape.num_experts} experts" if dep.ep > shape.num_experts else "",
              f"MoE TP {dep.moe_tp} does not divide {shape.ffn_hidden_size}" if shape.ffn_hidden_size % dep.moe_tp
              else ""]
    return f": {'; '.join(b for b in broken if b)}"


def format_gap(accelerator: Accelerator, dtype: str, stack: str | ServingEngine) -> str | None:
    """Why `accelerator` under the serving stack `stack` (a name, versioned engine name, YAML or the stack) cannot run
    `dtype` weights at all (module docstring), else None: its catalog lists no peak for the format, or the stack's
    kernels do not run it (its `weight_formats`, else its engine family's: `serving.engine_facts.weight_formats`)."""
    fmt, served = SERVING_FORMATS[dtype], load_engine(stack)
    if not fmt.part_runs(accelerator):
        return f"{accelerator.name} has no {dtype} support in its catalog file"
    if dtype not in served.weight_formats:
        if not served.weight_formats_source:  # the engine family's list (`ops.precision.SERVING_FORMATS`)
            return f"the {served.engine} engine does not run {dtype} weights ({fmt.engines_source})"
        return (f"stack {served.name} does not run {dtype} weights (it runs {', '.join(served.weight_formats)}: "
                f"{served.weight_formats_source})")
    return None


def formats_run(accelerator: Accelerator, stack: str | ServingEngine) -> list[str]:
    """The formats beyond bf16 and the weight-only ones that `accelerator` and the serving stack `stack` both run."""
    return [d for d, f in SERVING_FORMATS.items()
            if f.peak_dtype is not None and not format_gap(accelerator, d, stack)]


def format_refusal(accelerator: Accelerator, dtype: str, stack: str | ServingEngine) -> str | None:
    """`format_gap` as serve's one line, naming the formats the part and stack run (hU39) and the other shipped
    stacks that would run `dtype` there, else those that run more formats there (`other_stacks`); else None."""
    gap = format_gap(accelerator, dtype, stack)
    if gap is None:
        return None
    runs, others = formats_run(accelerator, stack), other_stacks(accelerator, stack)
    asked = [name for name in others if not format_gap(accelerator, dtype, name)]
    more: dict[tuple[str, ...], list[str]] = {}  # the other stacks, by the formats each adds there
    for name in others:
        if extra := tuple(d for d in formats_run(accelerator, name) if d not in runs):
            more.setdefault(extra, []).append(name)
    if asked:
        verb = "runs" if len(asked) == 1 else "run"
        other = f"; or --stack {' or '.join(asked)}, which {verb} {dtype} on {accelerator.name}"
    else:
        other = "".join(f"; or --stack {' or '.join(names)}, which also {'runs' if len(names) == 1 else 'run'} "
                        f"{', '.join(extra)} on {accelerator.name}" for extra, names in more.items())
    offered = load_engine(stack).weight_formats
    native = not mxfp4_weight_only(accelerator, "mxfp4") and "mxfp4" in offered  # B200, MTIA 400: fp4 tensor cores
    use = ["bf16", *runs, *(["mxfp4 (native)"] if native else [])]
    weight_only = [d for d in ("int4", "mxfp4") if d in offered and not (d == "mxfp4" and native)]
    also = f", or the weight-only {' or '.join(weight_only)}" if weight_only else ""
    return f"{gap}; use {', '.join(use)}{also}{other}"


def other_stacks(accelerator: Accelerator, stack: str | ServingEngine) -> list[str]:
    """The shipped serving stacks (their catalog YAMLs) other than `stack` that an asked `--stack` runs on
    `accelerator` (`stack_placement.stack_on_accelerator` does not refuse them: TensorRT-LLM's kernels are
    NVIDIA's); those of `stack`'s formats add nothing to a refusal (`format_refusal`)."""
    found: list[str] = []
    for name in serving_stacks():
        if name == load_engine(stack).name:
            continue
        try:
            stack_on_accelerator(load_engine(name), accelerator)
        except InputError:
            continue
        found.append(name)
    return found


def layout_refusal(shape: TransformerShape, dtype: str, engine: str | None, ep: int) -> str | None:
    """Why the engine cannot build `shape`'s MoE layers in `dtype` at EP `ep` (module docstring: SGLang's MXFP8
    experts run at EP 1 only), else None."""
    if not (dtype == "mxfp8" and engine == "sglang" and shape.is_moe and ep > 1):
        return None
    return (f"SGLang cannot serve {shape.name}'s experts in mxfp8 at EP {ep}: --quantization mxfp8 forces its cutlass "
            "MoE, which asserts EP 1 (sglang 0.5.9 server_args.py:2127-2134, :2168-2175); use EP 1 or fp8")


def build_refusal(shape: TransformerShape, dep: Deployment) -> str | None:
    """Why `dep`'s engine cannot build its layout of `shape` (the refusals `serve-plan` meets while searching,
    `serving.capacity` and `capacity_layouts`; `check_deployment` raises each in its place): the experts over EP
    (`expert_slots.engine_refusal`), its MoE dtype at that EP (`layout_refusal`) and its stack's attention DP
    (`request_intake.attention_dp_refusal`), else None."""
    return (engine_refusal(shape, dep.ep, dep.engine, dep.stack)
            or layout_refusal(shape, dep.dtype, dep.engine, dep.ep)
            or attention_dp_refusal(dep.stack, dep.attention_dp))


def moe_tp_refusal(engine: str | None, adp: int, tp: int, moe_tp: int, pool: str = "") -> str | None:
    """Why the engine cannot split the experts of attention DP `adp` x TP `tp` GPUs over `moe_tp` of them with EP
    the rest, naming the two splits it runs, else None. vLLM's data-parallel attention runs its MoE layers either
    expert-parallel over every DP x TP rank (`--enable-expert-parallel`) or tensor-parallel over all of them, no
    split between (recalled: `FusedMoEParallelConfig.make` flattens TP across DP, ASSUMPTION: the source is not
    readable here; its measured rows are EP = DP x TP only); TensorRT-LLM and SGLang take any split
    (`serving.capacity_layouts`' module docstring). `serve` refuses the split, `serve-plan` does not try it. `pool`:
    "prefill-" for the prefill pool's --prefill-moe-tp (`check_deployment`)."""
    ranks = adp * tp
    if engine != "vllm" or moe_tp in (1, ranks):
        return None
    return (f"vLLM's data-parallel attention runs its MoE layers expert-parallel over all {ranks} ranks or "
            f"tensor-parallel over all of them, not MoE TP {moe_tp} x EP {ranks // moe_tp}: give --{pool}moe-tp 1 "
            f"(EP {ranks}) or --{pool}moe-tp {ranks} (EP 1), or a TensorRT-LLM / SGLang stack (recalled: "
            "FusedMoEParallelConfig flattens TP across DP; ASSUMPTION)")


def moe_tp_ep(adp: int, tp: int, moe_tp: int, ep: int | None, pool: str = "") -> int:
    """The EP of an attention-DP `adp` x TP `tp` worker whose experts' FFNs are split over `moe_tp` accelerators:
    `ep` where given, else attention DP x TP / MoE TP with attention DP (EP x MoE TP = attention DP x TP,
    `Deployment.moe_tp`), else 1; one-line InputError where MoE TP does not divide attention DP x TP. The one rule of
    `serve --moe-tp` (`serving_api`, `pool` "") and `--prefill-moe-tp` (`disaggregated.split_pools`, "prefill-",
    whose line names the prefill pool's options)."""
    if adp > 1 and (adp * tp) % moe_tp:
        where = (f"the prefill worker's attention DP x TP (--prefill-attention-dp {adp} x --prefill-tp {tp})" if pool
                 else "attention DP x TP")
        whose = "the accelerators its MoE layers run on" if pool else "the replica's accelerators the MoE layers run on"
        raise InputError(f"--{pool}moe-tp {moe_tp} must divide {where} = {adp * tp} ({whose}: EP x MoE TP)")
    return ep if ep is not None else (adp * tp // moe_tp if adp > 1 else 1)


def mxfp4_weight_only(accelerator: Accelerator, dtype: str) -> bool:
    """Whether `dtype` weights run weight-only on `accelerator`: MXFP4 where its catalog has no mxfp4 tensor cores
    (module docstring; priced as int4 W4A16 at 0.53125 B per weight, `serving.llm_iteration`)."""
    return dtype == "mxfp4" and not accelerator.supports("mxfp4")


def eight_bit_rate(accelerator: Accelerator) -> str:
    """The 8-bit format whose GEMM rate native mxfp4 x mxfp8 runs at (`serving.llm_iteration`): the part's fp8, else
    its mxfp8 (MTIA 400 / 450 list mxfp8 and no fp8: their native mxfp4 was refused "no fp8 tensor-core rate")."""
    return "fp8" if accelerator.supports("fp8") or not accelerator.supports("mxfp8") else "mxfp8"


def weight_format(accelerator: Accelerator, dtype: str, shape: TransformerShape | None = None) -> str:
    """The precision path a deployment's weights are priced on, as the result states it (module docstring), and
    the layers it covers where the model config's checkpoint quantises the routed experts only (`weight_scope`)."""
    stored = weight_scope(shape, dtype) if shape is not None else "all"
    head_quantised = shape is not None and kind_dtype(shape, dtype, "lm_head") != "bf16"  # GPTQ `lm_head: true`
    head = "" if head_quantised else " and LM head"
    scope = (f"; routed experts only: attention, router, shared experts, dense layers{head} in bf16 (the model "
             "config's quantization_config)") if stored == "experts" else ""
    if stored not in WEIGHT_SCOPES:  # a per-kind scope (`ops.precision.scope_words`)
        scope = "; {} only: {} in bf16 (the model config's quantization_config)".format(
            *scope_words(stored, head_quantised))
    if dtype == "int4" or mxfp4_weight_only(accelerator, dtype):  # the bytes priced: a checkpoint's group scales too
        per = stored_weight_bytes(shape, dtype) if shape is not None else DTYPE_BYTES[dtype]
        return f"{dtype} weight-only (W4A16: {per:g} B per weight, bf16 activations and GEMMs{scope})"
    if dtype == "mxfp4":
        return (f"mxfp4 native (mxfp4 weights x mxfp8 activations on fp4 tensor cores, at the "
                f"{eight_bit_rate(accelerator)} rate{scope})")
    if dtype == "mxfp8":
        return (f"mxfp8 (W8A8 MXFP8: e4m3 weights and activations, an e8m0 scale per 32, {DTYPE_BYTES[dtype]:g} B "
                f"per weight, at the mxfp8 rate{scope})")
    return f"{dtype} ({scope[2:]})" if scope else dtype
