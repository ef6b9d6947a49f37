"""Mutants of hM69's per-watt note (`serving.serving_metrics.per_watt_note`) the suite let live (hI, session 70): the
chip's share of the platform's joules, the CUDA-graph cap at the deployment's TP, the launch time's unit (the suite's
"1 us a kernel" also matched "0.001 us a kernel") and a user's ASSUMPTION stack on a GPU. SGLang 0.x's YAML captures
graphs up to 256 tokens, 512 from TP 4 (`cuda_graph_max_batch_by_tp`, its source in the YAML); an MTIA 400 answer on
it (priced with a warning: SGLang's kernels are not one vendor's) says the cap of its own TP."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli.conftest import write_what_if_part

from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving

RUN = dict(offline=True, input_len=200, output_len=20, requests=40)


def _note(tp: int) -> tuple[str, ServingResult]:
    r = estimate_serving("llama3-8b", "mtia-400", tp, stack="sglang-0.x", tp=tp, **RUN)  # type: ignore[arg-type]
    assert isinstance(r, ServingResult)
    (note,) = [w for w in r.warnings if w.startswith("per watt on mtia-400")]
    return note, r


def test_the_note_says_the_graph_cap_of_its_tp_and_the_chips_share() -> None:
    four, r = _note(4)
    assert "issued whole up to 512 tokens an iteration (stack sglang-0.x's `cuda_graphs`)" in four
    assert "Launches priced at 1 us a kernel" in four  # MTIA 400's kernel_overhead_s, 1.0e-6 s
    one, _ = _note(1)
    assert "issued whole up to 256 tokens an iteration" in one
    # the chip's share of the platform's joules a token: device / platform, under 100 % (host and switches beside)
    share = re.search(r"is the chip's alone \((\d+)%\)", four)
    assert share is not None and r.device_joules_per_token is not None
    assert int(share.group(1)) == round(100 * r.device_joules_per_token / r.joules_per_token) < 100


def test_a_users_assumption_stack_on_a_gpu_states_its_per_watt_basis(tmp_path: Path) -> None:
    """A user's vLLM what-if that states an `assumption` is a profile with no measurement of its engine, on any part:
    its H100 answer says so and carries the per-watt basis (H100's 4 us launches, TDP 700 W); vllm-0.x itself does
    not."""
    stack = tmp_path / "guess.yaml"
    stack.write_text('extends: vllm-0.x\nname: my-vllm-guess\nserving:\n  assumption: "an unmeasured vLLM build"\n')
    r = estimate_serving("llama3-8b", "h100-sxm", 1, stack=str(stack), **RUN)  # type: ignore[arg-type]
    assert isinstance(r, ServingResult)
    assert any(w.startswith("stack my-vllm-guess") and "is an ASSUMPTION: an unmeasured vLLM build" in w
               for w in r.warnings)
    (note,) = [w for w in r.warnings if w.startswith("per watt on h100-sxm")]
    assert "Launches priced at 4 us a kernel" in note and "TDP 700 W" in note
    plain = estimate_serving("llama3-8b", "h100-sxm", 1, stack="vllm-0.x", **RUN)  # type: ignore[arg-type]
    assert not any(w.startswith(("per watt on", "stack vllm-0.x")) for w in plain.warnings)


def test_a_part_with_no_default_stack_carries_no_per_watt_note(tmp_path: Path) -> None:
    """A user's new part (vendor Acme: no shipped stack is its default, `default_serving_stack` refuses) served on
    vllm-0.x: neither the stack nor a default of the part is an ASSUMPTION profile, so no per-watt note (the mutant
    that took the refusal for an assumed default wrote one)."""
    part = str(write_what_if_part(tmp_path))
    r = estimate_serving("llama3-8b", part, 1, stack="vllm-0.x", **RUN)  # type: ignore[arg-type]
    assert isinstance(r, ServingResult) and r.joules_per_token
    assert any(w.startswith("stack vllm-0.x (vLLM 0.x) runs on NVIDIA, AMD, Google parts, not x1") for w in r.warnings)
    assert not any(w.startswith("per watt on") for w in r.warnings)
