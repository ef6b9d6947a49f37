"""The shared experts' side stream under Megatron-Core's `moe_shared_expert_overlap` (`MoeRouting.
shared_expert_overlap`): what runs beside what in an MoE layer, and the time the block takes (hD, session 62).

Read in megatron-core 0.16.1 transformer/moe/ (the all-to-all dispatcher, the only one the overlap runs with,
transformer_config.py:1090-1095). The layer hands its shared expert to the dispatcher (moe_layer.py:238-239) and does
not run it itself (:292); the dispatcher drives it through calls each enqueued on one side CUDA stream
(shared_experts.py:122-123, 162-163):
* `pre_forward_comm` in `dispatch_preprocess` (token_dispatcher.py:625-626), before the permutation and the host's
  one wait for the token counts before the all-to-all (:561-564, :897-899): the side stream waits for the main
  stream once (shared_experts.py:162) and gathers the SP input over TP (Megatron's bf16 gather, :167-170);
* FC1 and the activation right after the dispatch all-to-all is issued (token_dispatcher.py:666-671, :688-689);
* FC2 and the SP reduce-scatter (all-reduce without SP) right after the combine all-to-all is issued (:828-830,
  shared_experts.py:241-259);
* `get_output` (token_dispatcher.py:846-848): the main stream waits for the side stream (shared_experts.py:277).
No host wait follows the one before the dispatch, so the host issues the rest of the layer well ahead of the GPU and
the side stream runs its chain back to back from the router on: SP gather, FC1, FC2, SP reduce-scatter, beside the
main stream's dispatch all-to-all, routed experts and combine all-to-all. The backward runs each op on its forward's
stream (PyTorch autograd's stream semantics), the shared nodes first where ready (their sequence numbers set to the
int maximum, shared_experts.py:173, :184, :235, :259; "the bigger the value is, the earlier the grad_fn is
scheduled", :281-289): the same two chains from the MoE output's gradient on, the pair's all-gather first and its
reduce-scatter last.

Priced (`block_seconds`), per phase and layer: two chains from the router on, main = the first all-to-all half, the
routed experts' GEMMs, the second half; side = the pair's first collective (the SP gather; none without SP), the
shared GEMMs, its last (the SP reduce-scatter, or the all-reduce). The GEMMs of both streams share the SMs
(ASSUMPTION, processor sharing: while both run each advances at half rate, the SM time conserved; the two streams
have one priority, shared_experts.py:123). The collectives run on links: the pair's over TP in the scale-up domain,
the all-to-all's on the NICs where it crosses scale-up domains (`expert_dispatch.ep_scale_out`), the two concurrent
there; inside one domain they share the NVLink ports (ASSUMPTION: work-conserving links), so the dispatch waits for
the gather's bytes and the combine and the scatter end no earlier than the first of them to start plus both. The
block ends with the later chain; what it saves against its terms one after another comes off the layer's TP time as
far as the pair adds to the saving of the GEMMs alone, the rest off its EP time (`with_side_stream`); every step a
min / max, one plan's floats or a search's arrays alike.
Not priced: the main stream's element-wise work (permutations, router) and its expert-TP gather and reduce-scatter
(more window for the pair: conservative); the SMs the NCCL kernels hold beside the GEMMs (Megatron sets no SM count
for these collectives; NCCL picks its channels); the all-to-all's halves taken as equal (ASSUMPTION: `fp8_dispatch`
makes the dispatch the smaller). Session 56 priced min(all-to-all, shared GEMMs) hidden per phase and the pair
exposed: the shared GEMMs under the combine as under the dispatch. The chain above ends the side stream's work before
the combine wherever it is shorter than the dispatch and the routed experts together, so the combine is exposed there
(Llama 4 Scout, whose shared expert is as wide as its one routed expert: half its all-to-all).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.network.collectives import Fabric
from infraplan.ops.layer_records import Collective, Layout
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import larger, negate, pick, smaller, to_bool
from infraplan.training.layer_kernels import collective_times

__all__ = ["block_seconds", "pair_seconds", "with_side_stream"]


def pair_seconds(shape: TransformerShape, lay: Layout, fabric: Fabric, one: bool) -> tuple[Any, Any]:
    """(first, last) seconds of the shared expert's TP pair under the overlap, per phase and mean layer: the bf16
    T x h all-gather of its SP input (forward; its gradient's all-gather backward) and reduce-scatter of its output,
    or the all-reduce without SP (shared_experts.py:166-171, :249-256), on the attention's TP group; the layers with
    a shared expert only (their share of the layers, as `ops.layer` weights its records). These are the pair
    `ops.layer` counts among the layer's T x h records (`SHARED_OVERLAP_MEGATRON_GATHERS`)."""
    share = shape.routed_layer_share if shape.shared_ffn_hidden_size else 0.0
    if not share:
        return 0.0, 0.0
    sp = to_bool(lay.sequence_parallel)
    act_full = lay.tokens * shape.hidden_size * ACT_BYTES
    first = (Collective("all_gather", "tp", act_full, lay.tp, 1, share, sp),)
    last = (Collective("reduce_scatter", "tp", act_full, lay.tp, 1, share, sp),
            Collective("all_reduce", "tp", act_full, lay.tp, 1, share, negate(sp)))
    return collective_times(fabric, first, "tp", one), collective_times(fabric, last, "tp", one)


def block_seconds(a2a: Any, routed: Any, first: Any, shared: Any, last: Any, crosses: Any) -> Any:
    """Seconds from the router to the shared output's wait (module docstring): the main chain's all-to-all (`a2a`,
    its two halves) around the routed GEMMs (`routed`), beside the side chain's `first` collective, shared GEMMs and
    `last` collective. `crosses`: 1 where the all-to-all crosses scale-up domains (its links apart from the pair's);
    else the two share the links: the dispatch waits for the gather's bytes, and the combine and the scatter end no
    earlier than the first of them to start plus both."""
    apart = to_bool(crosses)
    half = a2a / 2.0
    g = first  # the side stream's GEMMs start after its gather
    d = half + pick(apart, 0.0, first)  # the routed GEMMs after the dispatch (behind the gather on shared links)
    start = larger(g, d)  # both GEMM runs ready from here (the earlier one alone before it)
    f_rem = larger(shared - larger(d - g, 0.0), 0.0)  # shared GEMM time left at `start`
    x_rem = larger(routed - larger(g - d, 0.0), 0.0)  # routed GEMM time left at `start`
    both = f_rem + x_rem  # (processor sharing: the one with less left ends at twice it, the other at both)
    t_f = pick(f_rem > 0.0, start + pick(f_rem <= x_rem, 2.0 * f_rem, both), g + shared)
    t_x = pick(x_rem > 0.0, start + pick(x_rem < f_rem, 2.0 * x_rem, both), d + routed)
    end = larger(t_x + half, t_f + last)
    return pick(apart, end, larger(end, smaller(t_x, t_f) + half + last))


def with_side_stream(out: dict[str, Any], full: Any, crosses: Any) -> None:
    """`out` (a layer's terms with the EP all-to-all, `expert_dispatch.with_ep_comm`) with the side stream's overlap
    priced in place: per phase (the backward under full recompute also the re-run forward's block) the time the
    two chains save against their terms one after another (`block_seconds`): what the pair adds to the saving of the
    GEMMs alone off `tp_<phase>` (the pair hidden), the rest off `ep_<phase>` (the all-to-all hidden); the keys
    `layer_time` adds for it (`shared_*`, `routed_*`, `shared_pair_*`) dropped."""
    first, last = out.pop("shared_pair_first"), out.pop("shared_pair_last")
    a2a = out["ep_fwd"]  # one phase's own all-to-all (the backward's is the forward's bytes: `with_ep_comm`)
    saved, by_pair = {}, {}
    for phase in ("fwd", "bwd"):
        shared, routed = out.pop(f"shared_{phase}"), out.pop(f"routed_{phase}")
        side = first + shared + last
        serial = a2a + routed + side  # (no side work: nothing saved, not a rounding of the sum)
        saved[phase] = pick(side > 0.0, larger(serial - block_seconds(a2a, routed, first, shared, last, crosses),
                                              0.0), 0.0)
        gemms = pick(shared > 0.0, larger(a2a + routed + shared - block_seconds(a2a, routed, 0.0, shared, 0.0,
                                                                                crosses), 0.0), 0.0)
        by_pair[phase] = larger(saved[phase] - gemms, 0.0)  # what the pair adds to the GEMMs' saving
    for key in (saved, by_pair):  # the re-run forward's block beside its dispatch (full recompute)
        key["bwd"] = key["bwd"] + pick(full, key["fwd"], 0.0)
    for phase in ("fwd", "bwd"):  # the pair's share off the TP time, the rest off the all-to-all's
        ep, tp = out[f"ep_{phase}"], out[f"tp_{phase}"]
        off_tp = smaller(by_pair[phase], tp)
        out[f"tp_{phase}"] = tp - off_tp
        out[f"ep_{phase}"] = ep - smaller(saved[phase] - off_tp, ep)
