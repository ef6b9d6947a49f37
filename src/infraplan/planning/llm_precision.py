"""The precision an LLM deployment of a plan or fleet-mix runs, in words, and the asked formats a pool can run.

Modelled (no physics of its own: what `serve-plan` chose, said): a deployment's weights, GEMM activations and KV
cache. The activations follow the weight format as `ops.precision` "Serving formats" prices it (module docstring):
bf16 runs bf16 GEMMs; fp8, int8 and mxfp8 are W8A8 (each linear's input quantised to the weights' format:
`serving.engine_kernels`); nvfp4 is W4A4; int4, and mxfp4 on a part without fp4 tensor cores, are weight-only
W4A16 (bf16 activations and GEMMs, `serving.deployment.mxfp4_weight_only`); native mxfp4 runs mxfp4 weights x
mxfp8 activations (`serving.deployment.weight_format`). The KV-cache dtype is the deployment's (`kv_dtype`: each
weight format's engine default, `serving.kv_default`, or the service's `kv_dtype`).

Which of a service's asked `dtypes` a pool runs (`runnable_dtypes`): those its accelerator's catalog lists and its
serving stack has kernels for (its `weight_formats`, `serving.deployment.format_gap`: MTIA 400 lists mxfp8 and no
fp8; vLLM 0.12 has no MXFP8 linear method, pytorch-mtia runs MTIA's MX8, hM2), the stack chosen as every LLM
answer chooses it (`fleet_mix_llm.asked_stack`, `stack_placement.serving_stack_for`). Two pools that ran different
precisions because one could not run the other's are not compared like-for-like (hG57: Llama 3 70B chat on MTIA 400
at bf16, vLLM having no mxfp8, against GB200 at fp8): `planning.compare_precision` re-plans them at the formats
every side runs (hC58).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from infraplan.catalog.schemas import Accelerator
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.capacity_layouts import runnable_formats
from infraplan.serving.deployment import kv_gaps, mxfp4_weight_only
from infraplan.serving.stack_placement import serving_stack_for

_W8A8 = ("fp8", "int8", "mxfp8")  # `ops.precision` "Serving formats": each GEMM's input quantised to the weights'


def activation_words(dtype: str, accelerator: Accelerator) -> str:
    """The weights and GEMM activations of `dtype` weights on `accelerator` (module docstring)."""
    if dtype in _W8A8:
        return f"{dtype} weights and activations (W8A8)"
    if dtype == "nvfp4":
        return "nvfp4 weights and activations (W4A4)"
    if dtype == "int4" or mxfp4_weight_only(accelerator, dtype):
        return f"{dtype} weights, bf16 activations (weight-only W4A16)"
    if dtype == "mxfp4":
        return "mxfp4 weights, mxfp8 activations"
    return f"{dtype} weights and activations"


def precision_words(dtype: str, kv_dtype: str, accelerator: Accelerator) -> str:
    """'fp8 weights and activations (W8A8), fp8 KV': what a deployment of `dtype` weights and a `kv_dtype` cache
    runs on `accelerator` (`plan`'s and `fleet-mix`'s LLM rows, `precision`)."""
    return f"{activation_words(dtype, accelerator)}, {kv_dtype} KV"


def runnable_dtypes(dtypes: Sequence[str], system: str, stack: str | None) -> tuple[list[str], list[str]]:
    """(the asked `dtypes` a pool of `system` runs under the serving stack its deployment runs, `stack` as asked
    (`fleet_mix_llm.asked_stack`; None: the part's vendor default), a line for each it does not: "fp8: mtia-400 has
    no fp8 support in its catalog file"); module docstring. A stack refused on the part: none runnable, the
    refusal the line."""
    accelerator = Cluster.resolve(system).accelerator
    try:
        served = serving_stack_for(stack, accelerator)[0]
    except InputError as exc:
        return [], [str(exc)]
    return runnable_formats(accelerator, served, dtypes)


def pools_runnable(svc: Any, pools: Sequence[Any], dtypes: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the `dtypes` every pool of `pools` runs for the LLM service `svc`, in their order, and "POOL cannot run
    DTYPE: why" for each other): each pool's system and the stack its deployment runs (the pool's `stack`, else
    the service's: `fleet_mix_llm.asked_stack`'s precedence), by `runnable_dtypes`. One rule for `compare`'s common
    formats (`compare_precision`), `plan`'s and `fleet-mix`'s note (`mixed_precision_notes`)."""
    runs, gaps = list(dtypes), []
    for pool in pools:
        ok, why = runnable_dtypes(dtypes, _system(pool), pool.stack if pool.stack is not None else svc.stack)
        runs = [d for d in runs if d in ok]
        gaps += [f"{pool.name} cannot run {line}" for line in why]
    return runs, gaps


def pools_kv_gaps(svc: Any, pools: Sequence[Any], kv_dtype: str) -> list[str]:
    """"POOL cannot run KV DTYPE: why" for each pool of `pools` whose stack (as `pools_runnable` takes it) or part
    has no `kv_dtype` KV cache, as `serve-plan --kv-dtype` refuses it (`serving.deployment.kv_gaps`)."""
    gaps = []
    for pool in pools:
        accelerator = Cluster.resolve(_system(pool)).accelerator
        try:
            engine = serving_stack_for(pool.stack if pool.stack is not None else svc.stack, accelerator)[0]
        except InputError as exc:
            gaps.append(f"{pool.name} cannot run KV {kv_dtype}: {exc}")
            continue
        gaps += [f"{pool.name} cannot run KV {kv_dtype}: {gap}" for gap in kv_gaps(accelerator, kv_dtype, engine.ref,
                                                                                  engine.engine) if gap]
    return gaps


class Ran(NamedTuple):
    """What an LLM option of one pool ran, as `mixed_precision_notes` reads it (`plan`'s `Sized` has the same
    fields): its weight format, KV-cache dtype, and both in words (`precision_words`)."""

    weight_dtype: str | None
    kv_dtype: str | None
    precision: str | None


def option_ran(detail: dict[str, Any]) -> Ran:
    """`Ran` of a fleet-mix LLM option's `detail` (`fleet_mix_llm`: `dtype`, `kv_dtype`, `precision`); all None for
    a recsys or video option."""
    return Ran(detail.get("dtype"), detail.get("kv_dtype"), detail.get("precision"))


def mixed_precision_notes(sized: Sequence[tuple[Any, Any, Any]]) -> list[str]:
    """One line per LLM service whose pools were sized at different (weight, KV) precisions, from `(service spec,
    pool spec, what it ran)` of every option `plan` or `fleet-mix` priced (chosen or not; `plan`'s `Sized`, or
    `Ran`; the first of a pool's options counts): the MILP chose between the pools each at its own precision; the
    line names each pool's, the formats some pool could not run, and the `dtypes` every pool runs, with which the
    choice is like-for-like (as `compare`'s like-for-like re-plan, hC58; fleet-mix's `precision_notes`, hB59)."""
    by: dict[str, dict[str, tuple[Any, Any, Any]]] = {}
    for svc, pool, got in sized:
        if getattr(got, "weight_dtype", None) is not None:
            by.setdefault(svc.name, {}).setdefault(pool.name, (svc, pool, got))
    lines = []
    for name, pools in by.items():
        if len({(got.weight_dtype, got.kv_dtype) for _, _, got in pools.values()}) < 2:
            continue
        svc = next(iter(pools.values()))[0]
        common, gap_lines = pools_runnable(svc, [pool for _, pool, _ in pools.values()], svc.dtypes)
        gaps = "; ".join(gap_lines)
        said = "; ".join(f"{p} {got.precision}" for p, (_, _, got) in pools.items())
        fix = (f"for one precision on every pool, give the service dtypes [{', '.join(common)}], which every "
               "pool runs" if common and gaps else "no asked format runs on every pool" if not common else
               "every pool searched the same formats and ran its fastest")
        lines.append(f"{name}: its pools were sized at different precisions ({said})"
                     f"{f', since {gaps}' if gaps else ''}; the MILP chose between them each at its own ({fix})")
    return lines


def _system(pool: Any) -> str:
    """The system a scenario or fleet pool's LLM deployments are searched on (`scenario_sizing.serving_system`)."""
    return str(pool.system or pool.device)
