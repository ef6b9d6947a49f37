"""A versioned engine name (`--stack vllm-0.12`) runs its family's shipped profile: the answer says so.

hR (session 38) found that `serve --stack vllm-0.12` (or `sglang-1.x`) silently ran the vllm-0.x profile; the
result's `stack` field named it but no warning did, so a user who typed a release could take the answer for a
profile of that release (the validation's release tables are not what `serve` prices).
"""

from __future__ import annotations

from infraplan.serving.engines import versioned_name_note
from infraplan.serving.serving_api import estimate_serving


def _warnings(stack: str) -> list[str]:
    result = estimate_serving("llama3-8b", "h100-sxm", 8, stack=stack, workload="chat", rate=5.0, requests=40)
    return list(result.warnings)


def test_a_versioned_name_is_named_in_a_warning_with_the_profile_that_ran() -> None:
    notes = [w for w in _warnings("vllm-0.12") if w.startswith("--stack vllm-0.12")]
    assert len(notes) == 1 and "vllm-0.x profile priced this answer" in notes[0]


def test_a_shipped_name_a_file_or_the_default_gets_no_such_note() -> None:
    assert not any(w.startswith("--stack") for w in _warnings("vllm-0.x"))
    assert versioned_name_note(None) == []
    assert versioned_name_note("trtllm-0.x") == []
    assert versioned_name_note("mine.yaml") == []
    assert versioned_name_note("sglang-1.x")[0].startswith("--stack sglang-1.x: no profile of that release ships")
