"""hB77: a serving run's progress (`serving.run_progress`): the share of its requests simulated, told to a caller that
asked (the web's `serve` job) as the engines end them, in every driver (open-loop pools, the stepped closed loop,
the disaggregated pair loop, the lock-step ranks); a report that raises stops the run there; and the answer is the
same with or without anyone asking. On the base (e4b646de) the module did not exist: a web `serve` said 0 % to its
end and a cancel waited for it."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from infraplan.serving import run_progress
from infraplan.serving.run_progress import REPORT_EVERY, reporting
from infraplan.serving.serving_api import estimate_serving

H100 = "dgx-h100-superpod"
RUNS: dict[str, tuple[str, int, dict[str, Any]]] = {  # (model, GPUs, options): small runs of each driver
    "open pool": ("llama3-8b", 8, {"tp": 1, "rate": 30.0, "workload": "chat", "requests": 3000}),
    "closed loop": ("llama3-8b", 1, {"tp": 1, "concurrency": 16, "workload": "chat", "requests": 1500}),
    "open pair": ("llama3-70b", 16, {"tp": 8, "rate": 5.0, "workload": "chat", "requests": 1500, "prefill_gpus": 8}),
    "closed pair": ("llama3-70b", 16, {"tp": 8, "concurrency": 32, "workload": "chat", "requests": 1500,
                                       "prefill_gpus": 8}),
    "lock-step ranks": ("deepseek-v3", 16, {"tp": 1, "ep": 16, "attention_dp": 16, "dtype": "fp8", "rate": 5.0,
                                            "workload": "chat", "requests": 600, "engine": "vllm"}),
}
PASSES = {"open pool": 1, "closed loop": 1, "open pair": 2, "closed pair": 2, "lock-step ranks": 1}


def _serve(name: str) -> Any:
    model, gpus, options = RUNS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (deepseek-v3's config format line)
        return estimate_serving(model, H100, gpus, **options)


@pytest.mark.parametrize("name", list(RUNS))
def test_each_driver_reports_its_requests_and_the_answer_is_unchanged(name: str) -> None:
    shares: list[float] = []
    with reporting(shares.append) as progress:
        told = _serve(name)
    assert progress is not None
    n = RUNS[name][2]["requests"]
    assert progress.total == PASSES[name] * n  # each pool's pass, expected before its work
    assert progress.done >= progress.total  # every request counted (the closed pair loop's padding beside them)
    assert shares[0] == 0.0 and shares == sorted(shares)  # the start first, then never back
    assert len(set(shares)) >= 2 and shares[-1] >= 1.0 - REPORT_EVERY / progress.total
    assert told.model_dump_json() == _serve(name).model_dump_json()  # nobody asking: the same answer


class _Stop(Exception):
    pass


def test_a_report_that_raises_stops_the_run_part_way() -> None:
    """The web's cancel: its callback raises at the next report, and the run stops there, not at its end."""
    stopped: list[int] = []

    def stop_past_a_third(share: float) -> None:
        if share > 1 / 3:
            progress = run_progress.current()
            assert progress is not None
            stopped.append(progress.done)
            raise _Stop

    with pytest.raises(_Stop), reporting(stop_past_a_third):
        _serve("closed loop")
    assert len(stopped) == 1 and stopped[0] < 0.5 * RUNS["closed loop"][2]["requests"]
    assert run_progress.current() is None  # the scope left behind it


def test_nobody_asking_counts_nothing() -> None:
    assert run_progress.current() is None
    with reporting(None) as progress:
        assert progress is None and run_progress.current() is None
    run_progress.expect(10)  # (no run under way: nothing to tell)


def test_an_image_run_reports_nothing() -> None:
    """Its pools (the offline sizing run, then the run) expect no pass: nothing told, so the web's check runs it to
    its end (<= 0.9 s for 200,000 images) and its job is born done, where a report from the sizing run (share 0,
    before the run's own refusals) would have passed the check."""
    shares: list[float] = []
    with reporting(shares.append) as progress:
        told = estimate_serving("sd-v1.5-512", H100, 8, rate=20.0, workload="image-generation", requests=30_000)
    assert told.requests == 30_000 and shares == [] and progress is not None and progress.done == 0
