"""The closed-loop serving sets' report: a deterministic sample by group, the rows awaiting, predicted vs measured
TTFT and TPOT against a fitted-efficiency roofline, errors by group, and the scored set with its error-band residuals.

Shared by the MoE / MLA set (`serving_hopper_moe`) and the disaggregated set (`serving_hopper_disagg`); each gives its
own row predictor, roofline work, grouping and reasons for the rows it cannot run. The baseline is the roofline (work
at efficiency 1) with one efficiency per metric fitted to the rows (`serving_row_rules.fitted_scale`), as the dense set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.error_bands import Residual, accelerator_family, stack_class
from infraplan.cluster import Cluster
from infraplan.validation.results import ValidationSet
from infraplan.validation.serving_hopper import row_stack
from infraplan.validation.serving_row_rules import SYSTEMS, fitted_scale


def sample_by_group(rows: list[dict[str, str]], why: Callable[[dict[str, str]], str | None],
                    group: Callable[[dict[str, str]], str], every: int) -> tuple[list[dict[str, str]],
                                                                             list[dict[str, str]]]:
    """(rows run, rows awaiting): every `every`-th row of each group that `why` does not refuse, in file order
    (the MoE and disaggregated sets' deterministic sample)."""
    run: list[dict[str, str]] = []
    waiting: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for row in rows:
        if why(row) is not None:
            waiting.append(row)
            continue
        k = seen.get(group(row), 0)
        seen[group(row)] = k + 1
        if k % every == 0:
            run.append(row)
    return run, waiting


def awaiting_counts(rows: list[dict[str, str]], why: Callable[[dict[str, str]], str | None],
                    mode: str = "") -> list[str]:
    """The rows not run, counted by model, system, backend (and `mode`, e.g. " (disaggregated)") and reason."""
    counts: dict[str, int] = {}
    for row in rows:
        key = f"{row['model_path']} {row['system']} {row['backend']}{mode}: {why(row)}"
        counts[key] = counts.get(key, 0) + 1
    return [f"{n} rows of {key}" for key, n in sorted(counts.items())]


def report_rows(rows: list[dict[str, str]], predict: Callable[[dict[str, str]], dict[str, float]],
                roofline: Callable[[dict[str, str]], dict[str, float]], group: Callable[[dict[str, str]], str],
                awaiting: list[str]) -> dict[str, Any]:
    """Each row predicted (`predict`) against its measured TTFT/TPOT, the roofline (`roofline`: work at efficiency
    1) with one efficiency per metric fitted to the rows, and the errors by `group` (the MoE and disaggregated
    sets' report)."""
    pred: dict[str, list[float]] = {"ttft_s": [], "tpot_s": []}
    meas: dict[str, list[float]] = {"ttft_s": [], "tpot_s": []}
    work: dict[str, list[float]] = {"ttft_s": [], "tpot_s": []}
    for row in rows:
        p, roof = predict(row), roofline(row)
        for metric, column in (("ttft_s", "silicon_ttft_ms"), ("tpot_s", "silicon_tpot_ms")):
            pred[metric].append(p[metric])
            meas[metric].append(float(row[column]) / 1e3)
            work[metric].append(roof[metric])
    errors, baseline, predicted = {}, {}, {}
    for metric in pred:
        predicted[metric] = np.array(pred[metric])
        m, w = np.array(meas[metric]), np.array(work[metric])
        errors[metric] = predicted[metric] / m - 1.0
        baseline[metric] = fitted_scale(w, m) * w / m - 1.0
    groups: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(group(row), []).append(i)
    table = [{"group": name, "rows": len(idx),
              "ttft_mean_abs_error": float(np.mean(np.abs(errors["ttft_s"][idx]))),
              "tpot_mean_abs_error": float(np.mean(np.abs(errors["tpot_s"][idx]))),
              "ttft_median_error": float(np.median(errors["ttft_s"][idx])),
              "tpot_median_error": float(np.median(errors["tpot_s"][idx])),
              "baseline_mean_abs_error": float(np.mean(np.abs(np.concatenate(
                  [baseline["ttft_s"][idx], baseline["tpot_s"][idx]])))),
              "baseline_ttft_mean_abs_error": float(np.mean(np.abs(baseline["ttft_s"][idx]))),
              "baseline_tpot_mean_abs_error": float(np.mean(np.abs(baseline["tpot_s"][idx])))}
             for name, idx in groups.items()]
    return {"rows": rows, "errors": errors, "baseline": baseline, "predicted": predicted, "measured": meas,
            "work": work, "groups": table, "awaiting": awaiting}


def score_report(out: dict[str, Any], name: str, gate: float) -> tuple[ValidationSet, list[Residual]]:
    """A serving report (rows, measured, predicted, roofline work per metric) scored as a validation set against
    the fitted-efficiency roofline, with each row's TPOT (throughput) and TTFT residuals for the error bands."""
    from infraplan.validation.sets import score_set

    rows = out["rows"]
    ids = [f"{r['id']} {m}" for m in ("ttft_s", "tpot_s") for r in rows]
    published = np.concatenate([np.array(out["measured"][m]) for m in ("ttft_s", "tpot_s")])
    predicted = np.concatenate([out["predicted"][m] for m in ("ttft_s", "tpot_s")])
    # one fitted efficiency per metric (as the dense set): each metric's roofline pre-scaled by its own fit
    unit = np.concatenate([fitted_scale(np.array(out["work"][m]), np.array(out["measured"][m]))
                           * np.array(out["work"][m]) for m in ("ttft_s", "tpot_s")])
    scored = score_set(name, "serving", ids, published, predicted, unit, "fitted-efficiency roofline", gate,
                       out["awaiting"])
    families = [accelerator_family(Cluster.resolve(SYSTEMS[r["system"]]).accelerator.name) for r in rows]
    residuals = [Residual(id=r["id"], family=families[i], stack=stack_class(row_stack(r)), kind="serving",
                          residual=float(out["measured"]["tpot_s"][i] / out["predicted"]["tpot_s"][i] - 1.0))
                 for i, r in enumerate(rows)]
    residuals += [r.model_copy(update={"metric": "ttft", "residual": float(  # predicted / measured mean TTFT - 1
        out["predicted"]["ttft_s"][i] / out["measured"]["ttft_s"][i] - 1.0)}) for i, r in enumerate(residuals)]
    return scored, residuals
