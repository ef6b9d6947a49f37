"""The serving front-end figures against their one rule (`validation.serving_host_fits.fit_front_ends`).

Cost: the rule re-runs the ~320 rows of <= 8 sequences of the dense and MoE / MLA Hopper sets, ~1.6 CPU s in a fresh
process (less after the sets ran in it: their iteration costs are cached per process)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.serving.engines import load_engine
from infraplan.validation import serving_host_fits as fit_rule
from infraplan.validation import serving_row_rules as path


def _serving_stack_files() -> list[Path]:
    """Every serving stack YAML that carries the stacks' front-end figure: the catalog's and the validation sets'."""
    dirs = (resources.files("infraplan.catalog") / "stacks",
            resources.files("infraplan.validation") / "data" / "stacks")
    files = sorted(Path(str(d / name.name)) for d in dirs for name in d.iterdir() if name.name.endswith(".yaml"))
    return [f for f in files if load_stack(str(f)).kind == "serving"]


def test_stored_front_ends_are_their_rule_on_the_current_model() -> None:
    fits = fit_rule.fit_front_ends()
    assert set(fits) == {f"{p}/{e}" for p in ("stack", "server") for e in ("trtllm", "vllm", "sglang")}
    for key, fit in fits.items():
        assert fit.rows >= 5 and fit.quartiles_s[0] <= fit.seconds <= fit.quartiles_s[1], key
    stale = {f"ENGINE_SERVER_FRONT_END_S[{e}]": (s, round(fits[f"server/{e}"].seconds, 4))
             for e, s in path.ENGINE_SERVER_FRONT_END_S.items() if fit_rule.drift_s(s, fits[f"server/{e}"]) > 0}
    files = _serving_stack_files()
    assert len(files) >= 11  # the three catalog profiles and the sets' release / Dynamo copies
    for f in files:
        engine = load_engine(str(f))
        fit = fits[f"stack/{engine.engine}"]
        if fit_rule.drift_s(engine.request_latency_s, fit) > 0:
            stale[f"{f.name} request_latency_s"] = (engine.request_latency_s, round(fit.seconds, 4))
    assert not stale, (f"front-end figures off their rule by more than max({fit_rule.FIT_TOLERANCE_S} s, "
                       f"{fit_rule.FIT_TOLERANCE_SHARE:.0%}) (stored, rule): {stale}; refit them "
                       "(validation.serving_row_rules docstring)")


def test_drift_is_the_distance_beyond_the_tolerance() -> None:
    fit = fit_rule.FrontEndFit(0.12, 100, (0.07, 0.2))  # tolerance max(3 ms, 5 % = 6 ms)
    assert fit_rule.drift_s(0.125, fit) == 0.0
    assert fit_rule.drift_s(0.10, fit) == pytest.approx(0.014)
    small = fit_rule.FrontEndFit(0.02, 100, (0.01, 0.03))  # tolerance 3 ms
    assert fit_rule.drift_s(0.03, small) == pytest.approx(0.007)


def test_the_rule_leaves_the_stored_front_end_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The front end is a constant added to TTFT: a row's residual does not move with the stored figure."""
    from infraplan.serving.serving_sim import front_end_s
    from infraplan.validation import serving_hopper as dense

    row = next(r for r in dense.load_rows() if int(r["batch_size"]) <= fit_rule.LOW_LOAD_BATCH
               and not path.served_by_dynamo(r) and r["backend"] in path.ENGINE_SERVER_FRONT_END_S)

    def engine_only_s() -> float:
        return dense.run_row(row)["ttft_s"] - path.server_front_end_s(row, front_end_s(dense.row_deployment(row)))

    before = engine_only_s()
    monkeypatch.setitem(path.ENGINE_SERVER_FRONT_END_S, row["backend"], 0.5)
    assert dense.run_row(row)["ttft_s"] - before == pytest.approx(0.5)
    assert engine_only_s() == pytest.approx(before, abs=1e-12)
