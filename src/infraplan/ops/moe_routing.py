"""The MoE router and token permutation in training: bytes and kernels of the passes around the expert GEMMs.

Megatron-Core's all-to-all token dispatcher with Transformer Engine's fused permute (`moe_permute_fusion`), as
`moe_routing_passes` details; the layer table (`ops.layer`) lists them as the element-wise role "moe_routing".

Megatron-Core 0.16.1's flex dispatcher with the HybridEP backend permutes inside its kernels: `dispatch_with_permute`
/ `combine_with_unpermute` (transformer/moe/fused_a2a.py:332-425, "permute + dispatch a2a + permute"), and its
manager hands the received tokens to the experts as they are (`_HybridEPManager.get_permuted_hidden_states_by_
experts`, token_dispatcher.py:1078-1079), so the permute, sort / unsort and unpermute passes do not run; what they
move is inside the dispatch / combine, whose time is the NIC's (`cluster.deepep.flex_dispatch_seconds`).
Measured, NOT applied (`HYBRIDEP_FUSED_PERMUTE` False: the HybridEP rows go further from measured: H029 +25.7 ->
+36.5, H015 +4.1 -> +11.0, H025 +4.6 -> +14.8 %; validation/notes/training_sets_tried.md, round 13b). Round 13h: every
HybridEP row is a NeMo 26.06 row, and from megatron-core 0.18.1 on the fusion of the permute into the dispatch is
opt-in, `moe_permute_fusion_into_hybridep` (0.18.1 transformer_config.py:804, default False; passed as `fused`,
token_dispatcher.py:1100 / :1131; fused_a2a.py:378-429 "Falling back to unfused HybridEP dispatch"), which no
Qwen3 / DeepSeek-V3 / GPT-OSS configuration sets (only Nemotron-H's H100 one, perf_recipes/nemotronh/h100/
nemotronh.py:246): those rows run HybridEP's separate permute / unpermute, whose cost (deep_ep's hybrid-ep kernels,
not on PyPI) is unread; the alltoall dispatcher's passes stand in for it.

Megatron-Core 0.16.1's flex dispatcher with DeepEP (`_DeepepManager`, token_dispatcher.py:1166-1305) sends the
unpermuted tokens (DeepEP dispatches each token once per destination rank, `fused_dispatch`), then turns the received
indices into a local routing map and permutes the received rows into the k routed copies in expert order
(`get_permuted_hidden_states_by_experts`, :1282-1305), and unpermutes them before the combine (:1307-1315): no
pre-dispatch permute and no chunk sort / unsort. With R the ranks a token reaches (`ops.expert_routing`: the EP ranks
as the nodes of E / EP experts each; R T rows received per GPU), (2 R + 2 k) T h bf16 elements each way in place of
(2 + 2 k + 4 k lf) T h (`DEEPEP_PERMUTE`; validation/notes/training_sets_tried.md, round 13b).

The routed experts' quantised GEMM operands (`routed_copy_casts`): in a Megatron-Core MoE layer the pre-MLP norm is a
TENorm of its own (gpt_layer_specs.py:265, :291, `pre_mlp_layernorm` where there are experts) whose bf16 output feeds
the router and the dispatcher, so no norm casts an FC1 input; Transformer Engine's GroupedLinear casts what the
experts receive, the k routed copies of each token, expert by expert: fc1's input forward and fc2's output gradient
backward (`tex.split_quantize`, transformer_engine/pytorch/module/grouped_linear.py:151-156 and :356-366), with the
recipe's amax read for per-tensor scales (fp8 current scaling: `nvte_compute_amax` over each expert's rows,
csrc/quantizer.cpp:857-896). Per direction k T h elements at the cast bytes plus the amax bytes, in place of the one
h-wide shard operand (the norm-made FC1 input, the row-parallel FC2 output gradient) a dense layer casts; a shared
expert keeps its own shard operand. (`ROUTED_COPY_CASTS`; validation/notes/training_sets_tried.md, round 13b.)
With a low-precision recipe Megatron-Core's TEGroupedMLP pads every local expert's rows to the quantisation
alignment before fc1 and strips the padding from fc2's output (`Fp8Padding` / `Fp8Unpadding`, transformer/moe/
experts.py:603-606, :646-653, :760-762): Transformer Engine copies the rows (`fused_multi_row_padding` /
`_unpadding`, pytorch/module/fp8_padding.py:42, fp8_unpadding.py:41; backward the reverse copies, :67 / :65) unless
every expert's count is already aligned (fp8_padding.py:125-126, fp8_unpadding.py:123-124), which holds only where
the dispatcher pads: HybridEP with fp8 / fp4 (`pad_multiple`, token_dispatcher.py:1035-1036) or
`moe_router_padding_for_quantization` (:617-622, off by default and in the H100 configurations). Two bf16 copies of
the rows x h each way, 8 B per element (`Layout.quantization_padding`, `EXPERT_QUANTIZATION_PADDING`).
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import pick, to_float

ArrayLike = np.ndarray | float | int
HYBRIDEP_FUSED_PERMUTE = False  # HybridEP plans run the router's passes alone (module docstring); False: every pass
ROUTER_KERNELS = 4.0  # router score, top-k, scatter, aux-loss
DEEPEP_PERMUTE = True  # DeepEP plans run the permute / unpermute of their received rows, no sort (docstring)
DEEPEP_KERNELS = ROUTER_KERNELS + 3.0  # + the indices-to-multihot map, permute, unpermute
ROUTED_COPY_CASTS = True  # the experts' fc1 input / fc2 output gradient cast over the k routed copies (docstring)
EXPERT_QUANTIZATION_PADDING = True  # TEGroupedMLP's padding / unpadding copies of the experts' rows (docstring)
PADDING_COPY_BYTES = 8.0  # per row element each way: two copies (read + write bf16)
# fp8 dispatch (training `MoeRouting.fp8_dispatch`, serving `ep_fp8_dispatch`): bytes of a dispatch + combine pair
# over two bf16 ones: the dispatch moves 1 B per element plus a 4 B fp32 scale per 1x128 tile, the combine 2 B
# (DeepSeek-V3 arXiv:2412.19437 sec. 3.3.3; DeepEP README "FP8 dispatching, BF16 combining")
FP8_DISPATCH_PAIR_SHARE = (1.0 + 4.0 / 128.0 + 2.0) / (2.0 * ACT_BYTES)


def moe_routing_passes(shape: TransformerShape, tokens: ArrayLike, ep: ArrayLike,
                       load_factor: ArrayLike = 1.0, dispatcher: str = "alltoall") -> tuple[ArrayLike, float]:
    """(bytes, kernels) of the router and token-permutation passes of one MoE layer in training (one direction;
    backward moves the same).

    Megatron-Core's all-to-all token dispatcher (`MoEAlltoAllTokenDispatcher`, Transformer Engine fused
    `moe_permute` / `moe_unpermute`), on the T tokens of the GPU's sequence-parallel shard, top-k, hidden h:
    permute (read T h, write the k T h routed copies in expert order), sort the received chunks by local
    expert after the all-to-all and unsort them before the return (`sort_chunks_by_idxs`, read + write k T h
    each, the busiest rank's share: x the load factor; none with one local expert), unpermute (read k T h,
    weight by the routing probabilities and sum into T h): (2 + 2k + 4k lf) T h bf16 elements. The router
    after its logits GEMM: softmax / sigmoid, top-k, the probability scatter and the load-balancing loss
    statistics over the T x E fp32 logits, ~4 passes of 4 B (16 B per logit). Kernels: row-id map, permute,
    sort, unsort, unpermute (5) and router score, top-k, scatter, aux-loss (4). A dense layer kind: zero.
    `dispatcher` (`Layout.moe_dispatcher`): HybridEP under `HYBRIDEP_FUSED_PERMUTE`, the router's passes alone;
    DeepEP under `DEEPEP_PERMUTE`, its permute and unpermute between the R T received rows and the k T routed copies,
    (2 R + 2 k) T h, no sort (module docstring).
    """
    if not shape.is_moe:
        return 0.0 * np.asarray(tokens), 0.0
    router = 16.0 * to_float(tokens) * shape.num_experts
    if dispatcher == "hybridep" and HYBRIDEP_FUSED_PERMUTE:
        return router, ROUTER_KERNELS
    k, h = float(shape.experts_per_token), float(shape.hidden_size)
    if dispatcher == "deepep" and DEEPEP_PERMUTE:
        received = expected_nodes_per_token(shape, ep)  # ranks a token reaches: rows received per token sent
        return ACT_BYTES * to_float(tokens) * h * 2.0 * (received + k * load_factor) + router, DEEPEP_KERNELS
    sorts = pick(shape.num_experts / to_float(ep) > 1.0, 4.0 * k * load_factor, 0.0)
    permute = ACT_BYTES * to_float(tokens) * h * (2.0 + 2.0 * k + sorts)
    router = 16.0 * to_float(tokens) * shape.num_experts
    return permute + router, 9.0


def routed_copy_casts(shape: TransformerShape, rows: ArrayLike, cast_bytes: ArrayLike, amax_bytes: ArrayLike,
                      padded: bool = False) -> tuple[ArrayLike, float]:
    """(bytes each way, h-wide shard operands they replace) of the routed experts' cast operands over the `rows`
    routed token copies the GPU's local experts compute (the `expert_up` GEMMs' rows: k T, folded k T / TP x ETP, the
    busiest rank's; module docstring): (cast + amax bytes) x rows x h, replacing one shard operand where the layer has
    no shared expert (`ROUTED_COPY_CASTS`); with `padded` (TEGroupedMLP's quantisation padding, `EXPERT_QUANTIZATION_
    PADDING`) 8 B more per row element. Zeros for a dense layer kind."""
    if not shape.is_moe:
        return 0.0 * to_float(rows), 0.0
    elements = rows * float(shape.hidden_size)
    padding = PADDING_COPY_BYTES * elements if padded and EXPERT_QUANTIZATION_PADDING else 0.0 * elements
    if not ROUTED_COPY_CASTS:
        return padding, 0.0
    return (cast_bytes + amax_bytes) * elements + padding, 0.0 if shape.shared_ffn_hidden_size else 1.0
