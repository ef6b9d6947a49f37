"""What a user's accelerator file says beyond its schema, checked where the file is read (`catalog.loader.
load_accelerator`): a what-if's generic peak without its formats, the recsys profile it names, and a power figure no
command reads.

- `check_format_peaks`: a what-if that changes a generic peak (`fp4: 20e15`) and leaves the formats the models read
  for it (`nvfp4`, `mxfp4`, `mxfp8`) at the preset's equal value is refused: nothing would move (hU50).
- `read_part_fields`: (1) `recsys_profile`, the part's own recommendation profile (`infraplan schema catalog
  recsys-devices`: memory tiers, row-gather efficiencies, vector rate), a preset name of `catalog/recsys/devices/` or
  a file read beside the part's file, as a system file's `accelerator:` is (`catalog.loader.beside`). Until hU60
  (session 46) a part written as files could not bring one: `recsys` took the default profile, device memory only,
  so an inference ASIC's SRAM held no table and no weight whatever its file said; one naming the part's own file is
  refused by name (hC51). (2) `typical_power_w`: validated
  (at most `tdp_w`) but read by no command's power: `serve`, `serve-plan`, `recsys`, `facility`, `fleet-mix` and
  `plan` draw idle + (TDP - idle) x load, up to `tdp_w` (`cluster.power`; `recsys.estimate.device_power_w`), and only
  the validation's GEMM perf/W case reads it, on presets, none of which sets it. A file that set it (a designer's
  "550 W under serving load" on a 700 W part) was answered at 700 W without a word; a warning now says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infraplan.catalog.output_files import shown_path
from infraplan.catalog.schemas import DEFAULT_HOST_LINK_BYTES_PER_S, Accelerator
from infraplan.errors import InputError
from infraplan.limits import MIN_MATMUL_FRACTION

# A generic peak and the block-scaled formats the models price at their own keys (`ops.precision.RECIPES`: NVFP4 /
# MXFP4 GEMMs at `nvfp4` / `mxfp4`, MXFP8 at `mxfp8`); the presets list them equal where the tensor cores are shared.
_FORMAT_PEAKS = {"fp4": ("nvfp4", "mxfp4"), "fp8": ("mxfp8",)}


class AcceleratorFileWarning(UserWarning):
    """An accelerator file taken otherwise than as written: one named like a preset with other figures, one
    setting a figure no command reads (`typical_power_w`), or one whose missing host link a model prices at the
    default (`default_host_link_text`)."""


def default_host_link_text(accelerator: Accelerator, priced: str) -> str | None:
    """One line where `priced` (what crosses the host link: "recsys's request transfers") is priced at the default
    host link because the part's file states none (`Accelerator.host_link_defaulted`), naming the default and its
    source; None where the file gives one, or the part is a CPU (its own host)."""
    if not accelerator.host_link_defaulted:
        return None
    return (f"{accelerator.name}: no host_link_bandwidth_bytes_per_s in its file, so {priced} at the default "
            f"{DEFAULT_HOST_LINK_BYTES_PER_S / 1e9:g} GB/s a direction (ASSUMPTION [U]: PCIe Gen5 x16, PCI-SIG PCIe "
            "5.0, the GPU server's link the catalog's H100, H200 and MI300X datasheets give); state it, with "
            "host_link_source, to price the part's own")


def warn_default_host_link(accelerator: Accelerator, priced: str) -> None:
    """`default_host_link_text` as a warning (the CLI's stderr line, the answer's `warnings`), where there is one."""
    text = default_host_link_text(accelerator, priced)
    if text is not None:
        warnings.warn(text, AcceleratorFileWarning, stacklevel=3)


def check_format_peaks(base: Accelerator, peaks: dict[str, Any], ref: str) -> None:
    """Refuse a what-if that changes a generic peak (`fp4: 20e15`) and leaves the formats the models read for it at
    the preset's equal value: nothing would move (the fp4 key itself prices no GEMM)."""
    for generic, formats in _FORMAT_PEAKS.items():
        stale = [f for f in formats if generic in peaks and f not in peaks
                 and base.peak_flops_per_s.get(f) == base.peak_flops_per_s.get(generic)]  # type: ignore[call-overload]
        if stale:
            raise InputError(f"accelerator file {shown_path(ref)}: peak_flops_per_s sets {generic} but not "
                             f"{', '.join(stale)}, which {base.name} lists equal to it and which the models price "
                             f"{generic} GEMMs at: set {' and '.join(stale)} too")


def read_part_fields(data: dict[str, Any], ref: str, beside: Callable[[str, str], str]) -> None:
    """A part file's `recsys_profile` path as read beside it (`beside`: `catalog.loader.beside`), in place."""
    if isinstance(data.get("recsys_profile"), str):
        data["recsys_profile"] = beside(data["recsys_profile"], ref)
        if same_file(data["recsys_profile"], ref):  # was "invalid recsys profile: tiers: Field required" (hX50)
            raise InputError(f"accelerator file {shown_path(ref)}: recsys_profile names this file itself; it names "
                             "a recsys profile's own file (memory tiers, vector rate: `infraplan schema catalog "
                             "recsys-devices`) or a preset name")


def same_file(one: str, other: str) -> bool:
    """Whether two paths name one file (False where either cannot be looked up: too long a name, a NUL byte)."""
    try:
        return Path(one).resolve() == Path(other).resolve()
    except (OSError, ValueError):
        return False


def unread_figures_said(accelerator: Accelerator, ref: str) -> Accelerator:
    """`accelerator` as loaded from the user's file `ref`, after a warning where it sets `typical_power_w`, which no
    command's power reads (module docstring); said once the file is valid, so a refused file is one line. A GEMM
    fraction below `MIN_MATMUL_FRACTION` is refused first (one line)."""
    slow = {d: f for d, f in accelerator.efficiency.matmul_max_fraction.items() if f < MIN_MATMUL_FRACTION}
    if slow:
        raise InputError(f"accelerator file {shown_path(ref)}: efficiency.matmul_max_fraction "
                         f"{', '.join(f'{d} {f:g}' for d, f in slow.items())} is below {MIN_MATMUL_FRACTION:g} of "
                         "the peak, no tuned GEMM's rate; a slower part is a lower "
                         "peak_flops_per_s")
    if accelerator.typical_power_w is not None:
        warnings.warn(f"accelerator file {shown_path(ref)} sets typical_power_w {accelerator.typical_power_w:.4g} W, "
                      "which no command reads: every power answer draws idle + (TDP - idle) x load up to tdp_w "
                      f"{accelerator.tdp_w:.4g} W; to price a lower busy draw, write it as tdp_w",
                      AcceleratorFileWarning, stacklevel=3)
    return accelerator
