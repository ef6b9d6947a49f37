"""The layouts `serve-plan`'s capacity search (`serving.capacity`) tries at one PP level, the weight formats it
searches, and why a layout the stack's engine cannot build is rejected.

Weight formats (`weight_kinds`): the asked `--dtypes` the accelerator and the stack's engine run
(`serving.deployment.format_gap`); where none does, one line naming the formats they do run and the shipped stacks
of other engines that run an asked format on that part (`serving.deployment.other_stacks`, as `serve`'s refusal
names them, hW51).

Layouts (`level_layouts`): (TP, attention DP, MoE TP, batch cap). The TP layouts (attention DP 1); then, for an MoE
model at PP 1, the wide-EP ones (TP 1, attention DP d = EP d, `capacity_space.wide_ep_degrees`); then attention DP d
with MoE TP m (each expert's FFN split over m of the d GPUs, EP d / m: `serving.deployment.Deployment.moe_tp`), for
the powers of two 2 <= m <= d dividing the model's expert width:
- TensorRT-LLM: `moe_tensor_parallel_size` x `moe_expert_parallel_size` over the attention-DP ranks, any split (the
  measured rows of AIConfigurator's silicon sample run attention DP 4 with MoE TP 2 and 4, DP 16 with MoE TP 4, DP 64
  with MoE TP 8: validation/data/serving_measured_blackwell.csv, serving_measured_hopper_moe.csv);
- SGLang: with `--enable-dp-attention`, its MoE layers run `tp_size / ep_size` tensor shards (ep_size 1, its default,
  is MoE TP over every rank: sglang 0.5.9 server_args.py:471, srt/layers/moe/fused_moe_triton/layer.py:192-202, as
  `serving.serving_api` cites them); other splits: ASSUMPTION (recalled: `moe_tp_size = tp_size // ep_size`);
- vLLM: data-parallel attention runs its MoE layers either expert-parallel over every DP x TP rank
  (`--enable-expert-parallel`, EP d: the wide-EP layout) or tensor-parallel over all of them (EP 1, MoE TP d); no
  split between (recalled: `FusedMoEParallelConfig.make` flattens TP across DP, ASSUMPTION: the source is not
  readable here; its measured rows are EP = DP x TP only), so only m = d is tried there
  (`deployment.moe_tp_refusal` says why the others are not; `serve` refuses them with it).
MoE-TP layouts lose ties to wide EP of the same attention DP (`replica_search.option_rank`): MoE TP is chosen only
where it saves accelerators.
"""

from __future__ import annotations

from collections.abc import Sequence

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.errors import InputError
from infraplan.serving.capacity_candidate import shortest_sequence
from infraplan.serving.capacity_space import wide_ep_degrees
from infraplan.serving.deployment import format_gap, formats_run, moe_tp_refusal, other_stacks
from infraplan.serving.workloads import Requests

Layout = tuple[int, int, int, int]  # (TP, attention DP, MoE TP, batch cap); EP = attention DP x TP / MoE TP


def runnable_formats(acc: Accelerator, engine: str | None, dtypes: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the asked `dtypes` the accelerator and engine run, a "dtype: why not" line for each other), by
    `deployment.format_gap`: int4 / mxfp4 run weight-only on any part."""
    gaps = [(d, format_gap(acc, d, engine)) for d in dtypes]
    return [d for d, gap in gaps if not gap], [f"{d}: {gap}" for d, gap in gaps if gap]


def weight_kinds(acc: Accelerator, engine: str | None, dtypes: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The asked `dtypes` the accelerator and engine run, and a `rejected` line for each other; InputError, one line,
    where none runs (module docstring)."""
    kinds, unsupported = runnable_formats(acc, engine, dtypes)
    if not kinds:  # was "no deployment within N accelerators meets the SLOs", the search having tried nothing
        also = "".join(f", {d}" for d in formats_run(acc, engine))
        engine_gaps = [gap for gap in unsupported if f"{acc.name} has no" not in gap]  # mxfp8 on vLLM
        reason = "; ".join(engine_gaps) if engine_gaps else "no support in its catalog file"
        by_runs: dict[tuple[str, ...], list[str]] = {}  # the other stacks, by the asked formats each runs there
        for name, engine_of in other_stacks(acc, engine).items():
            if runs := tuple(d for d in dtypes if not format_gap(acc, d, engine_of)):
                by_runs.setdefault(runs, []).append(name)
        others = "".join(f"; or --stack {' or '.join(names)}, which {'runs' if len(names) == 1 else 'run'} "
                         f"{', '.join(runs)} on {acc.name}" for runs, names in by_runs.items())
        raise InputError(f"--dtypes {','.join(dtypes)}: {acc.name} runs none of them ({reason}); use bf16{also}, "
                         f"or the weight-only int4 or mxfp4, as `serve` says{others}")
    return kinds, unsupported


def moe_tp_degrees(shape: TransformerShape, adp: int, engine: str | None = None) -> list[int]:
    """The MoE-TP degrees m tried over `adp` attention-DP ranks of TP 1: powers of two 2..adp dividing the expert
    width (as `check_deployment` requires) that `engine` builds (`deployment.moe_tp_refusal`: vLLM's all or none;
    None: any split). The decode layouts' (`level_layouts`) and the prefill pools' (`capacity_pairs`) one list."""
    if not shape.is_moe or adp < 2:
        return []
    return [m for m in (1 << k for k in range(1, adp.bit_length())) if adp % m == 0
            and shape.ffn_hidden_size % m == 0 and not moe_tp_refusal(engine, adp, 1, m)]


def level_layouts(shape: TransformerShape, acc: Accelerator, domain: int, dtype: str, kv: str, budget: int,
                  caps: list[int], tps: list[int], pp: int, stack: str, engine: str | None,
                  sample: Requests | None = None) -> list[Layout]:
    """The layouts tried at PP `pp` in `dtype` (module docstring): TP first, then (MoE, PP 1) wide EP, then MoE TP;
    `sample`: the search's requests, whose shortest sizes a window model's KV pool as in every candidate
    (`capacity_candidate.Candidate`; `wide_ep_degrees`)."""
    layouts = [(t, 1, 1, c) for t in tps for c in caps]
    if pp != 1:
        return layouts
    shortest = shortest_sequence(sample) if sample is not None else 0
    wide = [(1, d, 1, c) for c in caps for d in wide_ep_degrees(shape, acc, domain, dtype, kv, max(budget, c), c,
                                                                  stack, shortest)]
    return layouts + wide + [(1, d, m, c) for (_, d, _, c) in wide for m in moe_tp_degrees(shape, d, engine)]


def layout_text(tp: int, pp: int, adp: int, ep: int, moe_tp: int) -> str:
    """A layout as `rejected` lines name it: TP, PP, and attention DP with its EP and MoE TP."""
    if adp <= 1:
        return f"TP{tp} PP{pp}"
    return f"TP{tp} PP{pp} DP-attention{adp} EP{ep}" + (f" MoE-TP{moe_tp}" if moe_tp > 1 else "")
