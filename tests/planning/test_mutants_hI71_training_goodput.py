"""Mutation wave on whole-server failures in `plan`'s training sizing (hI, session 71): a training service sized on
12 H100 occupies two 8-GPU servers, and a failure anywhere in either ends the job (`facility.reliability.
accelerators_held`, hN2 session 70), so its goodput is the 16-GPU job's and its note says why. The mutant id is
hI71's NOTE's."""

from __future__ import annotations

from infraplan.planning.scenario_sizing import _training_point


def test_a_plan_training_point_counts_the_servers_it_occupies() -> None:
    """hI71 RL9: the same model, data and checkpoint on 12 and on 16 H100 have one job MTTF (two servers' failures),
    hence one goodput; the 12-GPU point's note names the two servers."""
    twelve = _training_point("llama3-8b", "h100-sxm", None, 12, 4096, 48, "bf16", None, 1e10)
    sixteen = _training_point("llama3-8b", "h100-sxm", None, 16, 4096, 48, "bf16", None, 1e10)
    assert not isinstance(twelve, str) and not isinstance(sixteen, str)
    assert twelve.goodput == sixteen.goodput < 1.0
    assert "the 12-GPU job occupies 2 servers of 8 GPUs (16 GPUs)" in (twelve.goodput_note or "")
    assert "occupies" not in (sixteen.goodput_note or "")
