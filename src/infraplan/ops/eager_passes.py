"""Element-wise work an eager PyTorch model runs beyond the fused count of `ops.layer`: the extra memory passes.

`ops.layer` counts a layer's element-wise work as fused kernels move it (Korthikanti et al. 2022): each norm, rotary
embedding and FFN activation reads its input once and writes its output once (backward: twice those bytes). A model
written in plain PyTorch runs each of those as several kernels, some in fp32, and autograd runs each one's backward
formula; a stack lists the operations its model code leaves unfused (`catalog.stacks` `unfused_elementwise`, with its
source) and this module prices what they move beyond the fused count, per element of the tensor each acts on.
Counted from torchtitan 0.1.0's Llama 3 (torchtitan/models/llama3/model/model.py, read in the PyPI wheel):

* rmsnorm (model.py:276-277 `nn.RMSNorm`; torchtitan 2024's own `RMSNorm._norm(x.float()).type_as(x) * weight`,
  RECALLED; PyTorch's eager `rms_norm` is the same composite, RECALLED): forward upcast (read 2 B, write 4), pow (4 +
  4), mean (4), x * rsqrt (4 + 4), downcast (4 + 2), * weight (2 + 2): 36 B in 8 kernels (add eps and rsqrt per row:
  no bytes). Backward, autograd's formulas (RECALLED, tools/autograd/derivatives.yaml): the weight mul's two grads and
  the weight's reduction (4 + 6 + 2), downcast's upcast (6), the mul's two grads with the row reduction (8 + 12 + 4),
  mean's expand (4), pow's `grad * 2 * x.pow(1)` (8 + 8 + 12), the two paths' sum (12), upcast's downcast (6): 92 B in
  13 kernels. Fused: 4 B forward, 8 backward, one kernel each.
* rotary (model.py:90-95): forward `x.float()` (2 + 4), complex multiply by `freqs_cis` (4 + 4), `type_as` (4 + 2):
  20 B in 3 kernels per Q / K element; backward the three again (the complex multiply by the conjugate): 20 B in 3.
  Fused: 4 B forward, 8 backward.
* swiglu (model.py:236-237 `w2(F.silu(w1(x)) * w3(x))`): forward silu (2 + 2) and mul (4 + 2): 10 B per FFN hidden
  element in 2 kernels; backward the mul's two grads (6 + 6) and silu's (4 + 2): 18 B in 3. Fused: 6 B and 12 B.
* repeat_kv (model.py:98-107, 185-186): GQA keys and values expanded to the query heads and copied (read the KV
  width, write the query width, 2 B each: 1 kernel per tensor); backward sums the expanded gradient back (the same
  bytes). No fused stack copies: all of it is extra.
* split_projections (model.py:140-146 wq / wk / wv, 232-234 w1 / w3: separate Linear modules on one input): autograd
  sums their input gradients, out of place: 2 adds for Q / K / V and 1 for the gate / up pair, each reading 4 B and
  writing 2 B per hidden element of the layer's tokens (backward only). The GEMMs themselves are priced fused.
Residual adds are the same kernels fused or not. Layout copies around SDPA: none (the model's transposes feed the
flash kernel its (b, s, h, d) layout, and `.contiguous()` of its output is a no-op). Not priced: the fp32 copies
autograd saves for these backwards in activation memory (unchanged), and the split projections' smaller GEMMs.
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer_records import ArrayLike, Elementwise
from infraplan.scalar_path import larger

# per element of the tensor the operation acts on: (eager bytes, eager kernels, fused bytes, fused kernels),
# forward then backward (module docstring)
EAGER_OPS: dict[str, tuple[tuple[float, float, float, float], tuple[float, float, float, float]]] = {
    "rmsnorm": ((36.0, 8.0, 4.0, 1.0), (92.0, 13.0, 8.0, 1.0)),
    "rotary": ((20.0, 3.0, 4.0, 1.0), (20.0, 3.0, 8.0, 1.0)),
    "swiglu": ((10.0, 2.0, 6.0, 1.0), (18.0, 3.0, 12.0, 1.0)),
}
COPY_BYTES = 2.0  # bf16 read or written per element (repeat_kv)
ADD_BYTES = 6.0  # out-of-place bf16 add: read two, write one (split_projections)


def eager_passes(shape: TransformerShape, unfused: tuple[str, ...], tokens: ArrayLike, sp_tokens: ArrayLike,
                 q_local: ArrayLike, kv_local: ArrayLike, ffn_elements: ArrayLike) -> tuple[Elementwise, Elementwise]:
    """(forward, backward) extra passes of one layer's `unfused` operations on one GPU beyond the fused count:
    the two norms on the `sp_tokens` shard (hidden wide), rotary on Q and K (`q_local` + `kv_local` / 2 per token),
    the FFN activation over `ffn_elements` (the fused count's elements: gate + up + output per hidden element), K and
    V expanded to the query width, the split projections' input-gradient sums over `tokens` x hidden (module
    docstring). The stacks that list them run Llama-family models (RMSNorm, rotary); swiglu needs a gated FFN."""
    h = float(shape.hidden_size)
    gated = shape.gated_mlp
    widths: dict[str, tuple[ArrayLike, float]] = {  # elements acted on, and kernel runs per layer
        "rmsnorm": (2.0 * sp_tokens * h, 2.0),
        "rotary": (tokens * (q_local + kv_local / 2.0), 2.0),
        "swiglu": (ffn_elements / 3.0 if gated else 0.0 * tokens, 1.0 if gated else 0.0),
    }
    fwd_b: ArrayLike = 0.0 * tokens
    bwd_b: ArrayLike = 0.0 * tokens
    fwd_k = bwd_k = 0.0
    for op in unfused:
        if op in EAGER_OPS:
            (eb, ek, fb, fk), (beb, bek, bfb, bfk) = EAGER_OPS[op]
            n, runs = widths[op]
            fwd_b, bwd_b = fwd_b + (eb - fb) * n, bwd_b + (beb - bfb) * n
            fwd_k, bwd_k = fwd_k + (ek - fk) * runs, bwd_k + (bek - bfk) * runs
    if "repeat_kv" in unfused and shape.num_kv_heads < shape.num_heads:
        kv_each = kv_local / 2.0  # K and V each: read the KV width, write the query width
        moved = 2.0 * COPY_BYTES * tokens * (kv_each + larger(q_local, kv_each))
        fwd_b, bwd_b = fwd_b + moved, bwd_b + moved
        fwd_k, bwd_k = fwd_k + 2.0, bwd_k + 2.0
    if "split_projections" in unfused:
        adds = 2.0 + (1.0 if gated else 0.0)
        bwd_b = bwd_b + adds * ADD_BYTES * tokens * h
        bwd_k = bwd_k + adds
    return Elementwise("eager_passes", fwd_b, fwd_k), Elementwise("eager_passes", bwd_b, bwd_k)
