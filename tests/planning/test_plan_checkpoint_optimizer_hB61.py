"""`plan`'s training services size their checkpoints at the run's optimizer's bytes per parameter (hB61), the one figure
`train --tokens` reads (`training.optimizer_models.checkpoint_bytes_per_param`): Muon keeps one fp32 momentum, 10 B a
parameter against Adam's 14 (every plan priced Adam's 14 B until hB61). The service's `optimizer` is train's
--optimizer (null: the stack's or its model recipe's); another value, or the key on a service that trains nothing,
is one line and exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog.loader import load_model
from infraplan.cli.main import main
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioServiceRow
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.training.optimizer_models import checkpoint_bytes_per_param

RUN = {"name": "run", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 64, "seq_len": 4096,
       "global_batch": 256}


def _row(**service: Any) -> ScenarioServiceRow:
    (row,) = plan_scenario(ScenarioSpec.model_validate({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}], "services": [{**RUN, **service}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]})).services
    return row


def test_a_muon_run_writes_checkpoints_10_14_of_adams_on_its_matrices() -> None:
    """Muon's 10 B on the matrices, AdamW's 14 on the embedding and LM head (hD62; 10 on every parameter before)."""
    adam, muon, default = _row(optimizer="adam"), _row(optimizer="muon"), _row()
    shape = load_model("llama3-8b")
    tables = shape.embedding_params() / shape.total_params()
    ratio = (10.0 * (1.0 - tables) + 14.0 * tables) / 14.0
    assert (adam.optimizer, muon.optimizer, default.optimizer) == ("adam", "muon", "adam")  # llama3-8b's stack: Adam
    assert default.checkpoint_bytes == adam.checkpoint_bytes
    assert adam.checkpoint_bytes is not None and muon.checkpoint_bytes is not None
    assert muon.checkpoint_bytes / adam.checkpoint_bytes == pytest.approx(ratio, rel=1e-12)
    assert adam.checkpoint_write_s is not None and muon.checkpoint_write_s is not None
    assert muon.checkpoint_write_s / adam.checkpoint_write_s == pytest.approx(ratio, rel=1e-12)
    assert checkpoint_bytes_per_param("muon") == 10.0 and checkpoint_bytes_per_param("adam") == 14.0


@pytest.mark.parametrize("optimizer", ["adam", "muon"])
def test_train_tokens_and_plan_agree_on_a_runs_checkpoint(capsys: pytest.CaptureFixture[str], optimizer: str) -> None:
    row = _row(optimizer=optimizer)
    train = cli_json(capsys, f"train llama3-8b --system h100-sxm --gpus 64 --tp 2 --seq-len 4096 --global-batch 256 "
                             f"--optimizer {optimizer} --tokens 1T")
    assert train["optimizer"] == row.optimizer == optimizer
    assert row.checkpoint_bytes == train["checkpoint_bytes"]
    assert row.checkpoint_write_s == pytest.approx(train["checkpoint_write_s"], rel=1e-12)


@pytest.mark.parametrize(("service", "words"), [
    ({"optimizer": "lion"}, "services.0.optimizer: Input should be 'adam' or 'muon'"),
    ({"kind": "recsys", "model": "mlperf-dlrm-dcnv2", "qps": 1000, "latency_slo": "10ms", "tokens": None, "gpus": None,
      "seq_len": 8192, "global_batch": 2048, "optimizer": "muon"}, "optimizer is read by training services only")])
def test_a_bad_optimizer_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                service: dict[str, Any], words: str) -> None:
    svc = {k: v for k, v in {**RUN, **service}.items() if v is not None}
    lines = ["name: one-run", 'phases: [{name: "2026", year: 2026}]',
             "services: [{" + ", ".join(f"{k}: {v}" for k, v in svc.items()) + "}]",
             "pools: [{name: h100, device: h100-sxm, site: s}]", "sites: [{name: s, power: 100MW, location: ohio}]"]
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err
