"""hM69: LLM serving on Meta's MTIA parts is priced on pytorch-mtia (catalog/stacks/pytorch-mtia.yaml), a shipped
ASSUMPTION profile (no measured LLM serving on MTIA is published) and the default on Meta parts. Before, a `serve`
on MTIA without --stack was refused ("no shipped serving stack runs there") and `plan` sized no LLM on an MTIA pool.
Every answer on it carries the assumption as a warning, its error band says it has no validation basis (it borrows
other stacks' cases on other parts, and says so), and an MTIA answer states its per-watt basis: the chip's watts
against the platform's, and the launch time and issue the decode was priced at."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving

RUN = dict(offline=True, input_len=200, output_len=20, requests=40)


def _serve(system: str, stack: str | None = None) -> ServingResult:
    result = estimate_serving("llama3-8b", system, 1, stack=stack, **RUN)  # type: ignore[arg-type]
    assert isinstance(result, ServingResult)
    return result


def test_an_mtia_answer_without_a_stack_runs_the_assumed_profile_and_says_so() -> None:
    r = _serve("mtia-400")
    assert r.stack == "pytorch-mtia"
    assumed = [w for w in r.warnings if w.startswith("stack pytorch-mtia")]
    assert len(assumed) == 1 and "is an ASSUMPTION" in assumed[0] and "no measured LLM serving on MTIA" in assumed[0]
    assert "engine loop is ASSUMED vLLM V1's" in assumed[0]


def test_its_band_says_it_has_no_validation_basis() -> None:
    r = _serve("mtia-400")
    for band, label in ((r.error_band, "serving"), (r.ttft_error_band, "serving TTFT")):
        assert band is not None and band.basis.startswith("no validation basis: no validation case ran on stack "
                                                          "pytorch-mtia, an ASSUMPTION profile")
        assert f"no validated {label} case of stack class pytorch-mtia" in band.basis  # keyed by its own class
        assert f"no mtia (mtia-400) {label} case: outside the validated accelerators" in band.basis


def test_an_mtia_answer_states_its_per_watt_basis() -> None:
    r = _serve("mtia-400")
    (note,) = [w for w in r.warnings if w.startswith("per watt on mtia-400")]
    assert f"joules_per_token {r.joules_per_token:.3g} J is the platform's" in note
    assert f"device_joules_per_token {r.device_joules_per_token:.3g} J is the chip's alone" in note
    assert "TDP 1,200 W" in note and "350 W a chip of host and scale-up switches" in note
    assert "1 us a kernel" in note and "issued whole up to 512 tokens" in note
    assert r.device_joules_per_token is not None and r.device_joules_per_token < r.joules_per_token
    # asked on another stack, the part's basis is said all the same (vLLM on MTIA is an assumption too)
    asked = _serve("mtia-400", "vllm-0.x")
    assert any(w.startswith("per watt on mtia-400") for w in asked.warnings)
    assert not any(w.startswith("stack pytorch-mtia") for w in asked.warnings)


def test_a_gpu_answer_carries_neither_line() -> None:
    r = _serve("h100-sxm")
    assert r.stack == "trtllm-0.x"
    assert not any(w.startswith(("per watt on", "stack pytorch-mtia")) for w in r.warnings)
    assert r.error_band is not None and "no validation basis" not in r.error_band.basis


def test_the_profile_is_refused_on_another_vendors_part() -> None:
    with pytest.raises(InputError, match="runs on Meta parts only: its kernels are built for them"):
        _serve("h100-sxm", "pytorch-mtia")
