"""Error bands: how far off the model has been on the published cases nearest to a question.

`catalog/error_bands.yaml` holds one residual per validation case (relative error of the predicted
throughput, predicted / published - 1, so a positive residual means the model was optimistic), with the
case's accelerator family, software-stack class and workload kind. It is written by
`infraplan validate --write-error-bands` (`validation.bands.write_error_bands`) and checked for staleness by a
test, so training and serving (which cannot import `validation`) read it as catalog data.

The band of a question (`error_band`): the 10th and 90th percentiles (numpy's linear interpolation) of the
residuals of the cases with the same family, stack class and kind, when there are at least
MIN_BAND_CASES of them; otherwise the same family and kind (any stack), then the same kind (any family),
with the `basis` saying which. A result that predicts throughput is then expected within
[prediction x (1 - high), prediction x (1 - low)] of the measurement about 80 % of the time, as often as
the validation cases were.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
from pydantic import Field

from infraplan.catalog.loader import safe_load_yaml
from infraplan.results import Result

MIN_BAND_CASES = 5
BAND_PERCENTILES = (10.0, 90.0)

# accelerator catalog name -> architecture family (NVIDIA's generations; other vendors by product line)
# (each derivative as its catalog file states: h800.yaml "the H100 SXM5 die", b300/gb300.yaml Blackwell Ultra with
# "bf16 as B200/GB200", mi325x.yaml "the MI300X compute die"; TPU and MTIA generations by product line. Without them
# an H800 or GB300 answer took the any-accelerator band and the best-of-any-family MFU ceiling.)
ACCELERATOR_FAMILIES = {
    "a100-80gb": "ampere", "h100-sxm": "hopper", "h200": "hopper", "h800": "hopper", "b200": "blackwell",
    "gb200": "blackwell", "b300": "blackwell", "gb300": "blackwell", "gaudi2": "gaudi", "mi300x": "cdna3",
    "mi325x": "cdna3", "tpu-v5p": "tpu", "tpu-v6e": "tpu", "mtia-v1": "mtia", "mtia-v2": "mtia", "mtia-300": "mtia",
    "mtia-400": "mtia", "mtia-450": "mtia",
}
# stack profile name prefix -> stack class (NeMo and Megatron-Bridge are Megatron-core underneath)
STACK_CLASSES = {"megatron": "megatron", "nemo": "megatron", "deepspeed": "deepspeed", "torchtitan": "torchtitan",
                 "trtllm": "trtllm", "vllm": "vllm", "sglang": "sglang"}


class Residual(Result):
    """One validation case's relative throughput error and what it is nearest to."""

    id: str = Field(description="validation case id")
    family: str = Field(description="accelerator family (hopper, ampere, blackwell, ...)")
    stack: str = Field(description="software-stack class (megatron, deepspeed, trtllm, ...)")
    kind: str = Field(description="workload kind: training | serving")
    residual: float = Field(description="predicted / published throughput - 1 (fraction)")


class ErrorBand(Result):
    """The expected relative error of a prediction, from the validation residuals of the nearest cases."""

    low: float = Field(description="10th percentile of the residuals (fraction; predicted / measured - 1)")
    high: float = Field(description="90th percentile of the residuals (fraction)")
    cases: int = Field(description="validation cases the band comes from (count)")
    basis: str = Field(description="which cases, and the fallback taken when too few match")


def accelerator_family(accelerator: str) -> str:
    return ACCELERATOR_FAMILIES.get(accelerator, accelerator)


def stack_class(stack: str | None) -> str:
    """The class of a stack profile name (None: the default training stack, Megatron-core)."""
    if not stack:
        return "megatron"
    name = stack.rsplit("/", 1)[-1]
    return next((cls for prefix, cls in STACK_CLASSES.items() if name.startswith(prefix)), name.split("-")[0])


@lru_cache(maxsize=1)
def load_residuals() -> tuple[Residual, ...]:
    """The stored residuals (empty when the file has not been written)."""
    path = resources.files("infraplan.catalog") / "error_bands.yaml"
    if not path.is_file():
        return ()
    data = safe_load_yaml(path.read_text()) or {}
    return tuple(Residual(id=r[0], family=r[1], stack=r[2], kind=r[3], residual=float(r[4]))
                 for r in data.get("residuals", []))


def error_band(accelerator: str, stack: str | None, kind: str,
               residuals: tuple[Residual, ...] | None = None) -> ErrorBand | None:
    """The band for a question on `accelerator` under `stack` of `kind`; None when no case of the kind exists."""
    pool = load_residuals() if residuals is None else residuals
    family, cls = accelerator_family(accelerator), stack_class(stack)
    tiers = (
        (lambda r: r.family == family and r.stack == cls and r.kind == kind, f"{family}, stack class {cls}"),
        (lambda r: r.family == family and r.kind == kind, f"{family}, any stack (fewer than {MIN_BAND_CASES} "
                                                            f"{family} {kind} cases of stack class {cls})"),
        (lambda r: r.kind == kind, f"any accelerator, any stack (fewer than {MIN_BAND_CASES} {family} {kind} cases)"),
    )
    for match, basis in tiers:
        values = np.array([r.residual for r in pool if match(r)])
        if values.size >= MIN_BAND_CASES or (values.size and basis.startswith("any accelerator")):
            low, high = np.percentile(values, BAND_PERCENTILES)
            return ErrorBand(low=float(low), high=float(high), cases=int(values.size),
                             basis=f"10th-90th percentile of the validation residuals of {values.size} {kind} "
                                   f"cases: {basis}")
    return None


class PublishedMfu(Result):
    """The best published MFU of one accelerator family, stack class and precision (catalog/published_mfu.yaml)."""

    family: str = Field(description="accelerator family")
    stack: str = Field(description="software-stack class")
    dtype: str = Field(description="GEMM precision the MFU is relative to")
    mfu: float = Field(description="best published MFU (fraction of that precision's dense peak)")
    source: str = Field(description="where the figure is published")
    cases: tuple[str, ...] = Field(default=(), description="validation case ids whose measurement this figure is")
    basis: str = Field(default="its own family", description="which entries the ceiling was taken from")


@lru_cache(maxsize=1)
def load_published_mfu() -> tuple[PublishedMfu, ...]:
    text = (resources.files("infraplan.catalog") / "published_mfu.yaml").read_text()
    return tuple(PublishedMfu(**e) for e in safe_load_yaml(text)["entries"])


def published_mfu_ceiling(accelerator: str, stack: str | None, dtype: str,
                          leave_out: Sequence[str] = ()) -> PublishedMfu | None:
    """The best published MFU for the accelerator's family and the stack's class in `dtype`; any stack class of
    the family when that class has none; when nothing is published for the family in `dtype` (MI300, TPU, MTIA,
    Blackwell bf16 ...), the best published MFU of any family in that precision (`basis` says so), so that a plan on an
    unpublished family is still flagged beyond what any accelerator has been shown to sustain (issue 12 item 7);
    None only when no family has a figure in `dtype`. `leave_out`: validation case ids whose own measurement may
    not serve as their ceiling (an entry listing one in `cases` is skipped: leave-one-out, no circularity)."""
    family, cls = accelerator_family(accelerator), stack_class(stack)
    usable = [e for e in load_published_mfu() if e.dtype == dtype and not set(e.cases) & set(leave_out)]
    same = [e for e in usable if e.family == family]
    exact = [e for e in same if e.stack == cls]
    if exact or same:
        return max(exact or same, key=lambda e: e.mfu)
    if not usable:
        return None
    best = max(usable, key=lambda e: e.mfu)
    why = f"no {family} {dtype} figure" + (f" outside {', '.join(leave_out)} (left out)" if leave_out else "")
    return best.model_copy(update={"basis": f"{why}: the best of any family"})
