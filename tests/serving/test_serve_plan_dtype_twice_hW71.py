"""serve-plan with a weight dtype given twice (hW71): `--dtypes fp8,fp8` searched every layout twice (16 candidates
evaluated against 8 for `--dtypes fp8`) and listed the answer itself (2 H100, TP2, batch cap 256) among its
alternatives, each alternative twice. Now refused in one line before anything runs, as `search --gpus 8,8` is
("8 is given twice; give each count once"), by the CLI and the Python API alike (`serving.capacity.search_capacity`,
which the web and `plan` call too; a `plan` service's `dtypes` refused when the spec is read,
`planning.scenario_types.check_llm_names`)."""

from __future__ import annotations

from pathlib import Path

import pytest

import infraplan
from infraplan.cli import main
from infraplan.errors import InputError


def test_the_cli_refuses_a_dtype_given_twice(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve-plan", "llama3-70b", "--system", "dgx-h100-superpod", "--rate", "5", "--workload", "chat",
                 "--dtypes", "fp8,bf16,fp8"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "infraplan: error: --dtypes fp8,bf16,fp8: fp8 is given twice; give each dtype once"]


def test_the_api_refuses_it_too() -> None:
    with pytest.raises(InputError, match=r"^--dtypes bf16,bf16: bf16 is given twice; give each dtype once$"):
        infraplan.plan_serving("llama3-8b", "dgx-h100-superpod", 1.0, workload="chat", dtypes=("bf16", "bf16"))


def test_a_scenario_service_listing_a_dtype_twice_is_refused_when_read(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`plan`'s LLM services run serve-plan's search: the same rule, said when the spec is read (before any search)."""
    text = (Path(__file__).resolve().parents[2] / "examples" / "mtia-vs-gpu.yaml").read_text(encoding="utf-8")
    assert text.count("dtypes: [bf16, fp8, mxfp8]") == 1
    spec = tmp_path / "twice.yaml"
    spec.write_text(text.replace("dtypes: [bf16, fp8, mxfp8]", "dtypes: [bf16, fp8, fp8]"), encoding="utf-8")
    code = main(["plan", str(spec)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["infraplan: error: invalid scenario 'twice.yaml': services.2: dtypes [bf16, "
                                        "fp8, fp8]: fp8 is given twice; give each dtype once"]
