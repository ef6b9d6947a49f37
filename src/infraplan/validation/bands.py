"""Write `catalog/error_bands.yaml`: one residual per validation case, the data behind every `error_band`.

`infraplan validate --write-error-bands` calls `write_error_bands`; tests/validation/test_sets.py regenerates
the text and fails when the stored file is stale (the physics moved and the bands were not rewritten). Residuals
are rounded to 4 decimals so the file changes only when an error moves by 0.01 % or more.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from infraplan.catalog.error_bands import Residual

# vTrain's 1,440 single-node step times of small GPT models would outnumber every multi-node case 70 to 1 in
# the fallback pools; its error is reported by its own set and not used for the bands
EXCLUDED_SETS = ("vTrain single-node A100 (step time)",)
HEADER = ("# Validation residuals behind every error_band (catalog/error_bands.py states the rule).\n"
          "# Written by `infraplan validate --write-error-bands`; do not edit by hand.\n"
          "# Each row: [case id, accelerator family, stack class, kind, predicted / published throughput - 1]\n")


def residuals_text(residuals: list[Residual]) -> str:
    lines = [HEADER, "residuals:\n"]
    for r in sorted(residuals, key=lambda r: (r.kind, r.family, r.stack, r.id)):
        lines.append(f"  - [{r.id}, {r.family}, {r.stack}, {r.kind}, {r.residual:.4f}]\n")
    return "".join(lines)


def current_residuals() -> list[Residual]:
    """The residuals of every validation set on the current model (computed once per process)."""
    return list(_residuals())


@cache
def _residuals() -> tuple[Residual, ...]:
    """From the sets `run_validation` scores (`runner.scored_sets`, once per process for both)."""
    from infraplan.validation.runner import scored_sets

    return tuple(r for found, residuals in scored_sets() if found.name not in EXCLUDED_SETS for r in residuals)


def error_bands_path() -> Path:
    return Path(str(resources.files("infraplan.catalog") / "error_bands.yaml"))


def write_error_bands(path: Path | None = None) -> Path:
    """Rewrite the residual file from the current model; returns its path."""
    target = path or error_bands_path()
    target.write_text(residuals_text(current_residuals()))
    from infraplan.catalog.error_bands import load_residuals
    from infraplan.validation.inference import _inference_report
    from infraplan.validation.inference_frontier import _frontier_report
    from infraplan.validation.runner import case_rows, run_validation, scored_sets
    from infraplan.validation.serving_hopper import _serving_hopper_report

    load_residuals.cache_clear()
    for report in (run_validation, case_rows, scored_sets, _residuals, _inference_report, _serving_hopper_report,
                   _frontier_report):
        report.cache_clear()  # their rows may carry error bands
    return target
