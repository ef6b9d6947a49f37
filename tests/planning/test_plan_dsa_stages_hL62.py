"""`plan`'s DSA training stages, hC62's open items (hL62, `planning.dsa_training_stages`): a service whose model is a
file is checked for the lightning indexer when the scenario is read (one line naming the service and the field, exit
2, no output written), as a preset is; `dsa_warmup_global_batch` sets the warm-up's sequences a step (the report's 16
before the sparse stage's 480), refused without `dsa_warmup_tokens`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.loader import preset_files
from infraplan.cli.main import main
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioServiceRow
from infraplan.planning.scenario_spec import ScenarioSpec

RUN = {"name": "run", "kind": "training", "model": "deepseek-v3.2", "tokens": "2.1B", "gpus": 256, "seq_len": 4096,
       "global_batch": 256, "dtype": "fp8", "stack": "deepseek-v3"}
NO_INDEXER = "has no lightning indexer"


def _row(**service: Any) -> ScenarioServiceRow:
    (row,) = plan_scenario(ScenarioSpec.model_validate({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}], "services": [{**RUN, **service}],
        "pools": [{"name": "h800", "device": "h800", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]})).services
    return row


def _scenario(tmp_path: Path, **service: Any) -> Path:
    svc = {k: v for k, v in {**RUN, **service}.items() if v is not None}
    path = tmp_path / "s.yaml"
    path.write_text("\n".join([
        "name: one-run", 'phases: [{name: "2026", year: 2026}]',
        "services: [{" + ", ".join(f"{k}: {v}" for k, v in svc.items()) + "}]",
        "pools: [{name: h800, device: h800, site: s}]", "sites: [{name: s, power: 100MW, location: ohio}]"]) + "\n")
    return path


def _refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(("service", "field"), [({"dsa_stage": "warmup"}, "dsa_stage warmup"),
                                                ({"tokens": "20B", "dsa_warmup_tokens": "1B"}, "dsa_warmup_tokens")])
def test_a_model_file_without_the_indexer_is_refused_when_read(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              service: dict[str, Any], field: str) -> None:
    """A model file (llama3-8b's config beside the scenario) with a warm-up: one line naming the service and the field
    before any sizing (hC62: "no pool can serve 'run'" after a search at sizing time), the preset's words; neither
    --report nor --out written."""
    (tmp_path / "dense.json").write_text(Path(preset_files("models")["llama3-8b"]).read_text())
    path = _scenario(tmp_path, model="./dense.json", gpus=64, **service)
    report, out = tmp_path / "r.html", tmp_path / "tables"
    out.mkdir()
    err = _refused(capsys, ["plan", str(path), "--report", str(report), "--out", str(out)])
    assert f"service 'run': {field} prices DeepSeek Sparse Attention's dense warm-up" in err
    assert f"dense {NO_INDEXER}" in err and "no pool can serve" not in err
    assert not report.exists() and not list(out.iterdir())
    preset = _refused(capsys, ["plan", str(_scenario(tmp_path, model="llama3-8b", gpus=64, **service))])
    assert f"service 'run': {field} prices" in preset and f"llama3-8b {NO_INDEXER}" in preset  # (the same words)


def test_a_model_file_with_the_indexer_plans_as_its_preset(tmp_path: Path) -> None:
    """The check reads the file: deepseek-v3.2's config as a file plans the warm-up as the preset does."""
    (tmp_path / "dsa.json").write_text(Path(preset_files("models")["deepseek-v3.2"]).read_text())
    filed = plan_scenario(str(_scenario(tmp_path, model="./dsa.json", dsa_stage="warmup"))).services[0]
    assert filed.time_to_train_s == pytest.approx(_row(dsa_stage="warmup").time_to_train_s, rel=1e-12)


def test_the_warmup_global_batch_prices_the_warmup_at_its_own_batch() -> None:
    """Both stages, the warm-up at 32 sequences a step and the sparse stage at 256: the wall clock is a warm-up alone
    at 32 plus the sparse stage at 256 (not the warm-up at 256: 89,320.8 s), and the detail says the batch."""
    both = _row(tokens="20B", dsa_warmup_tokens="2.1B", dsa_warmup_global_batch=32)
    warm, sparse = _row(dsa_stage="warmup", global_batch=32), _row(tokens="20B")
    same = _row(tokens="20B", dsa_warmup_tokens="2.1B")
    assert warm.time_to_train_s is not None and sparse.time_to_train_s is not None
    assert both.time_to_train_s == pytest.approx(warm.time_to_train_s + sparse.time_to_train_s, rel=1e-12)
    assert same.time_to_train_s is not None and both.time_to_train_s != pytest.approx(same.time_to_train_s, rel=1e-3)
    assert "after the dense warm-up on 2.1 B tokens at 32 sequences a step" in both.detail
    assert "at 256 sequences a step" in same.detail
    assert both.checkpoint_bytes == sparse.checkpoint_bytes and both.mfu == sparse.mfu


@pytest.mark.parametrize("service", [{"dsa_warmup_global_batch": 16},
                                     {"dsa_stage": "warmup", "dsa_warmup_global_batch": 16}])
def test_the_warmup_global_batch_needs_warmup_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     service: dict[str, Any]) -> None:
    err = _refused(capsys, ["plan", str(_scenario(tmp_path, **service))])
    assert "service 'run': dsa_warmup_global_batch is the dense warm-up's batch" in err
    assert "it needs dsa_warmup_tokens" in err


def test_the_warmup_global_batch_is_read_by_training_services_only(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    svc = {"kind": "recsys", "model": "mlperf-dlrm-dcnv2", "qps": 1000, "latency_slo": "10ms", "tokens": None,
           "gpus": None, "seq_len": 8192, "global_batch": 2048, "dtype": "auto", "stack": None,
           "dsa_warmup_global_batch": 16}
    err = _refused(capsys, ["plan", str(_scenario(tmp_path, **svc))])
    assert "dsa_warmup_global_batch is read by training services only" in err
