"""Software-stack profiles: what a training or serving framework version does that changes step time.

A stack is data (`catalog/stacks/<name>.yaml`, each with its `source:`), not a hidden constant: the same
plan on the same hardware runs at different speeds under Megatron-LM 2021 (eager, no TP overlap, unfused
cross-entropy, gradient all-reduce after the backward) and under NeMo 2024 (TP communication overlap, DP
bucket overlap, fused cross-entropy, fp8 with Transformer Engine). Consumers read the fields:

* `tp_comm_overlap_fraction`: share of the TP all-gather / reduce-scatter time hidden behind the adjacent
  GEMM (Megatron-core / Transformer Engine userbuffers "tp_comm_overlap", chunked pipelined GEMM + comm);
  `tp_overlap_sm_fraction`: share of the SMs the overlapped communication kernels take from those GEMMs
  (userbuffers' default 16-24 of 132 SMs on H100 for the ring exchange, NeMo `tp_comm_overlap_cfg`).
* `dp_overlap_fraction`: share of the neighbouring micro-batch's compute window in which bucketed gradient
  reduce-scatter / all-reduce and parameter all-gather can hide (0: reduced after the backward, as
  Megatron-LM's 2021 local DDP did; 1: overlapped bucket by bucket, `overlap_grad_reduce`/`overlap_param_gather`).
  `grad_reduce_dtype`: the dtype gradients are reduced in (fp32 main grads in Megatron, bf16 in DeepSpeed).
* `kernel_fusion`: eager stacks launch separate bias, dropout, norm-backward and layout-copy kernels around
  each GEMM (counted from a profiled eager GPT layer); Transformer Engine stacks fuse them.
* `cuda_graphs`: the layer's kernels are replayed from a captured graph, so host issue time is one launch
  per graph instead of one dispatch per kernel (PyTorch CUDA graphs; NeMo `enable_cuda_graph`).
  `cuda_graphs_when` (`CudaGraphRule`): the plans a framework graphs, where not every one (torchtitan 0.3.0: PP 1
  and EP 1; with `cuda_graphs: false` refused, as a file that extends a stack with one sets `cuda_graphs: false`
  drops it); `optimizer_graphs` false: the optimizer step eager beside graphed layers (`training.cuda_graph_rule`).
* `moe_cuda_graph`: with graphs, a dropless MoE layer (Megatron-Core without drop-and-pad) graphs only attention,
  router and preprocess and issues its MoE block eagerly after one host sync per layer forward
  (`training.host_time.dropless_moe_host`); `graphed` (drop-pad) replays the whole layer.
* `fused_cross_entropy`: the vocab-parallel loss runs as one fused kernel over the logits forward and one
  backward (Megatron-core `cross_entropy_loss_fusion`), instead of separate max / exp-sum / loss / grad passes;
  `cross_entropy_impl` native: Megatron-Core's own fused loss, compiled pieces over fp32 logits (the recipe's
  `cross_entropy_fusion_impl`; `training.layer_time.NATIVE_CROSS_ENTROPY_PASSES`); torch: plain
  `F.cross_entropy` over an fp32 copy, vocab-parallel by DTensor's loss_parallel at TP > 1 (torchtitan;
  `training.head_time.TORCH_CROSS_ENTROPY_PASSES`).
* `fp8`: the recipe (delayed / current / blockwise / mx scaling), what it costs beyond the casts, fp8 attention.
* `recompute_modules`: what `--recompute selective` re-runs in backward, Megatron-Core's fine-grained
  `TransformerConfig.recompute_modules` (megatron/core/transformer/transformer_config.py; default
  ["core_attn"]); `fp8_activation_cache`: activation tensors fp8 plans store in fp8 with 1x128 scales
  (DeepSeek-V3 arXiv:2412.19437 sec. 3.3.3); `quantized_gemm_inputs`: Transformer Engine saves the quantised
  GEMM inputs (`ops.params.quantized_gemm_inputs`); `layernorm_recompute_norms`: which norms `layernorm` re-runs
  (Megatron-Core's two, or all with MLA's latent norms); all priced by `training.recompute_modules`.
  `adam_moment_dtype`: the optimizer moments' dtype (`training.memory`); `optimizer`: adam | muon, the optimizer
  the stack's recipe steps with (`training.optimizers`, a named extension point; `train` / `search --optimizer`).
* `moe`: MoE routing and expert-parallel communication (`MoeRouting`): load imbalance or a capacity factor,
  and DeepEP-style dispatch/combine overlap (`catalog.moe_routing`).
* `matmul_efficiency_multiplier`, `attention_efficiency_multiplier`: only where a stack is known to differ
  from the accelerator's measured kernel rates (cite the figure in the YAML's `source`).
* `attention_kernel` (cudnn | fa2 | fa3, with its `_source`; a `FrameworkRules` field): the fused-attention kernel
  the framework selects, at the part's `attention_kernel_fraction` of it (`training.attention_core`).
* `sink_attention` (fused | te_unfused | unfused): the kernel attention with learned sinks (GPT-OSS) runs on:
  Transformer Engine 2.8-2.14 runs cuDNN's fused kernel with sinks iff cuDNN >= 9.13.1, else its unfused path
  (the sources read: nemo-26.04.yaml's comment). Each YAML states its source or its ASSUMPTION.
* The pipeline fields (`pipeline_split` and the layers it counts, `pipeline_layouts`, `mtp_num_layers`, blocking
  p2p exchanges, gradient reduction under a pipeline): `catalog.stack_framework_rules.PipelineRules`, which `Stack`
  inherits; deepseek-v3.yaml trains one MTP module. `pipeline_partition` (time | parameters | uniform |
  type:transformer | units): how a balanced split cuts its stages, at the plan's rates or fixed by the model and PP
  as DeepSpeed's `partition_method` or torchtitan's unit cut (`training.pipeline_partition`).
* `pipeline_schedules` (+ `pipeline_schedules_source`): the pipeline schedules the framework ships (Megatron
  1F1B + interleaved, DeepSpeed its 1F1B `TrainSchedule`, torch.distributed.pipelining's for torchtitan, DeepSeek's
  DualPipe); the search proposes no other (`training.schedules.stack_schedules`), `train` notes one.
  `zero_stages` / `pipeline_zero_stages` (ZeRO stages run with PP = 1 / PP > 1) and `context_parallel` (+ `_source`
  each): the same for what the framework refuses beyond its schedules (`training.stack_limits`); `default_zero` /
  `pipeline_default_zero` the stage it runs when none is set (`train` without --zero), `pipeline_micro_batch_rules`
  whose micro-batch rules its schedules keep (megatron or torch); `dtypes` the precisions it trains in;
  `sparse_attention` whether it ships DeepSeek Sparse Attention, and at CP > 1 (`training.sparse_attention_rules`).
  `model_recipes`: what its recipe for a model sets (`catalog.model_recipes`).
  These framework limits are `catalog.stack_framework_rules.FrameworkRules`, which `Stack` inherits.
* Serving: `custom_all_reduce` (one-shot / two-shot NVLink all-reduce for small decode messages, as
  TensorRT-LLM, vLLM and SGLang ship) and `cuda_graphs` for decode; the `serving:` block (`ServingProfile`)
  holds the engine's KV-memory rule, batch limits and scheduler (`serve --stack`, `serving.engines`), and the
  CUDA-graph capture cap above which iterations run eager (`serving.host_overhead`).

`load_stack(name | path)` returns the validated, frozen profile; unknown fields are errors.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from infraplan.catalog.fp8_recipe import Fp8Recipe as Fp8Recipe
from infraplan.catalog.fp8_recipe import Fp8RecipeName as Fp8RecipeName
from infraplan.catalog.loader import extended, list_presets, looks_like_path, read_entry, validated
from infraplan.catalog.model_recipes import ModelRecipes, stack_for_model
from infraplan.catalog.moe_routing import MoeRouting as MoeRouting
from infraplan.catalog.serving_profile import FractionRule as FractionRule
from infraplan.catalog.serving_profile import ServingProfile as ServingProfile
from infraplan.catalog.stack_files import StackFileWarning as StackFileWarning
from infraplan.catalog.stack_files import named_like_preset, own_sources, refuse_other_kind, unknown_class
from infraplan.catalog.stack_framework_rules import CudaGraphRule as CudaGraphRule
from infraplan.catalog.stack_framework_rules import FrameworkRules, PipelineRules
from infraplan.catalog.versioned_cache import versioned_cache
from infraplan.errors import InputError

StackKind = Literal["training", "serving"]
ReduceDtype = Literal["fp32", "bf16", "fp16"]
UnfusedOp = Literal["rmsnorm", "rotary", "swiglu", "repeat_kv", "split_projections"]
RecomputeModule = Literal["core_attn", "layernorm", "mla_up_proj", "moe_act", "mlp", "moe", "shared_experts",
                          "op_sac"]
CachedActivation = Literal["qkv_input", "mlp_input", "latents", "attn_out", "expert_fc1_out",
                           "expert_act_out", "shared_fc1_out", "shared_act_out", "ffn_fc1_out", "ffn_act_out"]
REDUCE_BYTES: dict[str, float] = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0}

# The default training stack: the current NeMo / Megatron-Bridge release profile (catalog/stacks/nemo-26.04.yaml,
# megatron-core 0.16.1), the stack of the validation set's frontier rows; megatron-core-0.8 (2024) before.
DEFAULT_TRAINING_STACK = "nemo-26.04"
DEFAULT_SERVING_STACK = "trtllm-0.x"


class Stack(FrameworkRules, PipelineRules):
    """One software stack and version (see module docstring)."""

    name: str
    display_name: str
    kind: StackKind
    stack_class: str = Field(description="family for error bands and the search guard: megatron, deepspeed, "
                             "torchtitan, trtllm, vllm, sglang")
    source: str
    tp_comm_overlap_fraction: float = Field(0.0, ge=0, le=1)
    tp_overlap_sm_fraction: float = Field(0.0, ge=0, lt=1)
    quantized_tp_all_gather: bool = Field(
        False, description="under sequence parallelism Transformer Engine all-gathers the GEMM inputs and output "
        "gradients in the recipe's low-precision format, not bf16 (`training.tp_quantised_collectives`)")
    qkv_split_copies: bool = Field(
        False, description="Megatron-Core splits the GQA QKV output into views and copies the query (reshape) "
        "forward, concatenates the Q / K / V gradients backward (`ops.qk_norm.qkv_split_copies`)")
    tp_async_backward: bool = Field(
        False, description="with TP overlap off, Transformer Engine's column-parallel layers reduce their dgrad "
        "asynchronously under the wgrad GEMM (TE 2.14 module/linear.py:748-754; `training.layer_time`)")
    dp_overlap_fraction: float = Field(1.0, ge=0, le=1)
    grad_reduce_dtype: ReduceDtype = "fp32"
    grad_reduce_all_reduce: bool = Field(
        False, description="ZeRO 1/2 reduce the gradients with an all-reduce, not a reduce-scatter (DeepSpeed's "
        "multi-rank bucket all-reduce; `training.step_traffic`)")
    grad_reduce_all_reduce_source: str | None = Field(
        None, description="where `grad_reduce_all_reduce` comes from (the framework's code)")
    nccl_collnet: bool = Field(
        False, description="NCCL_COLLNET_ENABLE=1 with the SHARP plugin (nccl-rdma-sharp-plugins): the DP all-reduce "
        "reduces in the switches where every tier does SHARP (`network.sharp.collnet_fabric`); NCCL's default is 0 "
        "(NCCL docs env.html, cited from memory), and no shipped stack sets it")
    gradient_accumulation_fusion: bool = True  # False: wgrad to param.grad, a hook adds it (`main_grad_accumulation`)
    grad_accumulation_bytes: float = Field(  # (le: 10 x the 6 B sourced, deepspeed.yaml; 1e300 gave a null step, hH53)
        0.0, ge=0, le=60.0, description="non-Megatron stacks: bytes per weight element and micro-batch that gradient "
        "accumulation moves outside the wgrad GEMM (`training.main_grad_accumulation.unfused_main_grad_bytes`)")
    grad_accumulation_source: str | None = Field(
        None, description="where `grad_accumulation_bytes` comes from (the framework's code)")
    zero3_collectives_per_micro_batch: bool = Field(
        False, description="ZeRO-3 without a pipeline re-gathers every layer's parameters (forward and backward) and "
        "reduce-scatters its gradients on every micro-batch (no gradient-sync skip during accumulation): the step "
        "exposes m times one micro-batch's per-layer collectives (`training.step_assembly`); False: once a step "
        "(the framework accumulates unreduced gradients, or unread: today's pricing)")
    zero3_collectives_source: str | None = Field(
        None, description="where `zero3_collectives_per_micro_batch` comes from (the framework's code)")
    zero3_pipeline_collectives_per_micro_batch: bool = Field(
        False, description="with `zero3_collectives_per_micro_batch`, the pipelined schedules (PP > 1) run the same "
        "per-micro-batch gathers and reduce-scatters (Megatron-FSDP: its hooks and `no_sync` are the schedules' "
        "own): m times one micro-batch's ZeRO-3 exposure at any PP (`training.step_assembly`); False: with a "
        "pipeline once a step (torchtitan's pipelining defers FSDP's resharding and gradient sync to the last "
        "micro-batch: `pipeline_grad_reduce_source`; DeepSpeed's pipeline engine runs no ZeRO-3); its source in "
        "`zero3_collectives_source`")
    zero3_pipeline_regathers: bool = Field(
        False, description="without `zero3_pipeline_collectives_per_micro_batch`, ZeRO-3's pipelined schedules "
        "re-gather each unit in every backward after a forward and in the warm-up forwards (torch's pipelining keeps "
        "a unit gathered after its backward, FSDP2's reshard-after-forward drops it after its forward): m + 1 gathers "
        "a step, the rest of the once-a-step price exposed by `training.fsdp2_regathers`; its source in "
        "`zero3_collectives_source`")
    zero3_gathers_lone_shards: bool = Field(
        True, description="ZeRO-3 gathers each layer into a copy of its own also where a parameter's shard group is "
        "one rank (a routed expert at expert-DP 1, a dense layer at DP x CP 1): two layers' copies beside the shards "
        "(`training.state_memory.gathered_layer_params`; today's pricing, not read in FSDP2 or DeepSpeed); False: such "
        "a group's parameters stay in their own buffer and are used in place (Megatron-FSDP); its source in "
        "`zero3_collectives_source`")
    fsdp2_copy_passes: bool = Field(
        False, description="FSDP2's copy-out of each all-gather into the unsharded parameters and copy-in of the "
        "gradients into the reduce-scatter buffer at the reduce dtype, on the compute stream, priced on ZeRO-3 plans "
        "without a pipeline (`training.fsdp2_copies`)")
    fsdp2_copy_source: str | None = Field(
        None, description="where `fsdp2_copy_passes` comes from (the framework's code)")
    zero3_edge_tables: Literal["embedding", "root"] = Field("embedding", description="ZeRO-3's step-edge tables "
        "(`training.zero3_edges`): root, FSDP2's root unit (embedding, final norm, output layer); embedding alone "
        "(Megatron-FSDP, DeepSpeed); its source in `zero3_collectives_source`")
    adamw_bytes_per_param: float | None = Field(  # (le: 10 x the 92 B sourced; 1e300 gave a null step, hR53)
        None, gt=0, le=1000.0, description="bytes per stepped parameter of the optimizer step with the gradient-norm "
        "clip (None: `training.optimizer_step.ADAM_BYTES_PER_PARAM`, a fused multi-tensor Adam)")
    adamw_bytes_source: str | None = Field(
        None, description="where `adamw_bytes_per_param` comes from (the framework's code)")
    zero2_grad_reduce_per_micro_batch: bool = Field(
        False, description="ZeRO-2 reduce-scatters every micro-batch's gradients (no gradient-sync skip during "
        "accumulation; Megatron-FSDP optim_grads), at any PP: the step exposes m times one micro-batch's exposed "
        "reduce-scatter and the parameter all-gather once (`training.step_assembly`; hN, session 53); False: both once "
        "a step (the distributed optimizer's ZeRO-1 and today's pricing); its source in `zero3_collectives_source`")
    cuda_graphs: bool = False
    cuda_graphs_when: CudaGraphRule | None = Field(
        None, description="with `cuda_graphs`, the plans the framework captures (`CudaGraphRule`: PP / EP bounds); "
        "None: every plan (`training.cuda_graph_rule.graphed`: the layers' and LM head's launches, the dropless MoE "
        "terms, the optimizer's, the adapters' calls and the host-bound note read it per plan)")
    optimizer_graphs: bool = Field(
        True, description="with a plan's graphs, the optimizer step's launches replayed from a graph too; false: "
        "eager (torchtitan 0.3.0 graphs one micro-batch's forward + loss + backward, zero_grad, clipping and the "
        "optimizer step outside it: trainer.py:613-614, :874, :940-948)")
    moe_cuda_graph: Literal["dropless_eager", "graphed"] = Field(
        "dropless_eager", description="with `cuda_graphs`, what of a MoE layer is graphed: dropless_eager (dropless "
        "routing: attention, router and preprocess graphed, the MoE block issued eagerly after one host-device sync "
        "per layer forward; megatron-core 0.16.1 transformer_config.py:1764-1771 'moe cuda graph is only supported "
        "with drop-padding MoE', moe/experts.py:645 `tokens_per_expert.tolist()`) or graphed (drop-pad MoE: the "
        "whole layer one graph); `training.host_time.dropless_moe_host`")
    kernel_fusion: Literal["eager", "fused"] = Field(
        "fused", description="eager: unfused bias / dropout / norm kernels around the GEMMs (plain PyTorch "
        "modules); fused: Transformer Engine modules fuse them into the GEMMs and norms")
    unfused_elementwise: tuple[UnfusedOp, ...] = Field(
        (), description="element-wise operations the framework's model code runs as separate eager PyTorch kernels "
        "(rmsnorm, rotary, swiglu, repeat_kv, split_projections), priced beyond the fused count by `ops.eager_passes`; "
        "empty: every one fused (Transformer Engine, apex / Megatron fused kernels)")
    unfused_elementwise_source: str | None = Field(
        None, description="where `unfused_elementwise` comes from (the framework's code)")

    @field_validator("unfused_elementwise")
    @classmethod
    def _each_op_once(cls, ops: tuple[str, ...]) -> tuple[str, ...]:
        """An operation listed twice is refused: `ops.eager_passes` adds each listed entry's passes, so a repeated
        name priced its extra bytes twice, silently (hL, session 52)."""
        twice = sorted({op for op in ops if ops.count(op) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once (each operation is priced once per layer)")
        return ops

    fused_cross_entropy: bool = False
    cross_entropy_impl: Literal["te", "native", "torch"] = Field(
        "te", description="with `fused_cross_entropy`, the recipe's Megatron-Core `cross_entropy_fusion_impl`: te "
        "(one fused kernel each way) or native (torch.compile'd pieces over materialised fp32 logits, "
        "`training.layer_time.NATIVE_CROSS_ENTROPY_PASSES`); torch, whatever `fused_cross_entropy`: PyTorch's "
        "F.cross_entropy over an fp32 copy of the logits, DTensor's loss_parallel ops at TP > 1 (torchtitan; "
        "`training.head_time.TORCH_CROSS_ENTROPY_PASSES`)")
    phase_sync: bool = Field(
        False, description="the host synchronises the device after every micro-batch forward and backward (timers "
        "that call torch.cuda.synchronize), so each phase is its own host/GPU overlap interval")
    batch_host_ops: float = Field(
        0.0, ge=0, description="host calls per micro-batch on every stage outside the layers and the LM head: "
        "fetching and broadcasting the batch, building masks and position ids (Megatron `get_batch`); exposed in "
        "full where `phase_sync` timers bracket them (`training.step_time.micro_batch_host_time`)")
    loss_host_ops: float = Field(
        0.0, ge=0, description="host calls per micro-batch on the last stage after the cross-entropy: loss masking "
        "and averaging, its DP all-reduce, loss scaling and their backward (Megatron `loss_func`)")
    partition_checkpointed_activations: bool = Field(
        False, description="full recompute without sequence parallelism keeps each layer's input split over TP and "
        "all-gathers it before the recompute (DeepSpeed `partition_activations`, Megatron-LM "
        "`--distribute-checkpointed-activations`): the stored input / TP, one T x h all-gather and copies a layer")
    partition_checkpointed_source: str | None = Field(
        None, description="where `partition_checkpointed_activations` comes from (the framework's default)")
    fp8: Fp8Recipe = Fp8Recipe(recipe="delayed")
    nvfp4_bf16_layer_share: float | None = Field(
        None, ge=0, le=1, description="share of the layers an NVFP4 plan keeps in bf16; None: the NVFP4 paper's "
        "recipe, 10 of 62 (`ops.precision`); Megatron-Bridge's `bf16_with_nvfp4_mixed` keeps none "
        "(first_last_layers_bf16 False: training/mixed_precision.py:53 / :405-417, megatron-core fp4_utils.py:122-136)")
    moe: MoeRouting = MoeRouting()
    matmul_efficiency_multiplier: float = Field(1.0, gt=0, le=1.5)
    attention_efficiency_multiplier: float = Field(1.0, gt=0, le=1.5)
    sink_attention: Literal["fused", "te_unfused", "unfused"] = Field(
        "fused", description="how attention with learned sinks (GPT-OSS) runs: fused (cuDNN's fused attention on "
        "every layer, the sliding window skipping the blocks outside it: what Transformer Engine 2.8-2.14 selects "
        "with cuDNN >= 9.13.1), te_unfused (Transformer Engine's UnfusedDotProductAttention with the sink column: "
        "full s x (s + 1) scores, an eager fp32 softmax; cuDNN < 9.13.1 or deterministic mode) or unfused (full "
        "s x s scores under a 4 / 6 B per score softmax, a stand-in no kernel runs; "
        "`training.attention_core.attention_core_times`)")
    custom_all_reduce: bool = False
    recompute_modules: tuple[RecomputeModule, ...] = Field(
        ("core_attn",), description="modules `--recompute selective` re-runs in backward "
        "(Megatron-Core `recompute_modules`): core_attn, layernorm, mla_up_proj, moe_act, mlp, moe, shared_experts; "
        "op_sac: torchtitan's op-level selective AC (`training.recompute_modules`)")
    recompute_modules_source: str | None = Field(
        None, description="where `recompute_modules` comes from (the framework's code)")
    layernorm_recompute_norms: Literal["block", "all"] = Field(
        "block", description="the norms the `layernorm` recompute module re-runs: block, the layer's input and pre-MLP "
        "norms (Megatron-Core 0.16.1 transformer_config.py:417; MLA's q / kv latent norms sit inside the up "
        "projections' TE LayerNormLinear, not re-run); all, MLA's latent norms too (`training.recompute_modules`)")
    cpu_offload_layers: int = Field(0, ge=0, description="first N layers whose saved activations go to host memory "
                                    "(Megatron-Core `cpu_offloading_num_layers`; `training.activation_offload`)")
    fp8_activation_cache: tuple[CachedActivation, ...] = Field(
        (), description="activation tensors (`ops.params.activation_terms_per_token_layer`) that "
        "fp8 plans keep in fp8 with one 4 B scale per 128 elements (attn_out: DeepSeek's 12-bit E5M6)")
    quantized_gemm_inputs: bool = Field(
        False, description="fp8-family plans store the inputs of the layer's GEMMs for backward in the GEMM's "
        "low-precision format, as Transformer Engine's linear modules do (`ops.params.quantized_gemm_inputs`)")
    adam_moment_dtype: Literal["fp32", "bf16"] = Field(
        "fp32", description="dtype of Adam's first and second moments (fp32: Megatron; bf16: DeepSeek-V3 "
        "arXiv:2412.19437 sec. 3.3.3, master weights still fp32)")
    optimizer: Literal["adam", "muon"] = Field(
        "adam", description="the optimizer the plans step with (`training.optimizers.OPTIMIZERS`): adam (AdamW), or "
        "muon (Megatron-Core's Muon on the 2-D parameters, AdamW on the tables)")
    fp8_param_gather: bool = Field(
        False, description="fp8 / MXFP8 / NVFP4 plans keep their GEMM weights only in the low-precision copy, no bf16 "
        "weights beside it (Megatron-Core `fp8_param`, Transformer Engine `fp8_model_init`; "
        "`ops.precision.PrecisionRecipe.params_only_quantised`, `training.memory`)")
    model_recipes: ModelRecipes = Field((), description="per model: what the framework's recipe for "
                                                   "it sets beside these defaults, with its source (`model_recipes`)")
    recipe_model: str | None = None  # the model whose recipe this profile carries (`model_recipes.stack_for_model`)
    serving: ServingProfile | None = None

    @model_validator(mode="after")
    def _grad_accumulation_is_read(self) -> Stack:
        """`grad_accumulation_bytes` is priced on non-Megatron stacks only (`training.main_grad_accumulation.
        unfused_main_grad_bytes` takes a Megatron stack's from its `gradient_accumulation_fusion`): set on a Megatron
        one it was ignored, silently (hL, session 52)."""
        if self.stack_class == "megatron" and self.grad_accumulation_bytes > 0:
            raise ValueError("grad_accumulation_bytes is priced for non-Megatron stacks only (a megatron stack's "
                             "accumulation follows its gradient_accumulation_fusion): remove it or the stack_class")
        # (hR, session 53) two more fields read only beside another, ignored silently without it
        if self.fsdp2_copy_passes and not self.zero3_collectives_per_micro_batch:
            raise ValueError("fsdp2_copy_passes is priced where ZeRO-3 re-gathers every micro-batch (`training."
                             "fsdp2_copies`): set zero3_collectives_per_micro_batch too, or remove it")
        if self.p2p_transfers_per_micro_batch != 2.0 and not (self.p2p_synchronize
                                                             or self.p2p_overlap_needs_interleaving):
            raise ValueError("p2p_transfers_per_micro_batch counts blocking transfers: set p2p_synchronize (or "
                             "p2p_overlap_needs_interleaving) too, or remove it")
        if self.cuda_graphs_when is not None and not self.cuda_graphs:  # (hW71: accepted silently, the rule moot)
            raise ValueError("cuda_graphs_when bounds the plans `cuda_graphs` captures, and cuda_graphs is false: "
                             "set cuda_graphs: true, or remove cuda_graphs_when")
        return self

    @property
    def grad_reduce_bytes(self) -> float:
        """Bytes per gradient element on the wire."""
        return REDUCE_BYTES[self.grad_reduce_dtype]


def list_stacks() -> list[str]:
    """Names of the shipped stack profiles."""
    return list_presets("stacks")


@versioned_cache(maxsize=64)
def load_stack(ref: str) -> Stack:
    """A shipped stack profile by name, or a user's YAML file by path; bad input is one InputError line. A file may
    start from a shipped stack and set only what it changes (`extends: nemo-26.04` + `cuda_graphs: false`)."""
    data, name = read_entry("stacks", ref)
    if looks_like_path(ref) and "extends" not in data and data.get("kind") not in ("training", "serving"):
        refuse_other_kind(ref, data)
    if data.get("recipe_model") is not None:  # `stack_for_model`'s record: a file's skipped the model's own recipe
        raise InputError(f"stack {ref}: recipe_model is set by infraplan, not a file (give model_recipes instead)")
    data.setdefault("name", name)
    own = dict(data)
    if "extends" in data:  # (a setting changed without its own `<field>_source` cites the file: `own_sources`)
        data = own_sources(extended("stacks", data, ref, load_stack), own, ref, load_stack)
        if own.get("cuda_graphs") is False and "cuda_graphs_when" not in own:
            data["cuda_graphs_when"] = None  # graphs off everywhere: the parent's bounds on them go too
    stack = validated(Stack, data, ref)
    if not looks_like_path(ref):
        return stack
    unknown_class(stack, ref, {load_stack(name).stack_class for name in list_stacks()})  # (its class: hN53)
    return named_like_preset(stack, ref, list_stacks(), load_stack)


def resolve_stack(stack: str | Stack | None, kind: StackKind, model: str | None = None) -> Stack:
    """A Stack from a name, path or Stack; None is the default of `kind` (stated in every result). `model`: the
    model trained: a stack named (or None, or a file) comes with its recipe for that model (`catalog.model_recipes.
    stack_for_model`); a Stack object is taken as its caller built it."""
    if isinstance(stack, Stack):
        if stack.kind != kind:
            raise InputError(f"stack {stack.name} is a {stack.kind} stack, not a {kind} one")
        return stack
    if stack is None:
        stack = DEFAULT_TRAINING_STACK if kind == "training" else DEFAULT_SERVING_STACK
    profile = load_stack(stack)
    if profile.kind != kind:
        raise InputError(f"--stack {stack}: {profile.name} is a {profile.kind} stack, not a {kind} one "
                         f"(known {kind} stacks: {', '.join(n for n in list_stacks() if load_stack(n).kind == kind)})")
    return profile if model is None else stack_for_model(profile, model)
