"""Two operating points of one model and system as a line: the step time against the tokens per step.

Each point is a latency-bound MLPerf row at its measured operating point (`validation.operating_point`: the batch
the engine ran by Little's law, the model's mean step there).

Step lines (`step_lines`): a model and system measured in two scenarios (Server and Interactive) give two such
operating points, and since a workload fixes P / N = I / O, the step is a function of the tokens per step M = N + P
along one line. Through the two measured points, t = a + b M: `b` the seconds each token of the workload's mix adds
to a step, `a` what a step costs whatever its tokens (weights read once, launches, host); the same two-point line
through the model's steps at the same M separates a wrong per-token cost (slope) from a missing fixed cost per step
(intercept). Two points, no fit freedom; it assumes the line, so a curved step (Jensen:
`validation.operating_point`'s mean-field note) shows up in both. `step_line_offline_check` extends each line to its
system's Offline row: at the model's own Offline batch N (its output tokens/s per engine x its median TPOT), M = N
(1 + I / O), the line's step gives N x engines / step output tokens/s against the published Offline rate. Where the
measured line meets it, the system's three scenarios are one engine whose step is that line, and the model's Offline
error is its own step line's, not the scenario rules (hP session 51: within -7 / +8 % on five of the six systems;
Llama 3.1 8B B200 +27 % at the model's 8,036-token steps, -1 % at 4,096:
validation/notes/inference_frontier_tried.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.errors import InputError
from infraplan.validation.inference import case_deployment, case_offline_run, case_requests


def step_line(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The two-point step line t = a + b M (module docstring, "Step lines") through two operating points of one
    model and system, measured (the rows' TPOT means) and modelled (the model's steps at the same tokens)."""
    if len(points) != 2 or len({(p["model"], p["system"]) for p in points}) != 1:
        raise InputError("a step line takes two operating points of one model and system")
    low, high = sorted(points, key=lambda p: p["tokens_per_step"])
    line: dict[str, Any] = {"model": low["model"], "system": low["system"], "rows": (low["row"], high["row"]),
                            "tokens_per_step": (low["tokens_per_step"], high["tokens_per_step"])}
    for name, key in (("measured", "measured_tpot_mean_s"), ("model", "model_step_s")):
        line[f"{name}_fixed_s"], line[f"{name}_per_token_s"] = line_through(low, high, low[key], high[key])
    return line


def line_through(low: dict[str, Any], high: dict[str, Any], at_low: float, at_high: float) -> tuple[float, float]:
    """(intercept s, slope s per token) of the line through a quantity's values at two operating points' tokens per
    step (`step_line`; each part's line in `validation.step_components.step_line_components`)."""
    slope = (at_high - at_low) / (high["tokens_per_step"] - low["tokens_per_step"])
    return at_low - slope * low["tokens_per_step"], slope


def two_point_groups(points: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The operating points of every model and system that has exactly two (Server and Interactive)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault((p["model"], p["system"]), []).append(p)
    return [g for g in groups.values() if len(g) == 2]


def step_lines(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every model and system with exactly two latency-bound operating points (Server and Interactive), as a line."""
    return [step_line(g) for g in two_point_groups(points)]


def step_line_offline_check(line: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A step line (`step_line`) extended to its system's Offline row at the model's Offline batch (module docstring,
    "Step lines"): for the measured and the modelled line, the step there and its output tokens/s over the published."""
    offline = [c for c in data["cases"] if c["scenario"] == "offline"
               and (c["model"], c["system"]) == (line["model"], line["system"])]
    if len(offline) != 1:
        raise InputError(f"no single Offline row for {line['model']} on {line['system']}")
    case, engine = offline[0], data["engine"]
    dep = case_deployment(case, engine)
    engines = dep.replicas * dep.engines_per_replica
    run = case_offline_run(case, engine, data["workloads"], None)
    sequences = run["output_tokens_per_s"] / engines * run["tpot_s"]["p50"]
    base = case_requests(case, data["workloads"], None)
    tokens = sequences * (1.0 + float(np.mean(base.input_tokens)) / float(np.mean(base.output_tokens)))
    published = float(case["published"])
    out: dict[str, Any] = {"row": case["row"], "sequences_per_engine": sequences, "tokens_per_step": tokens}
    for name in ("measured", "model"):
        step = line[f"{name}_fixed_s"] + line[f"{name}_per_token_s"] * tokens
        out[f"{name}_step_s"] = step
        out[f"{name}_over_published"] = sequences * engines / step / published
    return out
