"""A serving stack release's engine conventions and measured kernels: the `serving:` block of a stack YAML.

`ServingProfile` holds the engine's KV-memory rule, batch limits, scheduler, front-end time and CUDA-graph cap
(`serving.engines`, `serving.host_overhead`), the KV-cache formats it offers and which iterations its CUDA graphs
replay (`kv_cache_dtypes`, `cuda_graph_scope`: unset in a user's YAML, the shipped profile of its engine family
states them, `serving.engines` "Engine facts"), and where a release was measured apart from the catalog's kernel
tables, its own kernels: decode attention (`serving.decode_kernels`; an MLA kernel's fit, `serving.mla_decode`),
GEMM fractions of peak (`serving.llm_iteration`) and the block-fp8 fused MoE's extra time over the TensorRT-LLM
1.3.0rc20 kernel the catalog's MoE rules are fitted to (`MoeReleaseExtra`, `serving.routed_experts`) and its
block-fp8 plain GEMM at small M (`BlockFp8GemmFit`, `serving.release_tables`). Each value is
cited in the stack YAML that carries it. Moved out of `catalog.stacks` (which re-exports both names) for room.

`MoeReleaseExtra`: per routed layer, `fixed_s` + `token_expert_s` x tokens x routed experts, for models of at least
`min_experts` routed experts: the form of the difference between two releases' measured fused-MoE tables at the
same shapes (a kernel over the tokens' router logits, T x E: ASSUMPTION on the mechanism; the fit and its error
are in the YAML, e.g. validation/data/stacks/trtllm-1.2.0rc6.yaml).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from infraplan.catalog.kernel_fits import DecodeAttentionFit, MlaDecodeFit
from infraplan.catalog.schemas import Spec
from infraplan.limits import MAX_TOKENS

FractionRule = Literal["by_tp", "sglang-0.5.1", "sglang-0.5.6"]  # KV fraction: a TP table or an SGLang release
IndexerRelease = Literal["sglang-0.5.6", "sglang-0.5.9"]  # DSA indexer kernel counts of a release (hM63)
# a TP group size the engine's custom all-reduce runs at: 2 or more (vLLM returns before building it at one rank,
# custom_all_reduce.py:100-103 in 0.15.1; 0 or -2 were read as "never", hN58)
WorldSize = Annotated[int, Field(ge=2)]
KvCacheDtype = Literal["bf16", "fp8", "int8"]  # the planner's KV-cache formats (`serving.kv_cache.KV_DTYPES`)
# the planner's serving weight formats (`ops.precision.SERVING_FORMATS`, `serve --dtype`)
WeightFormat = Literal["bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4", "mxfp8"]
CudaGraphScope = Literal["all", "decode-only"]  # which iterations a captured CUDA graph can replay
# which quantised GEMMs' bf16 inputs the engine casts to fp8 in a kernel of their own (`serving.engine_kernels`)
ActivationQuant = Literal["fused", "attention_output", "norm_outputs", "every_linear"]


class MoeReleaseExtra(Spec):
    """A release's fused-MoE time per routed layer beyond the catalog's kernel (module docstring)."""

    fixed_s: float = Field(ge=0, description="seconds per routed layer and iteration")
    token_expert_s: float = Field(ge=0, description="seconds per (token, routed expert of the model) and layer")
    min_experts: int = Field(1, ge=1, description="models with fewer routed experts do not pay it")


class BlockFp8GemmFit(Spec):
    """A release's measured block-fp8 plain GEMM at small M (`serving.release_tables`)."""

    fixed_s: float = Field(ge=0, description="seconds per GEMM (launches, activation quantisation)")
    k_s: float = Field(ge=0, description="seconds per element of K (the serial K loop of a few output tiles)")
    weight_read_fraction: float = Field(gt=0, le=1, description="fraction of HBM bandwidth the fp8 weights stream at")
    large_m: int = Field(1 << 30, ge=1, description="M from which the wave form below prices the GEMM (its fit range)")
    wave_fixed_s: float = Field(0.0, ge=0, description="wave form: seconds per GEMM")
    wave_s: float = Field(0.0, ge=0, description="wave form: seconds per wave of output tiles over the SMs")
    wave_k_s: float = Field(0.0, ge=0, description="wave form: seconds per wave and element of K")
    activation_s: float = Field(0.0, ge=0, description="wave form: seconds per M x K activation element (quantisation)")
    tile_m: int = Field(64, ge=1, description="wave form: output tile rows")
    tile_n: int = Field(128, ge=1, description="wave form: output tile columns")


class AttentionDpBalance(Spec):
    """TensorRT-LLM's attention-DP context balancing (`attention_dp_config`; `serving.adp_balance`)."""

    enabled: bool = Field(False, description="context requests held until every rank has one (enable_balance)")
    timeout_iterations: int = Field(50, ge=1, description="iterations after which held context requests run "
                                    "anyway (timeout_iters)")
    batching_wait_iterations: int = Field(10, ge=0, description="iterations context requests wait, once every "
                                          "rank has one, to batch more (batching_wait_iters)")


class ServingProfile(Spec):
    """A serving stack's engine conventions (`serving.engines` reads them; cite each in the YAML's `source`).

    `kv_convention`: what the KV-memory fraction applies to (free_after_weights: TensorRT-LLM; of_total: vLLM;
    static_of_total: SGLang, weights + KV inside the fraction); `kv_fraction_by_tp`: [TP at least, fraction]
    steps overriding it; `scheduler`: the `serving.schedulers` policy the engine runs.
    """

    engine: Literal["trtllm", "vllm", "sglang"]
    kv_convention: Literal["free_after_weights", "of_total", "static_of_total"]
    kv_memory_fraction: float = Field(gt=0, le=1)
    kv_fraction_by_tp: list[tuple[int, float]] = Field(default_factory=list)
    mem_fraction_rule: FractionRule = Field(
        "by_tp", description="how the KV-memory fraction is found: by_tp (`kv_memory_fraction` and "
        "`kv_fraction_by_tp`), or SGLang's default mem_fraction_static as the named release computes it from the "
        "GPU memory and the parallel size (`serving.sglang_memory`)")
    offline_max_batch: int = Field(ge=1)
    token_budget: int = Field(8192, ge=1)
    token_budget_by_memory_gib: list[tuple[float, int]] | None = Field(
        None, description="the engine's default token budget by the GPU's memory, as (GiB at least, tokens) tiers "
        "(SGLang: chunked_prefill_size from the GPU memory); [] or a part of unknown memory: `token_budget`; unset: "
        "the engine family's shipped profile's (`serving.engines.ServingEngine.budget_on`)")
    token_budget_by_memory_source: str | None = Field(
        None, description="where `token_budget_by_memory_gib` comes from (the engine's code, file:line)")
    token_budget_split_by_attention_dp: bool | None = Field(
        None, description="true: with attention DP the engine divides its default token budget by the attention-DP "
        "ranks, each rank's scheduler running the quotient (SGLang: chunked_prefill_size // dp_size under "
        "--enable-dp-attention); unset: the engine family's shipped profile's "
        "(`serving.engines.ServingEngine.budget_on`)")
    token_budget_split_by_attention_dp_source: str | None = Field(
        None, description="where `token_budget_split_by_attention_dp` comes from (the engine's code, file:line)")
    output_reserve_scale_by_attention_dp: float | None = Field(
        None, gt=0, description="with attention DP, the factor on the engine's output-reserve ratio at admission "
        "(SGLang: schedule_conservativeness x 0.3 under --enable-dp-attention, `serving.output_reserve`); unset: the "
        "engine family's shipped profile's, else 1")
    output_reserve_scale_by_attention_dp_source: str | None = Field(
        None, description="where `output_reserve_scale_by_attention_dp` comes from (the engine's code, file:line)")
    scheduler: str = "fcfs"
    kv_admission: Literal["reserve_full", "on_demand"] = Field(
        "reserve_full", description="reserve_full: a request starts only when the KV cache holds its whole prompt "
        "and output (TensorRT-LLM GUARANTEED_NO_EVICT); on_demand: blocks are taken as tokens are written and the "
        "newest running request is preempted when they run out (vLLM, SGLang; `serving.serving_engine`)")
    preemption: Literal["none", "recompute"] = Field(
        "none", description="what a preempted request loses: recompute (its KV is dropped and its prompt and "
        "output so far are prefilled again on readmission); none with reserve_full")
    request_latency_s: float = Field(
        0.0, ge=0, description="per-request front-end time a client sees in its TTFT beside the engine loop "
        "(HTTP server, tokenizer, scheduler hand-off, streaming the first token back)")
    cuda_graph_max_batch: int = Field(
        512, ge=0, description="largest iteration (tokens) replayed from a captured CUDA graph when `cuda_graphs` "
        "is on; larger ones run eager and wait for the host's kernel launches (`serving.host_overhead`)")
    cuda_graph_max_batch_by_tp: list[tuple[int, int]] = Field(
        default_factory=list, description="[TP at least, cap] steps overriding `cuda_graph_max_batch`")
    cuda_graph_scope: CudaGraphScope | None = Field(
        None, description="iterations a captured graph replays: all (decode, mixed and prefill up to the cap: "
        "vLLM's piecewise graphs) or decode-only (an iteration holding prefill tokens runs eager whatever its "
        "size: SGLang; `serving.host_overhead`); unset: the value of the engine family's shipped profile")
    activation_quant: ActivationQuant | None = Field(
        None, description="W8A8 deployments: which GEMMs' bf16 inputs the engine quantises in a kernel of their own "
        "(fused: none, the producing norm / activation / attention kernels write fp8; attention_output: the output "
        "projection's only; norm_outputs: the GEMMs a norm feeds, QKV and gate-up; every_linear: every quantised "
        "plain GEMM's; `serving.engine_kernels`); unset: the "
        "engine family's shipped profile's")
    dsa_indexer_release: IndexerRelease | None = Field(
        None, description="the release whose DeepSeek Sparse Attention indexer kernels the engine runs (launch counts "
        "per layer forward, `serving.sparse_decode`, `serving.engine_kernels`); unset: the engine family's counted "
        "release (vLLM 0.12.0, SGLang 0.5.6)")
    kv_cache_dtypes: list[KvCacheDtype] | None = Field(
        None, description="KV-cache formats the engine offers (`--kv-dtype`; `serving.deployment`); unset: the "
        "formats of the engine family's shipped profile")
    weight_formats: list[WeightFormat] | None = Field(
        None, description="serving weight formats the stack's kernels run (`serve --dtype`; each with the activations "
        "`ops.precision` 'Serving formats' gives it: W8A8, W4A4, weight-only), the part's catalog listing the "
        "format's peak as well (`serving.deployment.format_gap`); unset: the engine family's shipped profile's, "
        "else the family's list (`ops.precision.SERVING_FORMATS`' engines: every format but mxfp8 on vLLM)")
    weight_formats_source: str | None = Field(
        None, description="where `weight_formats` comes from (the stack's release or publication, or ASSUMPTION)")
    speculative_decoding: bool | None = Field(
        None, description="the engine runs a model's multi-token-prediction module (DeepSeek-V3 / R1 "
        "num_nextn_predict_layers) as a speculative draft (`serve --speculative-tokens`, `serve-plan "
        "--try-speculative`; `serving.capacity_space`); unset: the engine family's shipped profile's")
    custom_all_reduce_world_sizes: list[WorldSize] | None = Field(
        None, description="the TP group sizes at which the engine's custom all-reduce runs (`custom_all_reduce`; "
        "vLLM / SGLang `CustomAllreduce._SUPPORTED_WORLD_SIZES`): NCCL at any other; [] any size inside one scale-up "
        "domain; unset: the engine family's shipped profile's (`serving.engines.ServingEngine.custom_all_reduce_at`)")
    custom_all_reduce_world_sizes_source: str | None = Field(
        None, description="where `custom_all_reduce_world_sizes` comes from (the engine's code, file:line)")
    custom_all_reduce_one_host: bool | None = Field(
        None, description="true: the engine's custom all-reduce runs only with every rank of the TP group on one "
        "host (vLLM / SGLang: a group spanning hosts runs NCCL, e.g. TP 8 on GB200 NVL72's 4-GPU hosts); false: "
        "anywhere in one scale-up domain (TensorRT-LLM's MNNVL all-reduce); unset: the engine family's shipped "
        "profile's (`serving.engines.ServingEngine.custom_all_reduce_at`)")
    custom_all_reduce_one_host_source: str | None = Field(
        None, description="where `custom_all_reduce_one_host` comes from (the engine's code, file:line)")
    runs_on: list[str] | None = Field(
        None, description="vendors (as accelerator files write `vendor:`) whose accelerators the engine runs on "
        "(`stack_placement.serving_stack_for`); unset: the engine family's shipped profile's")
    default_on: list[str] = Field(
        default_factory=list, description="of `runs_on`, the vendors whose accelerators a serve without --stack "
        "runs this stack on (shipped profiles only; `stack_placement.default_serving_stack`)")
    assumption: str | None = Field(
        None, description="what a profile with no measurement of its engine assumes (catalog/stacks/pytorch-mtia.yaml):"
        " every answer it prices carries it as a warning (`stack_placement.serving_stack_for`)")
    vendor_kernels: bool | None = Field(
        None, description="true: the engine's kernels are built for the `runs_on` vendors only (TensorRT-LLM: CUDA), "
        "so --stack on another vendor's part is refused; false: other hardware runs it through plugins, a warning; "
        "unset: the engine family's shipped profile's")
    host_per_sequence_s: float = Field(
        0.0, ge=0, le=1.0, description="host seconds per decoding sequence of a decode iteration outside the GPU (a "
        "serving worker's per-output Python loop): a decode step of n sequences lasts at least n x this "
        "(`serving.host_overhead.per_sequence_floor`); 0: none; at most 1 s (the measured figures are tens of us)")
    host_per_sequence_measured: bool = Field(
        False, description="true: `host_per_sequence_s` was measured by running the engine's own per-token code "
        "(its `source:`), not fitted to rows; such a figure is on under `serving.host_overhead."
        "MEASURED_HOST_PER_SEQUENCE`, a fitted one only under `HOST_PER_SEQUENCE`")
    attention_dp_prefill_stall: bool = Field(
        True, description="wide EP: a prefill on one attention-DP rank stalls the others (lock-step ranks whose "
        "prefills land in different iterations); false where the engine runs the ranks' context phases in the "
        "same iterations (`serving.prefill_stall.wide_ep_prefill_stall`)")
    attention_dp_balance: AttentionDpBalance | None = Field(
        None, description="attention DP: context requests held until every rank can take one or a timeout passes "
        "(TensorRT-LLM's `attention_dp_config`; `serving.adp_balance`); unset: none, the engine's default")
    two_batch_overlap: bool = Field(
        False, description="wide EP: the engine splits each iteration into two micro-batches and runs one's expert "
        "dispatch / combine while the other computes (SGLang --enable-two-batch-overlap, DeepSeek's inference engine; "
        "`serving.ep_all_to_all`)")
    ep_fp8_dispatch: bool = Field(
        False, description="wide EP with fp8 weights: the expert dispatch moves fp8 tokens with their 1x128 scales and "
        "the combine bf16 (DeepEP, as SGLang --moe-a2a-backend deepep runs it; `serving.ep_all_to_all`)")
    deepep_normal_kernels: bool = Field(
        False, description="wide EP: every iteration's dispatch / combine runs DeepEP's normal kernels, one copy of a "
        "token per destination node over RDMA forwarded there over NVLink, at DeepEP's published internode rate "
        "(SGLang --deepep-mode normal, a disaggregated prefill server's; `serving.ep_all_to_all`, `cluster.deepep`)")
    ep_overlap_sms: int = Field(
        0, ge=0, le=1024, description="SMs the all-to-all kernels hold while two-batch overlap hides them under "
        "the other micro-batch's compute, which runs on the rest (DeepEP's `Buffer.num_sms`); 0: none priced")
    ep_redundant_experts: int = Field(
        0, ge=0, le=4096, description="wide EP: redundant expert copies EPLB places so that every rank receives "
        "the mean rank's routed tokens (SGLang --ep-num-redundant-experts with --enable-eplb; DeepSeek-V3 sec. "
        "3.4); a rank holds ceil((E + R) / EP) experts' weights (`serving.expert_slots`); 0: no EPLB")
    schedule_ahead: bool = Field(
        False, description="the engine loop schedules and launches iteration i + 1 before it waits for iteration "
        "i (vLLM async scheduling, SGLang's overlap scheduler): a new request waits one iteration more "
        "(`serving.request_intake`)")
    recv_interval_iterations: int = Field(
        1, ge=1, le=MAX_TOKENS, description="the engine loop takes new requests in every this many decode iterations "
        "(SGLang's --scheduler-recv-interval, default 1; at once after a prefill iteration): a new request waits "
        "(n - 1) / 2 of its decode iterations more on average (`serving.request_intake`); at most the longest "
        "sequence's decode iterations (`limits.MAX_TOKENS`: 10**23 priced TTFTs of 10**20 s and TPOT 0)")
    fp8_kv_context_fmha: bool = Field(
        False, description="prefill attention over an fp8 KV cache runs the stack's FP8 context FMHA at the "
        "accelerator's measured `fp8_kv_context_attention_ratio` (`serving.kv_cache.context_fmha_speedup`)")
    moe_fp8_padded_workspace: bool = Field(
        False, description="fp8 routed experts run a contiguous grouped GEMM that computes its whole padded "
        "workspace, T k + E_local (128 - 1) rows, padding included (vLLM 0.12's DeepGEMM MoE; "
        "`serving.deepgemm_moe`)")
    moe_fp8_block_tile_cost: bool = Field(
        False, description="block-scaled fp8 routed experts run the accelerator's measured per-tile cost "
        "(`fp8_block_grouped_depth`: TensorRT-LLM's fused MoE on Hopper; `serving.routed_experts`)")
    moe_fp8_block_rate_fraction: float = Field(
        1.0, gt=0, le=1, description="fraction of the accelerator's fp8 rate the block-scaled fp8 routed experts' "
        "fused MoE kernel sustains where it is not DeepGEMM's (SGLang's Triton fused MoE, measured; "
        "`serving.routed_experts`)")
    moe_int4_marlin_rate_fraction: float = Field(
        1.0, gt=0, le=1, description="fraction of the accelerator's weight-only (W4A16) rate the stack's INT4 "
        "group-quantised fused MoE sustains (vLLM's Marlin MoE for compressed-tensors WNA16 checkpoints, measured; "
        "not MXFP4; `serving.routed_experts`)")
    moe_w4a16_mxfp4_token_cost: bool = Field(
        False, description="weight-only MXFP4 routed experts (GPT-OSS on Hopper) pay the accelerator's measured "
        "per-token and fixed cost (`w4a16_mxfp4_moe_token_s`, TensorRT-LLM's fused MoE; `serving.routed_experts`)")
    decode_attention: dict[str, dict[Literal["bf16", "fp8"], MlaDecodeFit | DecodeAttentionFit]] = Field(
        default_factory=dict, description="accelerator -> KV dtype -> this release's measured decode-attention op "
        "(fixed s per layer + KV bytes at a read fraction; MLA: `serving.mla_decode`), replacing the roofline's")
    matmul_fraction: dict[str, dict[Literal["bf16", "fp8"], float]] = Field(
        default_factory=dict, description="accelerator -> GEMM dtype -> this release's measured GEMM fraction of "
        "peak, replacing the accelerator's `matmul_max_fraction` (`serving.llm_iteration`)")
    moe_release_extra: dict[str, MoeReleaseExtra] = Field(
        default_factory=dict, description="accelerator -> this release's block-fp8 fused-MoE time per routed layer "
        "beyond the TensorRT-LLM 1.3.0rc20 kernel the catalog is fitted to (`serving.routed_experts`)")
    fp8_block_gemm: dict[str, BlockFp8GemmFit] = Field(
        default_factory=dict, description="accelerator -> this release's measured small-M block-fp8 plain GEMM, "
        "a floor under the roofline's (`serving.release_tables`)")
    all_reduce_table: dict[str, str] = Field(
        default_factory=dict, description="accelerator -> a catalog/nccl table of this release's measured custom "
        "all-reduce, read instead of the accelerator's for the TP all-reduce (`serving.layer_work`)")

    @model_validator(mode="after")
    def _measured_has_a_figure(self) -> ServingProfile:
        if self.host_per_sequence_measured and not self.host_per_sequence_s:
            raise ValueError("host_per_sequence_measured: true needs the measured host_per_sequence_s (> 0); "
                             "without a figure set host_per_sequence_measured: false")
        if self.weight_formats is not None and "bf16" not in self.weight_formats:  # every refusal offers bf16
            raise ValueError(f"weight_formats {self.weight_formats} must include bf16 (every engine serves bf16 "
                             "weights; `serve` offers it where another format is refused)")
        return self
