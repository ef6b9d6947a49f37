"""`plan` draws a progress bar on stderr while it sizes (hC51).

A 4 GW two-site plan ran ~25 s CPU (hU81; examples/gigawatt-2027.yaml 16 s CPU, 99 % of it in step 1's sizings) with
nothing on the screen. `plan_scenario(progress=...)` now tells each sizing and the pricing (stage, done, total); the
CLI draws it on stderr (`_output.stage_bar`), off under --json and where stderr is not a terminal, as `search` and
`collective --sim flow` do; the web's plan job reports the same steps as its fraction. Before this change
`plan_scenario` took no `progress` and `plan` printed nothing on stderr.
"""

from __future__ import annotations

import pytest

from infraplan.cli.main import main
from infraplan.planning.compare import plan_with_tornado
from infraplan.planning.scenario import plan_scenario

MINIMAL = "examples/plan-minimal.yaml"  # one service, one pool, one phase: 1 sizing + the pricing


def test_the_api_tells_each_sizing_then_the_pricing() -> None:
    seen: list[tuple[str, int, int]] = []
    plan_scenario(MINIMAL, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert seen == [("sizing ranking on h100 (2025)", 0, 2), ("pricing and placing (MILP)", 1, 2), ("done", 2, 2)]


def test_a_tornado_run_counts_every_plan() -> None:
    """--vary runs the plan and two more per range: the fraction rises across all three, ending at the whole."""
    seen: list[tuple[str, int, int]] = []
    plan_with_tornado(MINIMAL, ["pue=1.1..1.4"], progress=lambda s, d, t: seen.append((s, d, t)))
    assert {t for _, _, t in seen} == {3000} and seen[-1][1] == 3000
    assert [d for _, d, _ in seen] == sorted(d for _, d, _ in seen)
    assert seen[0][0].startswith("plan: sizing") and any(s.startswith("--vary pue=1.4: ") for s, _, _ in seen)


def test_the_bar_is_drawn_on_a_terminal_only(capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich: stderr is a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    assert main(["plan", MINIMAL]) == 0
    out, err = capsys.readouterr()
    assert "sizing ranking on h100" in err and "sizing ranking" not in out
    assert main(["plan", MINIMAL, "--json"]) == 0  # --json: nothing on stderr
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TTY_COMPATIBLE", "0")  # a pipe, CI
    assert main(["plan", MINIMAL]) == 0
    assert capsys.readouterr().err == ""
