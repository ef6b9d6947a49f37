"""`collective --sim flow` states what `--sim analytical` answers for the same question (hF59).

The flow answer's line read "analytical model: 48.4 ms" for an all-gather of 1 GiB over 6,144 GPUs spread on Meta's
RoCE cluster, where `collective ... --sim analytical` answers 121 ms: the 48.4 ms is the alpha-beta line (no
message-size efficiency), not the analytical model's answer, and the JSON's `analytical_time_s` is that line too.
The flow result now carries `analytical_answer_time_s` (the analytical run's `time_s`, the same question asked the
other way) and the line names the alpha-beta line as such, with the analytical answer beside it where they differ."""

from __future__ import annotations

import pytest

from infraplan.cli.commands._output import console
from infraplan.cli.commands.collective import render_collective
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

CASES = [  # (op, system, gpus, bytes, placement, algorithm): small message on many ranks (efficiency < 1), a tree
    ("all-gather", "dgx-h100-superpod", 256, 16 * 2**20, "packed", "auto"),
    ("all-reduce", "dgx-h100-superpod", 256, 16 * 2**20, "packed", "ring"),
    ("all-reduce", "dgx-h100-superpod", 64, 256 * 2**20, "packed", "auto"),
    ("all-to-all", "meta-genai-roce-24k", 64, 64 * 2**20, "spread", "auto"),
]


def _both(op: str, system: str, gpus: int, size: int, placement: str, algorithm: str):  # type: ignore[no-untyped-def]
    cluster = Cluster.resolve(system).for_gpus(gpus)
    return (estimate_collective(op, cluster, gpus, size, placement, algorithm, "analytical"),
            estimate_collective(op, cluster, gpus, size, placement, algorithm, "flow"))


@pytest.mark.parametrize("case", CASES)
def test_the_flow_answer_carries_the_analytical_answer(case: tuple) -> None:  # type: ignore[type-arg]
    analytical, flow = _both(*case)
    assert flow.analytical_answer_time_s == analytical.time_s
    assert flow.analytical_time_s == analytical.alpha_beta_time_s  # the alpha-beta line, as named
    assert analytical.analytical_answer_time_s is None  # the analytical answer is its own time_s


def test_the_line_names_the_alpha_beta_line_and_the_analytical_answer() -> None:
    analytical, flow = _both(*CASES[0])
    assert analytical.time_s > 1.1 * analytical.alpha_beta_time_s  # message-size efficiency: the two differ (1.16x)
    with console.capture() as out:
        render_collective(flow)
    text = " ".join(out.get().split())
    assert "analytical model:" not in text
    assert "alpha-beta line (the analytical model before message-size efficiency)" in text
    assert "`--sim analytical` answers" in text
