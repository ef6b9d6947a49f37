"""`plan`'s training service of a DeepSeek Sparse Attention model in its stages (hC62, `planning.dsa_training_stages`):
`dsa_stage` warmup prices the run as `search --dsa-stage warmup`'s best plan run by `train --tokens`;
`dsa_warmup_tokens` adds the warm-up's wall clock before the sparse stage's; bad input is one line and exit 2."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from infraplan.cli.main import main
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioServiceRow
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.training.search import search_plans

RUN = {"name": "run", "kind": "training", "model": "deepseek-v3.2", "tokens": "2.1B", "gpus": 256, "seq_len": 4096,
       "global_batch": 256, "dtype": "fp8", "stack": "deepseek-v3"}


def _row(**service: Any) -> ScenarioServiceRow:
    (row,) = plan_scenario(ScenarioSpec.model_validate({
        "name": "one-run", "phases": [{"name": "2026", "year": 2026}], "services": [{**RUN, **service}],
        "pools": [{"name": "h800", "device": "h800", "site": "s"}],
        "sites": [{"name": "s", "power": "100MW", "location": "ohio"}]})).services
    return row


def test_a_warmup_service_is_train_tokens_of_the_searched_plan(capsys: pytest.CaptureFixture[str]) -> None:
    """The service's wall clock and checkpoint are `train --dsa-stage warmup --tokens 2.1B` of `search --dsa-stage
    warmup`'s best plan (the checkpoint the indexer's, not the model's 9.4 TB)."""
    row = _row(dsa_stage="warmup")
    assert row.detail.startswith("DSA dense warm-up ")
    best = search_plans("deepseek-v3.2", "h800", 256, 4096, 256, dtype="fp8", stack="deepseek-v3", top=1,
                        dsa_stage="warmup").best
    assert best is not None
    capsys.readouterr()
    assert main([*shlex.split(best.train_command)[1:], "--tokens", "2.1B", "--json"]) == 0
    train = json.loads(capsys.readouterr().out)
    assert row.time_to_train_s == pytest.approx(train["time_to_train_s"], rel=1e-9)
    assert row.checkpoint_bytes == train["checkpoint_bytes"]
    assert row.checkpoint_bytes is not None and row.checkpoint_bytes < 0.01 * (_row().checkpoint_bytes or 0.0)


def test_both_stages_add_their_wall_clocks() -> None:
    """`dsa_warmup_tokens` before the sparse stage's `tokens`: the warm-up's wall clock plus the sparse stage's, the
    sparse stage's checkpoint; each its own stage's best plan at the same device count."""
    warm, sparse = _row(dsa_stage="warmup"), _row(tokens="20B")
    both = _row(tokens="20B", dsa_warmup_tokens="2.1B")
    assert warm.time_to_train_s is not None and sparse.time_to_train_s is not None
    assert both.time_to_train_s == pytest.approx(warm.time_to_train_s + sparse.time_to_train_s, rel=1e-12)
    assert both.checkpoint_bytes == sparse.checkpoint_bytes and both.mfu == sparse.mfu
    assert "after the dense warm-up on 2.1 B tokens" in both.detail


@pytest.mark.parametrize(("service", "words"), [
    ({"model": "llama3-8b", "dsa_stage": "warmup"}, "llama3-8b has no lightning indexer"),
    ({"model": "llama3-8b", "dsa_warmup_tokens": "1B"}, "llama3-8b has no lightning indexer"),
    ({"dsa_stage": "warmup", "dsa_warmup_tokens": "1B"}, "with dsa_stage warmup the warm-up's tokens are `tokens`"),
    ({"dsa_stage": "dense"}, "services.0.dsa_stage: Input should be 'sparse' or 'warmup'"),
    ({"kind": "recsys", "model": "mlperf-dlrm-dcnv2", "qps": 1000, "latency_slo": "10ms", "tokens": None, "gpus": None,
      "seq_len": 8192, "global_batch": 2048, "dtype": "auto", "stack": None, "dsa_stage": "warmup"},
     "dsa_stage is read by training services only")])
def test_bad_stages_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            service: dict[str, Any], words: str) -> None:
    svc = {k: v for k, v in {**RUN, **service}.items() if v is not None}
    lines = ["name: one-run", 'phases: [{name: "2026", year: 2026}]',
             "services: [{" + ", ".join(f"{k}: {v}" for k, v in svc.items()) + "}]",
             "pools: [{name: h800, device: h800, site: s}]", "sites: [{name: s, power: 100MW, location: ohio}]"]
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err


def test_a_warmup_alone_starts_where_the_frozen_weights_fit() -> None:
    """Under a deadline a warm-up service's device counts start where the bf16 weights fit (its trained state is the
    indexer's), not where the full training state does; both stages start at the sparse stage's."""
    from types import SimpleNamespace

    from infraplan.planning.dsa_training_stages import WARMUP_BYTES_PER_PARAM
    from infraplan.planning.scenario_sizing import first_training_count
    from infraplan.planning.scenario_spec import ServiceSpec

    def first(**extra: Any) -> int:
        svc = ServiceSpec.model_validate({**RUN, "gpus": None, "deadline": "30d", **extra})
        return first_training_count(svc, SimpleNamespace(device="h800"))  # type: ignore[arg-type]

    warm, sparse, both = first(dsa_stage="warmup"), first(), first(tokens="20B", dsa_warmup_tokens="2.1B")
    assert warm == 16  # 671.0 B parameters x 2 B / 85.9 GB = 15.6
    assert sparse == both and sparse >= 8 * warm
    assert WARMUP_BYTES_PER_PARAM == 2.0
