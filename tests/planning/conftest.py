"""Shared helpers of the planning tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
import yaml

from infraplan.cli.main import main as cli_main
from infraplan.planning import milp_start, scenario_sizing

T = TypeVar("T")


def stub_colocated_answer(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """serve-plan's answer stubbed for `scenario_sizing.size_llm`: 4 colocated replicas of TP4 PP2 bf16 (32 GPUs,
    batch <= 128); gives its deployment, which a test may turn disaggregated."""
    dep = SimpleNamespace(replicas=4, tp=4, pp=2, dtype="bf16", kv_dtype="bf16", max_batch=128, disaggregated=False,
                          prefill_replicas=1, decode_replicas=3, attention_dp=1, prefill=None, decode=None)
    answer = SimpleNamespace(feasible=True, gpus=32, deployment=dep, serve=None, slo=None, why=None,
                             meets_slo_full_run=True)  # a real answer has it (hG57 reads it)
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: answer)
    return dep


def count_cold_milp(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each solve that falls back to scipy's `milp` (`planning.milp_start`'s cold path): one "milp" a call."""
    calls: list[str] = []
    cold = milp_start.milp

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append("milp")
        return cold(*args, **kw)

    monkeypatch.setattr(milp_start, "milp", counted)
    return calls


def record_binding_calls(monkeypatch: pytest.MonkeyPatch, method: str, read: Callable[[Any], T]) -> list[T]:
    """Record what each call of `_Highs.<method>` of `planning.milp_start`'s binding is handed, as `read` gives it
    (the binding patched with a `_Highs` that records and then calls HiGHS's own method)."""
    real = milp_start._highs
    seen: list[T] = []
    own = getattr(real._Highs, method)

    def recorded(self: Any, arg: Any) -> Any:
        seen.append(read(arg))
        return own(self, arg)

    class Recording(real._Highs):  # type: ignore[misc, name-defined]
        pass

    setattr(Recording, method, recorded)
    binding = SimpleNamespace(**{k: getattr(real, k) for k in dir(real) if not k.startswith("__")})
    binding._Highs = Recording
    monkeypatch.setattr(milp_start, "_highs", binding)
    return seen


def record_starts(monkeypatch: pytest.MonkeyPatch) -> list[list[float]]:
    """Record each start handed to HiGHS (`_Highs.setSolution` of `planning.milp_start`'s binding), value for value."""
    return record_binding_calls(monkeypatch, "setSolution", lambda solution: list(solution.col_value))


def plan_cli(raw: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`infraplan plan SPEC --json` of the scenario `raw` written as YAML in `tmp_path`: (exit code, its stdout where
    0, else its stderr stripped)."""
    file = tmp_path / "spec.yaml"
    file.write_text(yaml.safe_dump(raw), encoding="utf-8")
    capsys.readouterr()
    rc = cli_main(["plan", str(file), "--json"])
    out = capsys.readouterr()
    return rc, out.out if rc == 0 else out.err.strip()
