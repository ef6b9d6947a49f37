"""Pipeline stage split: the pace-setting stage of a stack's layer split, and the interleave chosen for a user.

Stage split (`heaviest_stage`), a property of the software stack (`Stack.pipeline_split`):
* "even" -- Megatron-Core's and NeMo's default: L / p layers on every stage, the embedding on the first and the
  LM head + loss on the last on top of their layers (`get_num_layers_to_build`); Megatron-Core's
  `account_for_embedding_in_pipeline_split` / `account_for_loss_in_pipeline_split` count the embedding / loss
  as one layer each, so the end stages build one layer fewer ((L + 2) / p per stage: Llama 3.1 405B's 126
  layers on PP16 x VP8 = 128 chunks, the Megatron-Bridge recipe).
* "balanced" -- whole layers moved off the end stages, cut as `Stack.pipeline_partition` says: "time" (None) the
  split that minimises the heaviest stage at the plan's rates, as a user sets with Megatron's
  `--decoder-first-pipeline-num-layers` / `--decoder-last-pipeline-num-layers` (Llama 3 405B ran 126 layers
  on 16 stages with one layer removed from each of the first and last, arXiv:2407.21783 Sec. 3.3.2); or a cut
  fixed by the model and PP, DeepSpeed's `PipelineModule(partition_method=...)` ("parameters": the least spread
  of the stages' parameter counts, `training.pipeline_partition`; hS46) or torchtitan's unit cut ("units": the
  embedding and the head one layer each, hT47), whose slowest stage sets the pace.

Interleave chosen for the user (`chosen_virtual_stages`): NeMo / Megatron-Bridge performance recipes put
2-layer model chunks on large pipelines (Llama 3 70B PP8 VP5: 10 layers per stage; Llama 3.1 405B PP16 VP4:
8 layers on the middle stages; NVIDIA-NeMo/Megatron-Bridge docs/performance-summary.md, 26.04/26.06).

Vectorised over plans like `training.schedules` (one plan takes the same arithmetic on Python floats).
`with_stage_split` applies the stack's split to a plan's per-layer, LM-head and embedding times (`step_time`):
each stage's pace per phase is the longer of its GPU work and its host issue time. The stack's MTP modules
(`Stack.mtp_num_layers`, `training.pipeline_layout`) run on the last stage beside the LM head + loss; a stack's
`pipeline_layouts` replace the split where a plan's p x v matches one (`pipeline_layout.with_pipeline_layout`).
Schedules whose ranks hold mirrored stages (DualPipe, ZB-V) pace on their pair of stages:
`training.mirrored_stages`.
Interleaving (Megatron's virtual pipeline, torch's "loop" mapping) puts chunk j on rank j mod p: the embedding on
rank 0 and the head on rank p-1, so a rank's chunks add up to the 1F1B split's stage (`with_stage_split`).
(A stack layout matching a DualPipe plan still prices its heaviest single rank.)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import MathOps
from infraplan.training.pipeline_layout import mtp_layer_equivalent
from infraplan.training.pipeline_partition import (
    FIXED_PARTITIONS,
    partition_end_layers,
    phase_paced_stage,
    stage_arrays,
)
from infraplan.training.stage_chunks import interleaved_chunks as interleaved_chunks  # (moved: hS46)
from infraplan.training.stage_chunks import one_f_one_b_chunks as one_f_one_b_chunks
from infraplan.units import counted

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
ArrayLike = np.ndarray | float  # an array over plans, or one value for all (ints are floats to the checker)

CHOOSE_INTERLEAVE_FROM_PP = 4  # `chosen_virtual_stages` interleaves pipelines of at least this many stages
LAYERS_PER_CHUNK = 2  # ... into model chunks of at least this many layers (NeMo recipes, see above)


def as_array(x: ArrayLike) -> Array:
    """`x` (an array over plans, or one value) as a float64 array."""
    return np.asarray(x, dtype=np.float64)


PIPELINE_SPLITS = ("even", "balanced")


def heaviest_stage(num_layers: int, pp: ArrayLike, layer_s: ArrayLike, first_extra_s: ArrayLike,
                   last_extra_s: ArrayLike, split: str = "balanced", embedding_is_layer: bool = False,
                   loss_is_layer: bool = False) -> tuple[Array, Array, Mask, Mask]:
    """The pace-setting stage of the stack's layer split (`split`: "even" or "balanced", `Stack.pipeline_split`).

    "even" is `_even_heaviest_stage` (Megatron-Core's default; `embedding_is_layer` / `loss_is_layer` are its
    `account_for_embedding_in_pipeline_split` / `account_for_loss_in_pipeline_split`); "balanced" follows.
    """
    if (type(pp) is float and type(layer_s) is float and type(first_extra_s) is float  # one plan (`one_row`)
            and type(last_extra_s) is float):
        p = float(pp)
        e, h = float(first_extra_s) + 0.0 * p, float(last_extra_s) + 0.0 * p
        if split == "even":
            return _even_stage_floats(num_layers, p, float(layer_s), e, h, embedding_is_layer,  # type: ignore[return-value]
                                      loss_is_layer)
        return balanced_stage_floats(num_layers, p, max(float(layer_s), 1e-30), e, h)  # type: ignore[return-value]
    if split == "even":
        return _even_heaviest_stage(num_layers, pp, layer_s, first_extra_s, last_extra_s, embedding_is_layer,
                                    loss_is_layer)
    return balanced_heaviest_stage(num_layers, pp, layer_s, first_extra_s, last_extra_s)


def balanced_end_layers(pp: Any, heaviest: Any, other: Any, with_embed: Any, with_head: Any,
                        capacities: tuple[Any, Any] | None, ops: MathOps, first_n: Any,
                        last_n: Any) -> tuple[Any, Any]:
    """(first, last) stage layers of the balanced split beside the pace-setting stage of `heaviest` layers X
    (`stage_params.stage_layer_counts`, which gives `first_n` / `last_n` as the even rule has them and reads these
    back), `other` = L - X the other stages' layers, `with_embed` / `with_head` 1 where the heaviest is the first /
    the last, `capacities` the ends' whole layers beside their tables at the pace (`mirrored_stages.
    end_stage_capacities`; None: X each). Arrays or one plan's floats (`ops`).
    * A middle stage the heaviest (PP >= 3): every middle stage holds X and the ends share the L - (p - 2) X left,
      ceil / floor, each at most its capacity; where that is below 0 the ends hold their capacities and the middle
      stages the rest (hT40, session 40; hO47, session 43; moved here from stage_params.py, hO48).
    * One end the heaviest: the other end holds its capacity, at most L - X; on two stages all L - X (hO48, session
      44: "as many as the heaviest" left L - 2X layers on no stage on PP 2, their DP traffic and optimizer unpriced,
      and ran past the pace on PP >= 3 where its table is the heavier). The heaviest end holds 0 here (X: the caller's).
    * Elsewhere (DualPipe's shares 1/2, one stage) `first_n` / `last_n` as given."""
    first_cap, last_cap = (heaviest, heaviest) if capacities is None else capacities
    shared = other - (pp - 3.0) * heaviest  # (every middle stage X; below 0: the ends' capacities, hO47)
    shared = ops.where(shared >= 0.0, shared, ops.minimum(first_cap + last_cap, other))
    first_share = ops.minimum(ops.maximum(ops.ceil(shared / 2.0), shared - last_cap), first_cap)
    middle_heavy = (with_embed + with_head == 0.0) & (pp > 2.0)
    first_n = ops.where(middle_heavy, first_share, first_n)
    last_n = ops.where(middle_heavy, shared - first_share, last_n)
    one_end = (with_embed == 1.0) != (with_head == 1.0)
    first = ops.where(pp == 2.0, other, ops.minimum(first_cap, other))
    last = ops.where(pp == 2.0, other, ops.minimum(last_cap, other))
    return (ops.where(one_end, (1.0 - with_embed) * first, first_n),
            ops.where(one_end, (1.0 - with_head) * last, last_n))


def _even_stage_floats(num_layers: int, p: float, t: float, e: float, h: float, embedding_is_layer: bool,
                       loss_is_layer: bool) -> tuple[float, float, bool, bool]:
    """`_even_heaviest_stage` of one plan, operation for operation on floats (IEEE doubles: the same results)."""
    emb, loss = float(embedding_is_layer), float(loss_is_layer)
    per = float(math.ceil((num_layers + emb + loss) / max(p, 1.0)))
    first_layers, last_layers = per - emb, per - loss
    first, last = first_layers * t + e, last_layers * t + h
    middle = per * t if p > 2.0 else 0.0
    single = p <= 1.0
    is_last = single or (last >= first and last >= middle)
    is_first = single or (not is_last and first >= middle)
    seconds = num_layers * t + e + h if single else last if is_last else first if is_first else middle
    layers = float(num_layers) if single else last_layers if is_last else first_layers if is_first else per
    return seconds, layers, is_last, is_first


def _even_heaviest_stage(num_layers: int, pp: ArrayLike, layer_s: ArrayLike, first_extra_s: ArrayLike,
                         last_extra_s: ArrayLike, embedding_is_layer: bool,
                         loss_is_layer: bool) -> tuple[Array, Array, Mask, Mask]:
    """The heaviest stage of Megatron-Core's even split: every stage builds L' / p layers of L' = L (+1 with the
    embedding counted as a layer, +1 with the loss), the first stage one fewer when the embedding counts and the
    last one fewer when the loss counts; the embedding stays on the first stage and the LM head + loss on the last
    whatever their cost (Megatron-Core `get_num_layers_to_build`, megatron/core/transformer/transformer_block.py,
    and `TransformerConfig.account_for_embedding_in_pipeline_split` / `account_for_loss_in_pipeline_split`; the
    uneven alternative is the user's `--decoder-first/last-pipeline-num-layers`, the "balanced" split). Megatron
    requires L' divisible by p (x v with interleaving); where it is not, ceil(L' / p) is priced (the heaviest
    stage of the nearest split a user would set). Returns what `heaviest_stage` returns (ties: the last stage).
    """
    p, t, e, h = stage_arrays(pp, layer_s, first_extra_s, last_extra_s)
    emb, loss = float(embedding_is_layer), float(loss_is_layer)
    per = np.ceil((num_layers + emb + loss) / np.maximum(p, 1.0))
    first_layers, last_layers = per - emb, per - loss
    first, last = first_layers * t + e, last_layers * t + h
    middle = np.where(p > 2.0, per * t, 0.0)
    single = p <= 1.0
    is_last = single | ((last >= first) & (last >= middle))
    is_first = single | (~is_last & (first >= middle))
    seconds = np.where(single, num_layers * t + e + h, np.where(is_last, last, np.where(is_first, first, middle)))
    layers = np.where(single, float(num_layers),
                      np.where(is_last, last_layers, np.where(is_first, first_layers, per)))
    return (np.asarray(seconds, dtype=np.float64), np.asarray(layers, dtype=np.float64),
            np.asarray(is_last, dtype=np.bool_), np.asarray(is_first, dtype=np.bool_))


def balanced_heaviest_stage(num_layers: int, pp: ArrayLike, layer_s: ArrayLike, first_extra_s: ArrayLike,
                             last_extra_s: ArrayLike) -> tuple[Array, Array, Mask, Mask]:
    """The pace-setting stage of the whole-layer split that minimises the heaviest stage.

    The first stage also runs `first_extra_s` (embedding) and the last `last_extra_s` (LM head + loss) per
    micro-batch; every layer takes `layer_s`. The smallest time T whose stage capacities
    (p - 2) floor(T / t) + floor((T - e) / t) + floor((T - h) / t) hold all L layers is of the form
    j t, e + j t or h + j t; each family is bisected over whole layers j. One stage holds everything.
    Returns (seconds, layers on that stage, it is the last stage (holds the head), it is the first stage).
    """
    p = as_array(pp)
    t = np.maximum(as_array(layer_s), 1e-30)
    e, h = as_array(first_extra_s) + 0.0 * p, as_array(last_extra_s) + 0.0 * p
    t, e, h, p = np.broadcast_arrays(t, e, h, p)
    if t.size == 1:  # one plan (an estimate): the same arithmetic on Python floats, without numpy's per-call cost
        return _heaviest_stage_one(num_layers, float(p.flat[0]), float(t.flat[0]), float(e.flat[0]),
                                   float(h.flat[0]), t.shape)
    floor_eps = 1e-9

    def capacity(total: Array) -> Array:
        def fit(extra: Array) -> Array:
            return np.floor(np.maximum(total - extra, 0.0) / t + floor_eps)
        return np.asarray((p - 2.0) * fit(np.zeros_like(t)) + fit(e) + fit(h), dtype=np.float64)

    best = np.full(t.shape, np.inf)
    best_layers = np.zeros(t.shape)
    best_family = np.zeros(t.shape, dtype=np.int64)
    floor_t = np.maximum(e, h)  # a stage with no layers still runs its extra work
    for family, base in enumerate((np.zeros_like(t), h, e)):  # middle, last, first (preferred in ties)
        lo = np.zeros(t.shape)
        hi = np.full(t.shape, float(num_layers)) + np.ceil(floor_t / t) + 1.0

        def holds(j: Array, base: Array = base) -> Mask:  # (the loop's test below, at j)
            total = base + j * t
            return np.asarray((capacity(total) >= num_layers) & (total >= floor_t - 1e-15))

        lo, hi = _narrowed(num_layers, p, t, e, h, base, lo, hi, holds)
        for _ in range(int(np.ceil(np.log2(num_layers + 2.0))) + 40):
            if not np.any(hi - lo > 0.5):
                break
            mid = np.floor((lo + hi) / 2.0)
            total = base + mid * t
            ok = (capacity(total) >= num_layers) & (total >= floor_t - 1e-15)
            hi, lo = np.where(ok, mid, hi), np.where(ok, lo, mid + 1.0)
        total = base + hi * t
        better = total < best * (1.0 - 1e-12)
        best, best_layers = np.where(better, total, best), np.where(better, hi, best_layers)
        best_family = np.where(better, family, best_family)
    single = p <= 1.0
    seconds = np.where(single, num_layers * t + e + h, best)
    layers = np.where(single, float(num_layers), best_layers)
    is_last = single | (best_family == 1)
    is_first = single | (best_family == 2)
    return seconds, layers, np.asarray(is_last, dtype=np.bool_), np.asarray(is_first, dtype=np.bool_)


def _narrowed(num_layers: int, p: Array, t: Array, e: Array, h: Array, base: Array, lo: Array, hi: Array,
              holds: Callable[[Array], Mask]) -> tuple[Array, Array]:
    """A family's bisection bracket [lo, hi] of `balanced_heaviest_stage`, narrowed to a few layers around the
    linear estimate j ~ (L + (e + h) / t) / p - base / t (the capacities without their floors; each floor loses
    less than a layer per stage) where it holds the answer: `holds` (capacity and floor test) fails at its low end -
    1 (or it starts at 0) and holds at its high end. `holds` is non-decreasing in j (every operation of it is monotone:
    rounding keeps order), so the bisection's answer, the least j of [0, hi] where it holds, lies in the narrowed
    bracket and the bisection there finds the same j in fewer steps. Elsewhere (a NaN, an estimate off by more, a
    bracket beyond 2^40 whose bisection may stop unconverged) the bracket stays as given (hP20, session 42)."""
    guess = np.ceil((num_layers + (e + h) / t) / p - base / t)
    low = np.maximum(guess - 1.0, 0.0)
    high = np.minimum(guess + 2.0, hi)
    held = holds(high) & ((low == 0.0) | ~holds(np.maximum(low - 1.0, 0.0))) & (low <= high) & (hi <= 2.0**40)
    return np.where(held, low, lo), np.where(held, high, hi)


def _heaviest_stage_one(num_layers: int, p: float, t: float, e: float, h: float,
                        shape: tuple[int, ...]) -> tuple[Array, Array, Mask, Mask]:
    """`balanced_heaviest_stage` of one plan in the shape of its inputs."""
    seconds, layers, is_last, is_first = balanced_stage_floats(num_layers, p, t, e, h)
    return (np.full(shape, seconds), np.full(shape, layers), np.full(shape, is_last, dtype=np.bool_),
            np.full(shape, is_first, dtype=np.bool_))


def balanced_stage_floats(num_layers: int, p: float, t: float, e: float,
                           h: float) -> tuple[float, float, bool, bool]:
    """`balanced_heaviest_stage` of one plan, operation for operation on floats (IEEE doubles: the same results)."""
    if p <= 1.0:
        seconds, layers, is_last, is_first = num_layers * t + e + h, float(num_layers), True, True
    else:
        floor = math.floor
        best, best_layers, best_family = math.inf, 0.0, 0
        floor_t = h if h > e else e  # max(e, h): the builtin's pick
        # ceil(log2(L + 2)) + 40 in integers: ceil(log2 m) of an integer m >= 1 is (m - 1).bit_length()
        steps = (int(num_layers) + 1).bit_length() + 40
        for family, base in enumerate((0.0, h, e)):  # middle, last, first (preferred in ties)
            lo, hi = 0.0, float(num_layers) + float(math.ceil(floor_t / t)) + 1.0
            for _ in range(steps):
                if not hi - lo > 0.5:
                    break
                mid = float(floor((lo + hi) / 2.0))
                total = base + mid * t
                # whole layers a stage fits beside its extra work: floor(max(total - extra, 0) / t + 1e-9)
                middle, with_e, with_h = total, total - e, total - h
                fits = ((p - 2.0) * float(floor((0.0 if middle < 0.0 else middle) / t + 1e-9))
                        + float(floor((0.0 if with_e < 0.0 else with_e) / t + 1e-9))
                        + float(floor((0.0 if with_h < 0.0 else with_h) / t + 1e-9)))
                if fits >= num_layers and total >= floor_t - 1e-15:
                    hi = mid
                else:
                    lo = mid + 1.0
            total = base + hi * t
            if total < best * (1.0 - 1e-12):
                best, best_layers, best_family = total, hi, family
        seconds, layers, is_last, is_first = best, best_layers, best_family == 1, best_family == 2
    return seconds, layers, is_last, is_first


def chosen_virtual_stages(num_layers: int, pp: int, micro_batches: int,
                          accepted: bool | str = True) -> tuple[int, str | None]:
    """The interleave a user of Megatron/NeMo would set when none is given, and the note saying so.

    Pipelines of at least CHOOSE_INTERLEAVE_FROM_PP stages are interleaved into chunks of LAYERS_PER_CHUNK
    layers or more: v is the largest divisor of the layers on a middle stage (ceil(L / p)) that leaves each
    chunk at least that many layers, kept only where the stack's framework accepts interleaving at these
    micro-batches: `accepted` True, or the framework's requirement it breaks (Megatron's: a multiple of p;
    torch's: a multiple of its rounds; `schedule_models.MICRO_BATCH_RULES`).
    """
    if pp < CHOOSE_INTERLEAVE_FROM_PP:
        return 1, None
    per_stage = -(-num_layers // pp)
    v = max((d for d in range(1, per_stage + 1) if per_stage % d == 0 and per_stage // d >= LAYERS_PER_CHUNK),
            default=1)
    if v <= 1 or pp * v > num_layers:
        return 1, None
    if accepted is not True:
        return 1, (f"no interleave chosen for PP{pp} at {counted(micro_batches, 'micro-batch', 'micro-batches')} per "
                   "step: interleaving "
                   f"{accepted or 'needs a multiple of PP'}; ran 1F1B")
    return v, (f"--vpp not given: chose {v} virtual stages for PP{pp} ({per_stage} layers per stage in chunks of "
               f"{per_stage // v}, as NeMo/Megatron-Bridge recipes interleave large pipelines)")


def with_stage_split(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: Any) -> dict[str, Any]:
    """`times` with the heaviest stage's layers (`stage_layers`) and whether it is the last (`last_is_heaviest`)
    of the stack's split, in arrays over plans or one plan's floats (`pp` a float)."""
    if type(pp) is float:
        return _with_stage_split_one(shape, stack, times, pp)

    # a pipeline stage's pace per phase is its GPU work or its host issue time, whichever is longer (each
    # micro-batch phase is its own sync interval with PP, `host_exposed_time`): balance on that pace
    def pace(gpu: dict[str, Any], host: dict[str, Any]) -> Any:
        return np.asarray(np.maximum(gpu["fwd"], host["fwd"]) + np.maximum(gpu["bwd"], host["bwd"]),
                          dtype=np.float64)

    parts = ("compute", "tp", "cp", "ep", "other")
    layer_gpu = {ph: np.sum([times[f"{part}_{ph}"] for part in parts], axis=0) for ph in ("fwd", "bwd")}
    layer_pace = pace(layer_gpu, {ph: times[f"host_{ph}"] for ph in ("fwd", "bwd")})
    head_pace = pace({ph: times[f"head_gpu_{ph}"] for ph in ("fwd", "bwd")},
                     {ph: times[f"head_host_{ph}"] for ph in ("fwd", "bwd")})
    embed_pace = pace({ph: times[f"embed_gpu_{ph}"] for ph in ("fwd", "bwd")},
                      {ph: times[f"embed_host_{ph}"] for ph in ("fwd", "bwd")})
    mtp = float(stack.mtp_num_layers)  # MTP modules beside the LM head on the last stage (`pipeline_layout`)
    last_pace = (head_pace + mtp * (mtp_layer_equivalent(shape) * layer_pace + head_pace + embed_pace) if mtp
                 else head_pace)
    out = _split_stage(shape, stack, times, pp, layer_pace, embed_pace, last_pace)
    layers, last, first = out["stage_layers"], np.asarray(out["last_is_heaviest"]), out["first_is_heaviest"]
    out["last_is_heaviest"] = last.astype(np.float64)
    out["first_is_heaviest"] = np.asarray(first).astype(np.float64)  # holds the embedding
    out["other_layers"] = shape.num_layers - layers  # on the other stages (their bubble, `schedules`)
    out["mtp_stage"] = mtp * out["last_is_heaviest"]
    out["mtp_other"] = mtp - out["mtp_stage"]
    out["mtp_layer_equivalent"] = np.full(np.shape(layers), mtp_layer_equivalent(shape) if mtp else 0.0)
    return out


def _with_stage_split_one(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: float) -> dict[str, Any]:
    """`with_stage_split` of one plan's floats, term for term: each pace the longer of GPU and host time per phase
    (the builtin max's pick, `b if b > a else a`), the five layer parts summed left to right (np.sum's order)."""
    t = times
    fwd = t["compute_fwd"] + t["tp_fwd"] + t["cp_fwd"] + t["ep_fwd"] + t["other_fwd"]
    bwd = t["compute_bwd"] + t["tp_bwd"] + t["cp_bwd"] + t["ep_bwd"] + t["other_bwd"]
    host_fwd, host_bwd = t["host_fwd"], t["host_bwd"]
    layer_pace = (host_fwd if host_fwd > fwd else fwd) + (host_bwd if host_bwd > bwd else bwd)
    gpu_fwd, gpu_bwd, host_fwd, host_bwd = t["head_gpu_fwd"], t["head_gpu_bwd"], t["head_host_fwd"], t["head_host_bwd"]
    head_pace = (host_fwd if host_fwd > gpu_fwd else gpu_fwd) + (host_bwd if host_bwd > gpu_bwd else gpu_bwd)
    gpu_fwd, gpu_bwd = t["embed_gpu_fwd"], t["embed_gpu_bwd"]
    host_fwd, host_bwd = t["embed_host_fwd"], t["embed_host_bwd"]
    embed_pace = (host_fwd if host_fwd > gpu_fwd else gpu_fwd) + (host_bwd if host_bwd > gpu_bwd else gpu_bwd)
    mtp = float(stack.mtp_num_layers)
    last_pace = (head_pace + mtp * (mtp_layer_equivalent(shape) * layer_pace + head_pace + embed_pace) if mtp
                 else head_pace)
    out = _split_stage(shape, stack, times, pp, layer_pace, embed_pace, last_pace)
    layers, last = out["stage_layers"], out["last_is_heaviest"]
    out["last_is_heaviest"], out["first_is_heaviest"] = float(last), float(out["first_is_heaviest"])
    out["other_layers"] = shape.num_layers - layers  # on the other stages (their bubble, `schedules`)
    out["mtp_stage"] = mtp * float(last)
    out["mtp_other"] = mtp - out["mtp_stage"]
    out["mtp_layer_equivalent"] = mtp_layer_equivalent(shape) if mtp else 0.0
    return out


def _split_stage(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: Any, layer: Any, embed: Any,
                 last: Any) -> dict[str, Any]:
    """`times` with the heaviest stage of the stack's split on these paces (`heaviest_stage`), or a fixed cut's on
    each stage's own phases (`pipeline_partition.phase_paced_stage`, hT47), whose end stages' layers it adds:
    `partition_first_layers` / `_last_`)."""
    out = dict(times)
    cut = stack.pipeline_partition if stack.pipeline_split == "balanced" else None
    if cut in FIXED_PARTITIONS:
        ends = partition_end_layers(shape, pp, str(cut))
        mtp = float(stack.mtp_num_layers)
        _, out["stage_layers"], out["last_is_heaviest"], out["first_is_heaviest"] = phase_paced_stage(
            pp, ends, times, mtp, mtp_layer_equivalent(shape) if mtp else 0.0)
        out["partition_first_layers"], out["partition_last_layers"] = ends[0], ends[2]
        return out
    _, out["stage_layers"], out["last_is_heaviest"], out["first_is_heaviest"] = heaviest_stage(
        shape.num_layers, pp, layer, embed, last, stack.pipeline_split, stack.account_for_embedding_in_pipeline_split,
        stack.account_for_loss_in_pipeline_split)
    return out
