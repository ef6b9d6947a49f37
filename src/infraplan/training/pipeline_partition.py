"""DeepSpeed's pipeline partition of a decoder's layer list: the decoder layers each stage builds, fixed by the model
and PP alone (`Stack.pipeline_partition` "parameters", "uniform" or "type:transformer").

DeepSpeed's `PipelineModule(partition_method=...)` cuts the layer list into PP contiguous parts before training
(DeepSpeed 0.14.4 deepspeed/runtime/pipe/module.py:130 default "parameters", `_partition_layers` :370-398; 0.16.4
the same code, module.py:133, :406, utils.py:562-621): "parameters" weighs each layer by its trainable parameter
count (`_count_layer_params` :279-294: each LayerSpec built, a TiedLayerSpec at every occurrence) and
"type:transformer" by 1 for a layer whose class matches, 0 otherwise (:386-391), both cut by
`ds_utils.partition_balanced` (runtime/utils.py:583-621): a dynamic programme over contiguous parts that minimises
the spread (largest less smallest part), not the largest, ties to the latest cut; "uniform" cuts the item count
evenly, the remainder one each on the first parts (`partition_uniform` :562-580). Ported here operation for
operation (`partition_balanced`, `partition_uniform`; tests/training/test_pipeline_partition_hS46.py checks them
against DeepSpeed's own functions' outputs). Blind to hardware, sequence
length and CP: the split moves with no FLOP rate (the time-balanced split, `stage_split.balanced_heaviest_stage`,
re-cuts as rates move).

The layer list (`deepspeed_layer_weights`): ASSUMPTION, the Megatron-DeepSpeed-style GPT pipeline's items that
carry parameters in order: the embedding (V x h), the L decoder layers (DeepSeek's first-k dense layers first, as
`TransformerShape.num_dense_layers` has them; Llama 4's interleaved between the routed ones), the final norm (h) and
the LM head (V x h: an untied head, or the tied embedding's TiedLayerSpec counted again), each counted whole (TP 1,
every expert: the layer list as one rank's partitioner sees it before TP / EP shard it; the norms inside a layer left
out, <0.1 %, `ops.params`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops import params as ops_params
from infraplan.scalar_path import is_plain

FIXED_PARTITIONS = ("parameters", "uniform", "type:transformer")  # DeepSpeed's partition_method strings


def partition_uniform(num_items: int, num_parts: int) -> list[int]:
    """DeepSpeed 0.14.4 runtime/utils.py:562-580 `partition_uniform`: part boundaries of `num_items` items cut into
    `num_parts` parts of num_items // num_parts, the remainder one each on the first parts (fewer items than parts:
    one each, the last parts empty)."""
    if num_items <= num_parts:
        return [min(p, num_items) for p in range(num_parts + 1)]
    chunk, residual = divmod(num_items, num_parts)
    return [p * chunk + min(p, residual) for p in range(num_parts + 1)]


def partition_balanced(weights: list[float], num_parts: int) -> list[int]:
    """DeepSpeed 0.14.4 runtime/utils.py:583-621 `partition_balanced`: part boundaries (num_parts + 1, from 0 to
    len(weights)) of the contiguous cut whose parts' weights have the least spread (largest less smallest), by its
    dynamic programme: for i items in j parts, over the last cut k < i, the cost max - min of (the best j - 1 parts
    of k items, the part k..i); DeepSpeed's loop takes k in order with `>=`, so the latest k of the least cost wins
    (here: argmin over the reversed costs, the same k). Fewer items than parts: `partition_uniform`."""
    n, m = len(weights), num_parts
    if n <= m:
        return partition_uniform(n, m)
    dp_max = np.full((n + 1, m + 1), np.inf)
    dp_min = np.full((n + 1, m + 1), np.inf)
    position = np.zeros((n + 1, m + 1), dtype=np.int64)
    prefix = np.zeros(n + 1)
    prefix[1:] = np.cumsum(np.asarray(weights, dtype=np.float64))
    dp_max[0, 0] = 0.0
    for i in range(1, n + 1):  # (row i reads rows k < i only: its every j at once)
        most = min(i, m)
        segment = (prefix[i] - prefix[:i])[:, None]  # the part k..i for every k < i
        high = np.maximum(dp_max[:i, :most], segment)  # [k, j - 1]
        low = np.minimum(dp_min[:i, :most], segment)
        k = i - 1 - np.argmin((high - low)[::-1], axis=0)  # (the latest of the least cost, DeepSpeed's `>=`)
        cols = np.arange(most)
        dp_max[i, 1:most + 1], dp_min[i, 1:most + 1], position[i, 1:most + 1] = high[k, cols], low[k, cols], k
    parts = [n]
    for j in range(m, 0, -1):
        parts.append(int(position[parts[-1], j]))
    parts.reverse()
    return parts


def deepspeed_layer_weights(shape: TransformerShape, method: str) -> list[float]:
    """Each item's weight in the layer list (the module docstring's ASSUMPTION): embedding, the L decoder layers,
    final norm, LM head. "parameters": their parameter counts; "type:transformer": 1 per decoder layer, 0 else;
    "uniform": 1 each (`partition_uniform` reads only the count)."""
    if method == "type:transformer":
        return [0.0, *([1.0] * shape.num_layers), 0.0, 0.0]
    if method == "uniform":
        return [1.0] * (shape.num_layers + 3)
    table = float(shape.vocab_size * shape.hidden_size)
    kinds = shape.layer_kinds()
    routed = float(ops_params.local_layer_params(kinds[0][0], 1, 1))
    dense = [float(ops_params.local_layer_params(kind, 1, 1)) for kind, _ in kinds[1:]]
    layers = [*(dense * shape.num_dense_layers), *([routed] * (shape.num_layers - shape.num_dense_layers))]
    if shape.dense_layers_interleaved and dense:  # Llama 4: the routed layers spread evenly (layer i routed where
        share = shape.num_routed_layers  # floor((i + 1) R / L) steps: Maverick's odd layers)
        layers = [routed if (i + 1) * share // shape.num_layers > i * share // shape.num_layers else dense[0]
                  for i in range(shape.num_layers)]
    return [table, *layers, float(shape.hidden_size), table]


@lru_cache(maxsize=256)
def partition_stage_layers(shape: TransformerShape, pp: int, method: str) -> tuple[int, ...]:
    """Decoder layers on each of the `pp` stages under DeepSpeed's `method` (one of `FIXED_PARTITIONS`), from
    `deepspeed_layer_weights` cut by `partition_balanced` ("uniform": `partition_uniform`), item 0 (the embedding)
    on stage 0 and the last (the LM head) on stage pp - 1. Kept per (model, PP, method): the cut is a constant of
    them (TransformerShape is frozen and hashable)."""
    if method not in FIXED_PARTITIONS:
        raise ValueError(f"pipeline partition {method!r}: not one of {', '.join(FIXED_PARTITIONS)}")
    weights = deepspeed_layer_weights(shape, method)
    parts = (partition_uniform(len(weights), pp) if method == "uniform"
             else partition_balanced(weights, pp))
    last_layer = shape.num_layers  # (items 1..L are the decoder layers)
    return tuple(max(0, min(parts[s + 1] - 1, last_layer) - max(parts[s], 1) + 1) for s in range(pp))


def partition_end_layers(shape: TransformerShape, pp: Any, method: str) -> tuple[Any, Any, Any]:
    """(first, most on a middle stage, last) stage's decoder layers of `partition_stage_layers` for each plan's PP
    (an array over plans: float arrays of its shape; one plan's number: floats). One stage: all L on the first and
    the last; two stages: no middle (0)."""
    def ends(p: int) -> tuple[float, float, float]:
        if p <= 1:
            whole = float(shape.num_layers)
            return whole, 0.0, whole
        layers = partition_stage_layers(shape, p, method)
        return float(layers[0]), float(max(layers[1:-1], default=0)), float(layers[-1])

    if is_plain(pp):
        return ends(int(pp))
    p = np.asarray(pp)
    distinct, inverse = np.unique(p, return_inverse=True)
    table = np.array([ends(int(v)) for v in distinct], dtype=np.float64).reshape(len(distinct), 3)
    rows = table[inverse.reshape(p.shape)]
    return rows[..., 0], rows[..., 1], rows[..., 2]


def partitioned_stage(pp: Any, first: Any, middle: Any, last: Any, layer_s: Any, first_extra_s: Any,
                      last_extra_s: Any) -> tuple[Any, Any, Any, Any]:
    """The pace-setting stage of a fixed cut (`partition_end_layers`: the first stage's `first` layers beside its
    embedding `first_extra_s`, the last's `last` beside its LM head + loss `last_extra_s`, the middle stage of the
    most `middle` layers; every layer `layer_s`): the slowest of the three, ties to the middle, then the last (the
    time split's order, `stage_split.balanced_heaviest_stage`). Returns what `stage_split.heaviest_stage` returns:
    (seconds, layers on that stage, it is the last, it is the first); one stage: everything. Arrays over plans, or
    one plan's floats where `pp` is a float (the same operations)."""
    if type(pp) is float:
        if pp <= 1.0:
            return first * layer_s + first_extra_s + last_extra_s, first, True, True
        first_s, last_s = first * layer_s + first_extra_s, last * layer_s + last_extra_s
        middle_s = middle * layer_s if pp > 2.0 else -1.0
        if middle_s >= first_s and middle_s >= last_s:
            return middle_s, middle, False, False
        if last_s >= first_s:
            return last_s, last, True, False
        return first_s, first, False, True
    p = np.asarray(pp, dtype=np.float64)
    t, e, h = np.broadcast_arrays(np.asarray(layer_s, dtype=np.float64), np.asarray(first_extra_s) + 0.0 * p,
                                  np.asarray(last_extra_s) + 0.0 * p)
    first_s, last_s = first * t + e, last * t + h
    middle_s = np.where(p > 2.0, middle * t, -1.0)
    is_middle = (middle_s >= first_s) & (middle_s >= last_s)
    is_last = ~is_middle & (last_s >= first_s)
    is_first = ~is_middle & ~is_last
    seconds = np.where(is_middle, middle_s, np.where(is_last, last_s, first_s))
    layers = np.where(is_middle, middle, np.where(is_last, last, first))
    single = p <= 1.0
    return (np.where(single, first * t + e + h, seconds), np.where(single, first, layers) + 0.0 * t,
            np.asarray(single | is_last, dtype=np.bool_), np.asarray(single | is_first, dtype=np.bool_))
