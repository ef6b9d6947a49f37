"""The standing of an accelerator's figures, as every answer about it says it.

An accelerator file states how its figures stand (`Accelerator.figures`: datasheet, secondary, preliminary, with a
`figures_note` naming the source and what is assumed) and, where its source states one, the work it is for
(`Accelerator.intended_use`). `figures_notes` turns both into the lines train, search, serve, serve-plan, recsys,
facility, campus, fleet-mix and plan print: none for a datasheet part asked about the work it is for.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from infraplan.catalog.loader import preset_files
from infraplan.catalog.schemas import Accelerator

Work = Literal["training", "inference"]
Models = Literal["generative-ai", "recommendation"]

_MODELS_TEXT: dict[str, str] = {"generative-ai": "generative-AI", "recommendation": "ranking and recommendation"}


@cache
def accelerator_presets() -> frozenset[str]:
    """The accelerator presets' names (`preset_files("accelerators")`, the package's: listed once, where building its
    dict twice an answer cost a single estimate ~1 % of its time; hS55)."""
    return frozenset(preset_files("accelerators"))


def standing_note(accelerator: Accelerator) -> str | None:
    """`name: SECONDARY figures: ...` (its catalog `figures_note`) for a part whose figures are not its maker's
    datasheet (`figures`: secondary or preliminary); None for a datasheet part."""
    if accelerator.figures == "datasheet" or not accelerator.figures_note:
        return None
    return f"{accelerator.name}: {accelerator.figures_note}"


def use_note(accelerator: Accelerator, work: Work, models: Models) -> str | None:
    """One line where the asked work (`train`: generative-AI training; `serve`: generative-AI inference; `recsys`:
    recommendation inference) is not the one the part's source states it is for (`intended_use`); None where it is,
    or where the source states none."""
    use = accelerator.intended_use
    if use is None:
        return None
    stated = (use.models,) if isinstance(use.models, str) else use.models  # a part for both (hU60): either is its use
    if use.work == work and models in stated:
        return None
    asked = work if models in stated else f"{_MODELS_TEXT[models]} {work}"
    uses = " and ".join(_MODELS_TEXT[m] for m in stated)
    return (f"{accelerator.name} is described by its source for {uses} {use.work}; {asked} on "
            "it is priced with the same kernel and memory models as on any accelerator, none of them measured on "
            "this part")


def figures_notes(accelerator: Accelerator, work: Work | None = None, models: Models = "generative-ai",
                  collectives: bool = True) -> list[str]:
    """The notes an answer about `accelerator` carries: its figures' standing (secondary or preliminary), then, where
    `work` is given, a use other than its source's and, for generative-AI work, the curves it takes by default: on a
    part of no preset (`defaults_note`), or the collective tables a preset borrows (`borrowed_tables_note`). Empty
    for a datasheet preset with its own tables asked about the work it is for. `collectives`: whether the answer
    prices a collective (a group of TP, CP, DP, EP or attention-DP ranks above 1); where it prices none (one GPU, a
    TP1 replica, pipeline stages only), the borrowed collective curves are not named (hR49, session 46)."""
    genai = work is not None and models == "generative-ai"
    lines = [standing_note(accelerator), use_note(accelerator, work, models) if work is not None else None,
             defaults_note(accelerator, work, collectives) if genai and work is not None else None,
             borrowed_tables_note(accelerator) if genai and collectives else None]
    return [line for line in lines if line]


# The presets with a measured in-domain table of their own, by catalog name (a test keeps them equal to
# `network.nvlink_all_reduce`'s TABLE_FILE (H100's) and ACCELERATOR_TABLE_FILES, and to
# `network.nvlink_collectives.ACCELERATOR_TABLE_FILES`: the network layer is above the catalog's, so it is not read
# here). GB200 / GB300 take their chip's 8-GPU HGX board's table (B200's, B300's): measured on the same silicon.
MEASURED_ALL_REDUCE = frozenset({"h100-sxm", "h200", "b200", "gb200", "b300", "gb300"})
MEASURED_COLLECTIVES = frozenset({"h100-sxm", "h200", "b200", "gb200"})


def borrowed_tables_note(accelerator: Accelerator) -> str | None:
    """For a preset (or a what-if of one) without a measured in-domain collective table of its own (MI300X, TPU,
    MTIA, Gaudi 2, H800, A100, Rubin ...: `MEASURED_ALL_REDUCE`, `MEASURED_COLLECTIVES`), one line naming the curves
    its collectives borrow (hC49, session 46: they borrowed them without a word; `defaults_note` says it for a part
    of no preset). None for a part with both tables, a CPU, or a part of no preset."""
    name = accelerator.catalog_name
    if accelerator.kind == "cpu" or name not in accelerator_presets():
        return None
    parts = []
    if name not in MEASURED_ALL_REDUCE:
        parts.append("in-domain all-reduce on H100's measured NCCL and custom all-reduce curves (AIConfigurator "
                     "0.12.0, 8 x H100 SXM)")
    if name not in MEASURED_COLLECTIVES:
        parts.append("all-gather, reduce-scatter and all-to-all on SimAI's NVLink curve")
    if not parts:
        return None
    return (f"{accelerator.name}: no measured collective table of its own, so ASSUMED: {'; '.join(parts)}, by "
            "message size, scaled to its scale_up_bandwidth_bytes_per_s x scale_up_collective_efficiency")


# a block-scaled format's GEMMs take the measured fraction of the format it refines where the file gives none of its
# own (`ops.precision.RECIPES[...].rate_dtypes`; a test keeps the two equal), else the bf16 one
RATE_FALLBACK: dict[str, str] = {"mxfp8": "fp8", "nvfp4": "fp4"}
# the dtypes whose GEMMs train and serve price at that dtype's peak x fraction (fp4 / mxfp4 run as nvfp4, at the 8-bit
# rate or weight-only; fp32 / tf32 / int4 at none of their own)
_PRICED_GEMM_DTYPES = ("fp16", "bf16", "fp8", "int8", "mxfp8", "nvfp4")
# the measured serving fits an accelerator file may give (`KernelEfficiency`), what prices each without one
_SERVING_FITS = ("decode_attention", "mla_decode_attention", "mla_absorb_bmm", "weight_read_fraction")


def defaults_note(accelerator: Accelerator, work: Work, collectives: bool = True) -> str | None:
    """For a part of no preset (a file written from scratch: no `extends`, no preset's figures, so no preset's
    name-keyed tables), one line naming what its `work` is priced with where its file gives no measured curve (hA50,
    session 45: these fell back silently): the in-domain collectives on curves measured on other parts (H100's
    all-reduce table, `network.nvlink_all_reduce.TABLE_FILE`; SimAI's NVLink column for the all-gather, reduce-scatter
    and all-to-all, `network.nvlink_collectives` having no table of it), a dtype's GEMMs at another dtype's fraction
    (`Accelerator.matmul_fraction`), one attention rate at every head dimension (no `attention_exp_per_s`), and for
    training Hopper's TN-only fp8 GEMM layouts, for inference the rooflines standing for the measured decode fits.
    The collectives' curves only where the answer prices one (`collectives`). None for a preset or a what-if of one
    (its own measured tables and sources apply), or where nothing is left to name."""
    if accelerator.catalog_name in accelerator_presets():
        return None
    eff = accelerator.efficiency
    fractions = eff.matmul_max_fraction
    base = accelerator.matmul_fraction("bf16") if fractions else None  # a fraction-less dtype's (bf16, fp16, least)
    parts = ["in-domain all-reduce on H100's measured NCCL and custom all-reduce curves (AIConfigurator 0.12.0, 8 x "
             "H100 SXM) and all-gather, reduce-scatter and all-to-all on SimAI's NVLink curve, by message size, "
             "scaled to its scale_up_bandwidth_bytes_per_s x scale_up_collective_efficiency"][:int(collectives)]
    borrowed = []
    for dtype in accelerator.peak_flops_per_s:
        if dtype in fractions or (dtype == "bf16" and "fp16" in fractions) or dtype not in _PRICED_GEMM_DTYPES:
            continue
        related = RATE_FALLBACK.get(dtype) or accelerator.same_mma_dtype(dtype)  # int8: fp8's at one peak
        if related is not None and related in fractions:
            borrowed.append(f"{dtype} at {related}'s {fractions[related]:g}")  # type: ignore[index]
        elif base is not None:
            borrowed.append(f"{dtype} at the bf16 fraction {base:g}")
    if borrowed:
        parts.append(f"GEMMs of dtypes matmul_max_fraction omits at another's fraction of peak ({', '.join(borrowed)})")
    if eff.attention_exp_per_s is None:
        parts.append(f"fused attention at attention_max_fraction {eff.attention_max_fraction:g} for every head "
                     "dimension (no attention_exp_per_s)")
    layouts = tuple(accelerator.fp8_gemm_layouts)
    if work == "training" and "fp8" in accelerator.peak_flops_per_s and layouts == ("tn",) and \
            not accelerator.fp8_gemm_layouts_source:
        parts.append("fp8 GEMM layouts TN only, Hopper's (a per-tensor fp8 cast writes a transposed copy; "
                     "fp8_gemm_layouts)")
    missing = [name for name in _SERVING_FITS if getattr(eff, name) is None]
    if work == "inference" and missing:
        parts.append(f"{', '.join(missing)} unset: rooflines at memory_bandwidth_fraction "
                     f"{eff.memory_bandwidth_fraction:g}")
    if not parts:
        return None
    return (f"{accelerator.name}: no measured curve of it for these, so ASSUMED from defaults: "
            f"{'; '.join(parts)}")
