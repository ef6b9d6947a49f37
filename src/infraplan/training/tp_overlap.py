"""The TP communication overlap a model runs under its stack: userbuffers off on MLA models under Megatron-Core.

What is modelled: a stack's `tp_comm_overlap_fraction` / `tp_overlap_sm_fraction` (Transformer Engine userbuffers,
`training.layer_time`) are what its Megatron-Core recipes switch on with `tp_comm_overlap`. Megatron-Core does not run
them on a model with multi-head latent attention, whatever the recipe asks:

* megatron-core 0.16.1 extensions/transformer_engine.py:531-541 (`TELinear.__init__`; the same in 0.14.0, :260-270):
  a TE linear built with a userbuffer name outside qkv / proj / fc1 / fc2 sets the SHARED
  `config.tp_comm_overlap = False` ("Disabling TP communication overlap"), and every module built after it reads the
  switched-off config (:544, `TELayerNormColumnParallelLinear` :782). MLA builds `linear_q_down_proj` with
  `tp_comm_buffer_name='q_down_proj'` (transformer/multi_latent_attention.py:428; `q_proj` :403 where q_lora_rank is
  None, `kv_down_proj` :473 always), in its first layer, before the up projections, the experts and every later
  layer (one module keeps userbuffers: the first layer's `linear_proj`, built before it, :179; not priced: one
  reduce-scatter of one layer per rank). megatron-core 0.12.2 built MLA's linears with no buffer name, which Megatron's
  `ub_name` assertion refuses under `tp_comm_overlap` (0.12.2 extensions/transformer_engine.py:176-180, :356-359): no
  MLA run ever had the overlap.
* The recipes agree: NeMo 2.5.0 (the 25.09 container's; the H018 row) recipes/deepseek_v3.py:144-146 and :184-186
  `MegatronCommOverlapCallback(tp_comm_overlap=False)` (2.3.0 scripts/performance/llm/pretrain_deepseek_v3.py:85-88
  likewise); Megatron-Bridge 0.3.1 recipes/deepseek/deepseek_v3.py:168, :313 and 0.6.0 recipes/deepseek/h100/
  deepseek_v3.py:213, :369 `CommOverlapConfig(tp_comm_overlap=False)`.

So a Megatron-family stack (`stack_class` megatron) prices an MLA model with no userbuffer overlap and no SMs taken
(`userbuffer_overlap`); TE's NCCL path then runs as the stack says without userbuffers (`tp_async_backward`: the
column-parallel dgrad reduce-scatter async under the wgrad GEMM, TE 2.14 module/linear.py:748-754, :941,
layernorm_linear.py:760-766; the wgrad input re-gather under the dgrad GEMM, `training.sp_regather`); the forward
gathers and reduce-scatters (linear.py:211-215, :357) and the row-parallel output-gradient gathers (module/base.py:
1229-1233) are synchronous NCCL calls, exposed. `MLA_DISABLES_USERBUFFERS` = False prices the stack's overlap on
every model (before hM58).
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack

MLA_DISABLES_USERBUFFERS = True  # Megatron-Core switches TP userbuffers off on MLA models (module docstring)


def userbuffer_overlap(stack: Stack, shape: TransformerShape) -> tuple[float, float]:
    """(`tp_comm_overlap_fraction`, `tp_overlap_sm_fraction`) the model runs on `stack`: both 0 for an MLA model on a
    Megatron-family stack (`MLA_DISABLES_USERBUFFERS`), else the stack's."""
    if MLA_DISABLES_USERBUFFERS and shape.is_mla and stack.stack_class == "megatron":
        return 0.0, 0.0
    return stack.tp_comm_overlap_fraction, stack.tp_overlap_sm_fraction
