"""A bad `--vary` range is refused before the scenario is planned (hR, session 52): `tornado` read every range
before its own plans, but `plan_with_tornado` (the CLI's `plan`) and the web's plan job ran the scenario's plan
first: `plan examples/gigawatt-2027.yaml --vary bogus=1..2` spent ~17 s CPU (58 s wall at load 5) before its
one-line refusal."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.planning import compare

MINIMAL = "examples/plan-minimal.yaml"


def _no_plan(*args: object, **kwargs: object) -> None:
    raise AssertionError("the scenario was planned before its --vary ranges were read")


@pytest.mark.parametrize(("vary", "words"), [(["bogus=1..2"], "unknown parameter 'bogus'"),
                                             (["pue=1.1..1.2", "pue=1.2..1.3"], "--vary pue is given 2 times"),
                                             (["pue=1.3..1.1"], "must be LOW..HIGH")])
def test_plan_reads_every_range_first(vary: list[str], words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compare, "plan_scenario", _no_plan)
    with pytest.raises(InputError, match=words):
        compare.plan_with_tornado(MINIMAL, vary)

