"""hM2: the serving weight formats a stack runs are a field of its YAML (`serving.weight_formats`, read by
`serving.engine_facts.weight_formats` and through it by every format check: `serving.deployment.format_gap`), its engine
family's list where unset, so pytorch-mtia, whose engine loop is vLLM's, runs MTIA's own formats: MTIA 400 served
bf16 only on it (vLLM 0.12.0 has no MXFP8 linear method, and MTIA 400 lists mxfp8, not fp8), against H100 at fp8.
Before, `serve llama3-70b --system mtia-400 --dtype mxfp8` was refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.planning.llm_precision import runnable_dtypes
from infraplan.serving.deployment import format_gap, format_refusal
from infraplan.serving.engine_facts import weight_formats
from infraplan.serving.engines import load_engine
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving

RUN = dict(offline=True, input_len=200, output_len=20, requests=40)
ALL = ("bf16", "fp8", "int8", "int4", "nvfp4", "mxfp4", "mxfp8")


def test_the_shipped_engine_families_keep_their_lists_and_pytorch_mtia_states_mtias() -> None:
    expected = {"trtllm-0.x": ALL, "sglang-0.x": ALL, "vllm-0.x": tuple(d for d in ALL if d != "mxfp8")}
    for name, formats in expected.items():
        profile = load_stack(name).serving
        assert profile is not None and profile.weight_formats is None, name  # unset: the family's (no answer moves)
        assert weight_formats(profile) == (formats, "") and load_engine(name).weight_formats == formats, name
    mtia = load_engine("pytorch-mtia")
    assert mtia.engine == "vllm" and mtia.weight_formats == ("bf16", "int8", "int4", "mxfp4", "mxfp8")
    assert "ASSUMPTION" in mtia.weight_formats_source and "MX8 / MX4" in mtia.weight_formats_source


def test_mtia_400_runs_mxfp8_on_its_own_stack_not_on_vllm() -> None:
    mtia = load_accelerator("mtia-400")
    assert format_gap(mtia, "mxfp8", "pytorch-mtia") is None
    assert format_gap(mtia, "mxfp8", "vllm-0.x") is not None and "vllm engine does not run mxfp8" in str(
        format_gap(mtia, "mxfp8", "vllm-0.x"))
    assert format_gap(mtia, "fp8", "pytorch-mtia") == "mtia-400 has no fp8 support in its catalog file"
    refused = format_refusal(mtia, "fp8", "pytorch-mtia")
    assert refused is not None and "use bf16, int8, mxfp8, mxfp4 (native), or the weight-only int4" in refused
    # the plan's and fleet-mix's pools read the same field: MTIA 400 with no stack named runs mxfp8, not fp8
    assert runnable_dtypes(["bf16", "fp8", "mxfp8"], "mtia-400-rack", None) == (
        ["bf16", "mxfp8"], ["fp8: mtia-400 has no fp8 support in its catalog file"])
    assert runnable_dtypes(["mxfp8"], "mtia-400-rack", "vllm-0.x")[0] == []


def test_serve_mxfp8_on_mtia_400_runs_at_the_mxfp8_rate() -> None:
    r = estimate_serving("llama3-8b", "mtia-400", 1, dtype="mxfp8", **RUN)  # type: ignore[arg-type]
    bf16 = estimate_serving("llama3-8b", "mtia-400", 1, **RUN)  # type: ignore[arg-type]
    assert isinstance(r, ServingResult) and isinstance(bf16, ServingResult)
    assert r.stack == "pytorch-mtia" and r.deployment.dtype == "mxfp8"
    assert "at the mxfp8 rate" in str(r.deployment.weight_format)
    assert r.output_tokens_per_s > 1.2 * bf16.output_tokens_per_s  # 1.03 B a weight, 2x bf16's peak
    assert any("its weight formats MTIA's" in w for w in r.warnings)  # the assumption says what it assumed


def test_serve_cli_mxfp8_on_mtia_400_and_450_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    for part in ("mtia-400", "mtia-450"):
        code = main(["serve", "llama3-8b", "--system", part, "--gpus", "1", "--dtype", "mxfp8", "--offline",
                     "--input-len", "200", "--output-len", "20", "--requests", "40", "--json"])
        assert code == 0, capsys.readouterr().err
    code = main(["serve", "llama3-8b", "--system", "mtia-300", "--gpus", "1", "--dtype", "mxfp4", "--offline",
                 "--input-len", "200", "--output-len", "20", "--requests", "40", "--json"])
    assert code == 0  # no fp4 peak on MTIA 300: weight-only mxfp4, as on any part


def _user_stack(tmp_path: Path, name: str, formats: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"extends: trtllm-0.x\nserving:\n  weight_formats: {formats}\n"
                    "  weight_formats_source: a test's list\n")
    return str(path)


def test_a_user_stack_states_its_formats_and_is_refused_in_one_line(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    own = _user_stack(tmp_path, "no-fp4", "[bf16, fp8]")
    b200 = load_accelerator("b200")
    gap = format_gap(b200, "nvfp4", own)
    assert gap == "stack no-fp4 does not run nvfp4 weights (it runs bf16, fp8: a test's list)"
    refused = format_refusal(b200, "nvfp4", own)
    assert refused is not None and refused.startswith(gap + "; use bf16, fp8; or --stack ")  # no weight-only offer
    assert format_gap(b200, "nvfp4", "trtllm-0.x") is None  # the shipped profile it extends runs it
    with pytest.raises(InputError, match="stack no-fp4 does not run nvfp4"):
        estimate_serving("llama3-8b", "b200", 1, dtype="nvfp4", stack=own, **RUN)  # type: ignore[arg-type]
    code = main(["serve", "llama3-8b", "--system", "b200", "--gpus", "1", "--stack",
                 _user_stack(tmp_path, "no-bf16", "[fp8]"), "--offline", "--input-len", "200",
                 "--output-len", "20", "--requests", "4"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "must include bf16" in err and "Traceback" not in err, err
