"""Megatron-Core's pipeline layout (`pipeline_model_parallel_layout`) and the MTP module on the pipeline.

A layout names, stage by stage, what each pipeline model chunk builds: `E` the embedding, `t` a decoder layer
(transformer), `m` a multi-token-prediction module, `L` the LM head + loss; `|` separates the p x v chunks, `x*n`
and `(...)*n` repeat, commas are cosmetic (Megatron-Core 0.16.1 `PipelineParallelLayerLayout.parse_str_to_list`,
megatron/core/transformer/pipeline_parallel_layer_layout.py:283-318). Chunk i of the list runs on pipeline rank
i mod p as its virtual stage i // p (`__init__`, :46-53); a rank's work per micro-batch is the sum of its chunks.
Megatron-Core checks that the embedding opens and the loss closes the layout, each exactly once, that it holds
exactly the model's decoder layers and `mtp_num_layers` MTP modules, and that no decoder layer follows an MTP
module (`validate_layer_layout`, :85-146): the same checks raise `InputError` here.

A stack carries layouts as `Stack.pipeline_layouts`; a plan runs the one with p x v chunks (the Megatron-Bridge
DeepSeek-V3 recipe keys its layouts by (PP, VP), recipes/deepseek/deepseek_v3.py:29-49; plans of any other shape
keep the stack's `pipeline_split`, as the recipe leaves the layout unset for them).

MTP in training (Megatron-Core `MultiTokenPredictionLayer.forward`, megatron/core/transformer/
multi_token_prediction.py:700-820; `GPTModel` runs it after the decoder and before the output layer): the
embedding of the next tokens (enorm), the hidden states (hnorm), `eh_proj` (a 2h -> h column-parallel linear), one
transformer layer of the decoder's last kind (an MoE layer in DeepSeek-V3), a final norm, then the shared output
layer and a second cross-entropy loss. Priced as one embedding, one layer, one LM head + loss and the eh_proj
GEMM (`mtp_layer_equivalent`: its 2h^2 weights at the mean layer's time per matmul weight, an ASSUMPTION: no
separate GEMM is priced for it). Without a layout the MTP modules run on the last stage beside the LM head
(Megatron-Core builds them with `post_process`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.errors import InputError

_REPEAT_GROUP = re.compile(r"\(([^)]+)\)\*(\d+)")
_REPEAT_ONE = re.compile(r"(.)\*(\d+)")
_KINDS = "EtmL"  # embedding, decoder layer, MTP module, loss (LM head + loss)

Chunk = tuple[int, int, int, int]  # (embedding, decoder layers, MTP modules, LM head + loss) of one chunk


MAX_LAYOUT_ENTRIES = 100_000  # more layers and stages than any model has: a longer unrolled layout is a typo


def _expand(layout: str) -> str:
    """The layout with its repeats unrolled (`parse_str_to_list`'s two substitutions, in its order); InputError
    where a repeat would unroll past `MAX_LAYOUT_ENTRIES` characters."""

    def repeat(match: re.Match[str]) -> str:
        if len(match.group(1)) * int(match.group(2)) > MAX_LAYOUT_ENTRIES:
            raise InputError(f"pipeline layout {layout!r}: {match.group(0)!r} repeats past {MAX_LAYOUT_ENTRIES:,} "
                             "entries")
        return match.group(1) * int(match.group(2))

    text = layout.replace(",", "").replace(" ", "")
    for pattern in (_REPEAT_GROUP, _REPEAT_ONE):
        text = pattern.sub(repeat, text)
        if len(text) > MAX_LAYOUT_ENTRIES:
            raise InputError(f"pipeline layout {layout!r}: unrolls past {MAX_LAYOUT_ENTRIES:,} entries")
    return text


@lru_cache(maxsize=64)
def parse_layout(layout: str) -> tuple[Chunk, ...]:
    """The chunks of a layout string, each as counts of (E, t, m, L); bad characters raise InputError."""
    chunks = []
    for stage in _expand(layout).split("|"):
        bad = sorted(set(stage) - set(_KINDS))
        if bad:
            raise InputError(f"pipeline layout {layout!r}: unknown layer character{'s' * (len(bad) > 1)} "
                             f"{''.join(bad)!r} (known: E embedding, t decoder layer, m MTP module, L loss; "
                             "| between stages)")
        chunks.append((stage.count("E"), stage.count("t"), stage.count("m"), stage.count("L")))
    return tuple(chunks)


def check_layout(layout: str, num_layers: int, mtp_num_layers: int) -> tuple[Chunk, ...]:
    """`parse_layout` with Megatron-Core's `validate_layer_layout` checks against the model and the stack."""
    chunks = parse_layout(layout)
    flat = _expand(layout).replace("|", "")
    totals = [sum(c[i] for c in chunks) for i in range(4)]
    problems = []
    if totals[0] != 1 or not flat.startswith("E"):
        problems.append("the embedding must open the layout, once")
    if totals[3] != 1 or not flat.endswith("L"):
        problems.append("the loss must close the layout, once")
    if totals[1] != num_layers:
        problems.append(f"it holds {totals[1]} decoder layers, the model has {num_layers}")
    if totals[2] != mtp_num_layers:
        problems.append(f"it holds {totals[2]} MTP modules, the stack trains {mtp_num_layers} (`mtp_num_layers`)")
    if "m" in flat and "t" in flat[flat.index("m"):]:
        problems.append("no decoder layer may follow an MTP module")
    if problems:
        raise InputError(f"pipeline layout {layout!r}: " + "; ".join(problems))
    return chunks


def rank_loads(chunks: tuple[Chunk, ...], pp: int) -> list[Chunk]:
    """Per pipeline rank, the (E, t, m, L) counts of its chunks (chunk i on rank i mod p); InputError unless the
    chunks divide evenly over the p ranks (Megatron-Core's `len(layout) % pipeline_model_parallel_size`)."""
    if len(chunks) % pp:
        raise InputError(f"pipeline layout of {len(chunks)} stages does not divide over PP{pp}")
    loads = [[0, 0, 0, 0] for _ in range(pp)]
    for i, chunk in enumerate(chunks):
        for k in range(4):
            loads[i % pp][k] += chunk[k]
    return [(a, b, c, d) for a, b, c, d in loads]


def layout_virtual_stages(stack: Stack, pp: int) -> tuple[int | None, str | None]:
    """(virtual stages, note) of the stack's first layout whose stages divide over PP `pp`; (None, None) without
    one: a plan that names no `--vpp` runs the layout its stack was written for."""
    for layout in stack.pipeline_layouts:
        stages = len(parse_layout(layout))
        if stages % pp == 0:
            return stages // pp, (f"--vpp not given: the stack's pipeline layout of {stages} stages runs as PP{pp} x "
                                  f"VP{stages // pp}")
    return None, None


def layout_for(stack: Stack, shape: TransformerShape, pp: int, vpp: int) -> tuple[Chunk, ...] | None:
    """The stack's layout with p x v chunks for this plan (checked against the model), or None."""
    for layout in stack.pipeline_layouts:
        if len(parse_layout(layout)) == pp * vpp and pp > 1:
            return check_layout(layout, shape.num_layers, stack.mtp_num_layers)
    return None


def mtp_layer_equivalent(shape: TransformerShape) -> float:
    """Layers of time one MTP module's transformer layer and eh_proj take: 1 + 2 h^2 / the mean layer's matmul
    weights (eh_proj's 2h x h weights at the layer's time per weight: ASSUMPTION, see the module docstring)."""
    mean = (shape.num_routed_layers * shape.active_layer_params()
            + shape.num_dense_layers * shape.dense_layer_params()) / shape.num_layers
    return 1.0 + 2.0 * shape.hidden_size ** 2 / mean


def paces(times: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Per micro-batch pace of a layer, the LM head + loss and the embedding: per phase the longer of GPU work and
    host issue time (as `stage_split.with_stage_split` balances on), arrays over plans or one plan's floats."""
    fwd = times["compute_fwd"] + times["tp_fwd"] + times["cp_fwd"] + times["ep_fwd"] + times["other_fwd"]
    bwd = times["compute_bwd"] + times["tp_bwd"] + times["cp_bwd"] + times["ep_bwd"] + times["other_bwd"]
    layer = np.maximum(fwd, times["host_fwd"]) + np.maximum(bwd, times["host_bwd"])
    head = (np.maximum(times["head_gpu_fwd"], times["head_host_fwd"])
            + np.maximum(times["head_gpu_bwd"], times["head_host_bwd"]))
    embed = (np.maximum(times["embed_gpu_fwd"], times["embed_host_fwd"])
             + np.maximum(times["embed_gpu_bwd"], times["embed_host_bwd"]))
    return layer, head, embed


def with_pipeline_layout(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: Any,
                         vpp: Any) -> dict[str, Any]:
    """`times` (of `stage_split.with_stage_split`) with the heaviest rank of the stack's layout where a plan's
    p x v matches one: its decoder layers (`stage_layers`), whether it holds the LM head + loss / the embedding,
    its MTP modules (`mtp_stage`) and the other ranks' layers and MTP modules (`other_layers`, `mtp_other`).
    Plans without a matching layout keep the split's terms. Arrays over plans or one plan's floats."""
    if not stack.pipeline_layouts:
        return times
    one = type(pp) in (int, float) or np.ndim(pp) == 0
    pps, vpps = np.atleast_1d(np.asarray(pp, dtype=np.int64)), np.atleast_1d(np.asarray(vpp, dtype=np.int64))
    paced = [np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in paces(times)]
    # the plans' shape: a pace may vary along an axis PP and VP do not (a search block's grid, hR67)
    full = np.broadcast_shapes(pps.shape, vpps.shape, *(x.shape for x in paced))
    pps, vpps = np.broadcast_to(pps, full), np.broadcast_to(vpps, full)
    layer, head, embed = (np.broadcast_to(x, full) for x in paced)
    mtp_s = mtp_layer_equivalent(shape) * layer + head + embed
    keys = ("stage_layers", "last_is_heaviest", "first_is_heaviest", "other_layers", "mtp_stage", "mtp_other")
    out = {k: np.array(np.broadcast_to(np.atleast_1d(np.asarray(times[k], dtype=np.float64)), pps.shape))
           for k in keys}
    for p, v in {(int(a), int(b)) for a, b in zip(pps.ravel(), vpps.ravel(), strict=True)}:
        chunks = layout_for(stack, shape, p, v)
        if chunks is None:
            continue
        rows = (pps == p) & (vpps == v)
        loads = np.array(rank_loads(chunks, p), dtype=np.float64)  # (p, 4): E, t, m, L per rank
        pace = (loads[:, :1] * embed[rows] + loads[:, 1:2] * layer[rows] + loads[:, 2:3] * mtp_s[rows]
                + loads[:, 3:4] * head[rows])  # (p, rows)
        heaviest = loads[np.argmax(pace, axis=0)]  # (rows, 4): the first of equal ranks
        out["stage_layers"][rows] = heaviest[:, 1]
        out["last_is_heaviest"][rows] = heaviest[:, 3]
        out["first_is_heaviest"][rows] = heaviest[:, 0]
        out["other_layers"][rows] = shape.num_layers - heaviest[:, 1]
        out["mtp_stage"][rows] = heaviest[:, 2]
        out["mtp_other"][rows] = stack.mtp_num_layers - heaviest[:, 2]
    result = dict(times)
    equivalent = mtp_layer_equivalent(shape) if stack.mtp_num_layers else 0.0
    result["mtp_layer_equivalent"] = equivalent if one else np.full(pps.shape, equivalent)
    result.update({k: float(v[0]) for k, v in out.items()} if one else out)
    return result
