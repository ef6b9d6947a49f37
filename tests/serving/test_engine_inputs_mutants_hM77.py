"""hM77 mutation wave on hL76's split-out modules (`serving.engine_facts`, `serving.capacity_inputs`): a stack that
leaves `speculative_decoding` unset runs drafts as its engine family's shipped profile states (as the module says
of every engine fact), a versioned engine name finds its family with either separator, and `serve-plan --requests`
takes its bound's top, 400,000, itself."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.limits import MAX_PROBE_REQUESTS
from infraplan.serving.capacity_inputs import checked_inputs
from infraplan.serving.engine_facts import family_stack, speculative_decoding


@pytest.mark.parametrize("stack", ["sglang-0.x", "vllm-0.x", "trtllm-0.x"])
def test_an_unstated_speculative_decoding_is_the_familys(stack: str) -> None:
    profile = load_stack(stack).serving
    assert profile is not None and profile.speculative_decoding is True
    unstated = profile.model_copy(update={"speculative_decoding": None})
    assert speculative_decoding(unstated) is True
    assert speculative_decoding(profile.model_copy(update={"speculative_decoding": False})) is False


def test_a_versioned_engine_name_finds_its_family() -> None:
    assert [family_stack(r) for r in ("vllm-0.12.0", "vllm_0.12.0", "TRTLLM_1.0", "sglang")] == [
        "vllm-0.x", "vllm-0.x", "trtllm-0.x", "sglang-0.x"]
    assert family_stack("vllmx") is None and family_stack("sglang.0") is None


def test_the_probe_bound_includes_its_top() -> None:
    def check(requests: int) -> object:
        return checked_inputs("llama3-8b", 5.0, "chat", None, None, None, None, 99.0, None, requests)

    assert check(MAX_PROBE_REQUESTS) is not None and check(1) is not None
    with pytest.raises(InputError, match=f"--requests must be 1..{MAX_PROBE_REQUESTS:,}"):
        check(MAX_PROBE_REQUESTS + 1)
