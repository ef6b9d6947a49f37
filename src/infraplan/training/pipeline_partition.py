"""DeepSpeed's and torchtitan's pipeline partition of a decoder's layer list: the decoder layers each stage builds,
fixed by the model and PP alone (`Stack.pipeline_partition` "parameters", "uniform", "type:transformer" or "units").

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

torchtitan's cut ("units", `torchtitan_stage_layers`; hT47, session 44): torchtitan 0.3.0
torchtitan/distributed/pipeline_parallel.py:366-476 (`_generate_llm_fqn_per_model_part`, called by `pipeline_llm`
:88-92 where `module_fqns_per_model_part` is unset, its default) counts the embedding and the final norm + output as
`pipeline_parallel_first_stage_less_layers` / `_last_stage_less_layers` units (config/configs.py:191-201, default 1
each), cuts the L + 2 units into floor((L + 2) / S) per stage, the remainder one each on the FIRST stages
(:407-408, :437-439), and builds the first stage's units less one as layers beside the embedding and the last's
less one beside the head (:442-468): llama3-8b PP4, 8 / 9 / 8 / 7 layers. With S = p v virtual stages (looped
schedules, `_get_pipeline_metadata` :194-264: v = 2 by default, or ceil((L + 2) / pipeline_parallel_layers_per_stage)
/ p) rank r holds stages r, r + p, ... (:566-568, the "loop" style), so it builds v floor(U / pv) units plus one for
each of its stages below R = U mod pv, ceil((R - r) / p) of them: floor(U / p) + [r < U mod p], the 1F1B cut's own
(U = pv q + R: floor(U / p) = v q + floor(R / p)), the embedding on rank 0 and the head on rank p - 1 (the chunks of
a rank add up to its 1F1B stage, as `stage_split.with_stage_split` reads them). ZB-V's "v" style (:569-576: rank r
holds stages r and 2p - 1 - r of the cut over 2p) pairs them instead (`v_cut_ranks`, `v_paced_rank`: llama3-8b PP4
ranks 7 + both tables / 9 / 8 / 8; `mirrored_stages` dispatches). Blind to hardware like DeepSpeed's: the
embedding and the head weigh one layer each whatever they cost. A fixed cut's stages pace on their own phases
(`phase_paced_stage`, `phase_seconds`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops import params as ops_params
from infraplan.scalar_path import is_plain, larger

DEEPSPEED_PARTITIONS = ("parameters", "uniform", "type:transformer")  # DeepSpeed's partition_method strings
FIXED_PARTITIONS = (*DEEPSPEED_PARTITIONS, "units")  # ... and torchtitan's unit cut (`torchtitan_stage_layers`)
# torchtitan 0.3.0 config/configs.py:191-201: pipeline_parallel_first_stage_less_layers = 1 (the embedding's units),
# pipeline_parallel_last_stage_less_layers = 1 (the final norm + output's)
TORCHTITAN_INPUT_UNITS = 1
TORCHTITAN_OUTPUT_UNITS = 1


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


def torchtitan_stage_layers(num_layers: int, num_stages: int, input_units: int = TORCHTITAN_INPUT_UNITS,
                            output_units: int = TORCHTITAN_OUTPUT_UNITS) -> list[int]:
    """torchtitan 0.3.0 distributed/pipeline_parallel.py:366-476 `_generate_llm_fqn_per_model_part`: the decoder
    layers of each of `num_stages` stages, U = L + `input_units` + `output_units` units cut floor(U / S) per
    stage, the remainder U mod S one each on the first stages, the first stage's units less `input_units` and the
    last's less `output_units` as layers (one stage: all L). torchtitan refuses S > U (:401-404) and units per stage
    below either weight (:410-427); here such a cut keeps its stages at 0 layers or more (the plan rules refuse
    PP x VPP beyond L before: `training.plan_rules`)."""
    if num_stages <= 1:
        return [num_layers]
    per, extra = divmod(num_layers + input_units + output_units, num_stages)
    counts = [per + (1 if s < extra else 0) for s in range(num_stages)]
    counts[0] -= input_units
    counts[-1] -= output_units
    if min(counts) >= 0:
        return counts
    left, out = num_layers, []  # (refused by torchtitan: the stages in order while layers last, its loop's guard)
    for c in counts:
        out.append(min(max(c, 0), left))
        left -= out[-1]
    return out


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
    on stage 0 and the last (the LM head) on stage pp - 1; "units": torchtitan's (`torchtitan_stage_layers`, the
    embedding on stage 0 and the head on pp - 1; a looped schedule's ranks the same, the module docstring). Kept per
    (model, PP, method): the cut is a constant of them (TransformerShape is frozen and hashable)."""
    if method not in FIXED_PARTITIONS:
        raise ValueError(f"pipeline partition {method!r}: not one of {', '.join(FIXED_PARTITIONS)}")
    if method == "units":
        return tuple(torchtitan_stage_layers(shape.num_layers, pp))
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


def stage_arrays(pp: Any, layer_s: Any, first_extra_s: Any,
                 last_extra_s: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stage split's inputs over plans as float64 arrays of one shape: PP, a decoder layer's seconds, the first
    stage's extra seconds (the embedding) and the last's (the LM head + loss), each broadcast against the others
    (`partitioned_stage`, `stage_split`'s even split, `mirrored_stages`' DualPipe pairs)."""
    p = np.asarray(pp, dtype=np.float64)
    t, e, h = np.broadcast_arrays(np.asarray(layer_s, dtype=np.float64), np.asarray(first_extra_s) + 0.0 * p,
                                  np.asarray(last_extra_s) + 0.0 * p)
    return np.broadcast_to(p, t.shape), t, e, h


def partitioned_stage(pp: Any, first: Any, middle: Any, last: Any, layer_s: Any, first_extra_s: Any,
                      last_extra_s: Any) -> tuple[Any, Any, Any, Any]:
    """The pace-setting stage of a fixed cut (`partition_end_layers`: the first stage's `first` layers beside its
    embedding `first_extra_s`, the last's `last` beside its LM head + loss `last_extra_s`, the middle stage of the
    most `middle` layers; every layer `layer_s`): the slowest of the three, ties to the middle, then the last (the
    time split's order, `stage_split.balanced_heaviest_stage`). Returns what `stage_split.heaviest_stage` returns:
    (seconds, layers on that stage, it is the last, it is the first); one stage: everything. Arrays over plans, or
    one plan's floats where `pp` is a float (the same operations). The step time's split prices each stage on its
    own phases instead (`phase_paced_stage`: the same where no item is host-bound; hT47)."""
    if type(pp) is float:
        if pp <= 1.0:
            return first * layer_s + first_extra_s + last_extra_s, first, True, True
        return _slowest(pp, first, middle, last, first * layer_s + first_extra_s,
                        middle * layer_s if pp > 2.0 else -1.0, last * layer_s + last_extra_s)
    p, t, e, h = stage_arrays(pp, layer_s, first_extra_s, last_extra_s)
    seconds, layers, is_last, is_first = _slowest(p, first, middle, last, first * t + e,
                                                  np.where(p > 2.0, middle * t, -1.0), last * t + h)
    single = p <= 1.0
    return (np.where(single, first * t + e + h, seconds), np.where(single, first, layers) + 0.0 * t,
            np.asarray(single | is_last, dtype=np.bool_), np.asarray(single | is_first, dtype=np.bool_))


def phase_paced_stage(pp: Any, ends: tuple[Any, Any, Any], times: dict[str, Any], mtp: float,
                      mtp_equivalent: float) -> tuple[Any, Any, Any, Any]:
    """`partitioned_stage` of a fixed cut (`ends`: `partition_end_layers`) on each stage's own pace: per phase the
    longer of its GPU work and its host issue time, summed over the forward and the backward (hT47, session 44). With
    a pipeline each phase of a micro-batch is its own host interval (`host_time.host_exposed_time`, `synced`:
    m (max(0, Hf - Gf) + max(0, Hb - Gb)) on the stage's totals), so a stage of host-bound layers beside a GPU-bound
    LM head paces on its layers' host time with the head's GPU work under it; the layer-by-layer paces
    (`stage_split.with_stage_split`, max(G, H) of each item, summed) over-price such an end and picked it over a
    middle stage that the step then priced slower (qwen3-30b-a3b TP2 PP4 fp8 on H200 under torchtitan: the step fell
    1.9 % as the sequence doubled). `times`: `with_stage_split`'s terms (arrays over plans, or one plan's floats);
    `mtp` MTP modules beside the head (`pipeline_layout.mtp_layer_equivalent` layers, a head and an embedding each).
    Returns what `partitioned_stage` returns."""
    def stage(layers: Any, embeds: float, heads: float) -> Any:
        return phase_seconds(times, layers, embeds, heads, mtp, mtp_equivalent)

    first, middle, last = ends
    if type(pp) is float:
        if pp <= 1.0:
            return stage(first, 1.0, 1.0), first, True, True
        return _slowest(pp, first, middle, last, stage(first, 1.0, 0.0), stage(middle, 0.0, 0.0) if pp > 2.0 else -1.0,
                        stage(last, 0.0, 1.0))
    p = np.asarray(pp, dtype=np.float64)
    whole = stage(first, 1.0, 1.0) + 0.0 * p
    middle_s = np.where(p > 2.0, stage(middle, 0.0, 0.0), -1.0)
    seconds, layers, is_last, is_first = _slowest(p, first, middle, last, stage(first, 1.0, 0.0) + 0.0 * p, middle_s,
                                                  stage(last, 0.0, 1.0) + 0.0 * p)
    single = p <= 1.0
    return (np.where(single, whole, seconds), np.where(single, first, layers) + 0.0 * whole,
            np.asarray(single | is_last, dtype=np.bool_), np.asarray(single | is_first, dtype=np.bool_))


def phase_seconds(times: dict[str, Any], layers: Any, embeds: float, heads: float, mtp: float,
                  mtp_equivalent: float) -> Any:
    """Seconds per micro-batch of a stage of `layers` decoder layers, `embeds` embeddings and `heads` LM heads +
    losses (with `mtp` MTP modules per head): per phase the longer of its GPU work and its host issue time, summed
    over the forward and the backward (`phase_paced_stage`). `times` as `phase_paced_stage` reads them."""
    total: Any = 0.0
    for ph in ("fwd", "bwd"):
        layer_gpu = (times[f"compute_{ph}"] + times[f"tp_{ph}"] + times[f"cp_{ph}"] + times[f"ep_{ph}"]
                     + times[f"other_{ph}"])
        modules = heads * mtp  # (each an MTP layer, a head and an embedding)
        blocks, tables, lookups = layers + modules * mtp_equivalent, heads + modules, embeds + modules
        gpu = blocks * layer_gpu + tables * times[f"head_gpu_{ph}"] + lookups * times[f"embed_gpu_{ph}"]
        host = (blocks * times[f"host_{ph}"] + tables * times[f"head_host_{ph}"]
                + lookups * times[f"embed_host_{ph}"])
        total = total + larger(gpu, host)
    return total


@lru_cache(maxsize=256)
def v_cut_ranks(num_layers: int, pp: int) -> tuple[float, float]:
    """(rank 0's decoder layers, the most another rank holds) of torchtitan's units cut over 2p stages under the V
    mapping of ZBVZeroBubble (pipeline_parallel.py:569-576: rank r holds stages r and 2p - 1 - r, so rank 0 the
    embedding and the head): llama3-8b PP4, 4 / 5 / 4 / 4 / 4 / 4 / 4 / 3 -> ranks 7 / 9 / 8 / 8, (7, 9). One
    stage: all L."""
    if pp <= 1:
        return float(num_layers), 0.0
    cut = torchtitan_stage_layers(num_layers, 2 * pp)
    pairs = [cut[r] + cut[2 * pp - 1 - r] for r in range(pp)]
    return float(pairs[0]), float(max(pairs[1:]))


def v_cut_rank_arrays(num_layers: int, pp: Any) -> tuple[Any, Any]:
    """`v_cut_ranks` of each plan's PP (float arrays of its shape), or of one plan's (floats)."""
    if is_plain(pp):
        return v_cut_ranks(num_layers, int(pp))
    p = np.asarray(pp)
    distinct, inverse = np.unique(p, return_inverse=True)
    table = np.array([v_cut_ranks(num_layers, int(v)) for v in distinct], dtype=np.float64).reshape(len(distinct), 2)
    rows = table[inverse.reshape(p.shape)]
    return rows[..., 0], rows[..., 1]


def v_paced_rank(num_layers: int, pp: Any, times: dict[str, Any], mtp: float,
                 mtp_equivalent: float) -> tuple[Any, Any, Any, Any]:
    """ZB-V's pace-setting rank of torchtitan's units cut (`v_cut_ranks`), each rank on its own phases
    (`phase_seconds`): rank 0's layers beside the embedding, the head and the MTP modules against the rank of the
    most layers (ties to it). Returns what `mirrored_stages.v_shape_stage` returns: (seconds per micro-batch, the
    rank's decoder layers, share of micro-batches running the LM head + loss on it, the embedding's: 1 on rank 0,
    0 elsewhere). Arrays over plans, or one plan's floats (`pp` a float)."""
    if type(pp) is float:
        end, middle = v_cut_ranks(num_layers, int(pp))
        rank0 = phase_seconds(times, end, 1.0, 1.0, mtp, mtp_equivalent)
        other = phase_seconds(times, middle, 0.0, 0.0, mtp, mtp_equivalent) if pp > 1.0 else -1.0
        return (other, middle, 0.0, 0.0) if other >= rank0 else (rank0, end, 1.0, 1.0)
    p = np.asarray(pp, dtype=np.float64)
    end_layers, middle_layers = v_cut_rank_arrays(num_layers, p)
    rank0 = phase_seconds(times, end_layers, 1.0, 1.0, mtp, mtp_equivalent) + 0.0 * p
    other = np.where(p > 1.0, phase_seconds(times, middle_layers, 0.0, 0.0, mtp, mtp_equivalent), -1.0)
    is_other = other >= rank0
    share = np.where(is_other, 0.0, 1.0)
    return np.where(is_other, other, rank0), np.where(is_other, middle_layers, end_layers) + 0.0 * rank0, share, share


def _slowest(pp: Any, first: Any, middle: Any, last: Any, first_s: Any, middle_s: Any,
             last_s: Any) -> tuple[Any, Any, Any, Any]:
    """The slowest of a cut's first, middle (-1 where none) and last stage: ties to the middle, then the last (the
    time split's order, `stage_split.balanced_heaviest_stage`); (seconds, its layers, it is the last, the first)."""
    if type(pp) is float:
        if middle_s >= first_s and middle_s >= last_s:
            return middle_s, middle, False, False
        if last_s >= first_s:
            return last_s, last, True, False
        return first_s, first, False, True
    is_middle = (middle_s >= first_s) & (middle_s >= last_s)
    is_last = ~is_middle & (last_s >= first_s)
    seconds = np.where(is_middle, middle_s, np.where(is_last, last_s, first_s))
    layers = np.where(is_middle, middle, np.where(is_last, last, first))
    return seconds, layers, is_last, ~is_middle & ~is_last
