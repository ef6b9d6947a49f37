"""hM75 mutants of `facility.spare_policy.unused_policy_note` (hL75): each reason a non-default --no-spare-policy
changed nothing, and the policy the answer then is (the default, shrink)."""

from __future__ import annotations

from types import SimpleNamespace

from infraplan.facility.spare_policy import unused_policy_note
from infraplan.limits import DEFAULT_NO_SPARE_POLICY

TAIL = f"so the job is never short of spares and the answer is the default's ({DEFAULT_NO_SPARE_POLICY})"


def test_each_reason_and_the_default_named() -> None:
    assert DEFAULT_NO_SPARE_POLICY == "shrink"
    generic = SimpleNamespace(generic=True, total_accelerators=64, name="h100-generic-64")
    known = {"expected_gpus_out_of_service": 0.5, "domain_gpus": 8, "domains": 8}
    unknown = {**known, "expected_gpus_out_of_service": None}
    note = unused_policy_note("wait", generic, unknown, None)  # type: ignore[arg-type]
    assert note == ("--no-spare-policy wait changed nothing: the failure rate does not say which failures take a "
                    f"node out of service, {TAIL}")
    note = unused_policy_note("wait", generic, known, None)  # type: ignore[arg-type]
    assert note is not None and "an accelerator preset's system is sized by the job" in note and note.endswith(TAIL)
    superpod = SimpleNamespace(generic=False, total_accelerators=16_384, name="dgx-h100-superpod")
    note = unused_policy_note("wait", superpod, known, None)  # type: ignore[arg-type]
    # 16,384 / 8 = 2,048 units, the job's 8 of them: 2,040 spare
    assert note is not None and "holds 2,040 spare units of 8 GPUs beyond the job's 8" in note
    assert unused_policy_note("shrink", superpod, known, None) is None  # type: ignore[arg-type]
    assert unused_policy_note("wait", superpod, known, {"short": 1}) is None  # type: ignore[arg-type]
