"""hV42: the serving stack an answer without --stack runs is the one that runs on the part's vendor (each stack YAML's
`runs_on` / `default_on`, `stack_placement.default_serving_stack`): TensorRT-LLM on NVIDIA as before, vLLM on AMD
and Google parts, SGLang on Intel Gaudi, the ASSUMPTION profile pytorch-mtia on Meta's MTIA (hM69; refused, naming
--stack, before it). Before, every part was priced on
trtllm-0.x, including those TensorRT-LLM does not run on, and banded as a default-stack answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import infraplan.catalog
from infraplan.catalog import load_accelerator
from infraplan.catalog.error_bands import DEFAULT_SETTINGS, load_residuals
from infraplan.catalog.stacks import DEFAULT_SERVING_STACK, load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.planning.fleet_mix_llm import serve_plan_search
from infraplan.serving.engine_facts import serving_stacks
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.stack_placement import default_serving_stack, serving_stack_for


@pytest.mark.parametrize(("part", "stack"), [("h100-sxm", "trtllm-0.x"), ("gb200", "trtllm-0.x"),
                                             ("mi300x", "vllm-0.x"), ("mi325x", "vllm-0.x"), ("mi355x", "vllm-0.x"),
                                             ("tpu-v5p", "vllm-0.x"), ("tpu-v6e", "vllm-0.x"),
                                             ("gaudi2", "sglang-0.x")])
def test_the_default_stack_is_one_that_runs_on_the_vendor(part: str, stack: str) -> None:
    name, why = default_serving_stack(load_accelerator(part))
    assert name == stack
    assert (why is None) == (stack == DEFAULT_SERVING_STACK)  # NVIDIA: nothing said, the answer as before
    if why is not None:
        assert why.startswith(f"no stack named: priced on {stack}") and f"does not run on {part}" in why


@pytest.mark.parametrize("part", ["mtia-400", "mtia-v2"])
def test_a_meta_part_runs_the_assumed_pytorch_profile_and_asked_vllm_is_a_warning(part: str) -> None:
    """hM69: Meta's parts were refused here (no shipped stack ran there); they now default to pytorch-mtia, the
    ASSUMPTION profile whose `assumption` every answer on it carries; vLLM asked is still priced as if it ran there."""
    name, why = default_serving_stack(load_accelerator(part))
    assert name == "pytorch-mtia" and why is not None and f"does not run on {part}" in why
    engine, notes = serving_stack_for(None, load_accelerator(part))
    assert engine.name == "pytorch-mtia" and len(notes) == 2 and "is an ASSUMPTION" in notes[1]
    engine, notes = serving_stack_for("vllm-0.x", load_accelerator(part))  # asked: a warning, not a refusal
    assert engine.name == "vllm-0.x" and len(notes) == 1 and "not mtia" in notes[0] and "as if it ran there" in notes[0]


def test_a_part_no_shipped_stack_runs_on_is_refused_naming_the_flag(tmp_path: Path) -> None:
    """A vendor no shipped stack names (a user's part file; every shipped part's vendor has one since hM69)."""
    data = yaml.safe_load((Path(infraplan.catalog.__file__).parent / "accelerators" / "mi300x.yaml").read_text())
    path = tmp_path / "acme-x1.yaml"
    path.write_text(yaml.safe_dump({**data, "vendor": "Acme"}))
    with pytest.raises(InputError, match="\\(Acme\\): no shipped serving stack runs there; give --stack"):
        default_serving_stack(load_accelerator(str(path)))


def test_each_vendor_has_at_most_one_default_and_it_runs_there() -> None:
    """One place decides, as data: `default_on` is within `runs_on`, no vendor is two stacks' default."""
    seen: dict[str, str] = {}
    for name in serving_stacks():
        profile = load_stack(name).serving
        assert profile is not None and profile.runs_on is not None and profile.vendor_kernels is not None
        assert set(profile.default_on) <= set(profile.runs_on), name
        for vendor in profile.default_on:
            assert vendor not in seen, (vendor, name, seen.get(vendor))
            seen[vendor] = name
    assert seen == {"NVIDIA": DEFAULT_SERVING_STACK, "AMD": "vllm-0.x", "Meta": "pytorch-mtia"}


def test_serve_on_amd_without_a_stack_is_the_vllm_answer_and_says_so() -> None:
    args = dict(rate=2.0, input_len=500, output_len=100, requests=40)
    default = estimate_serving("llama3-8b", "mi300x", 1, **args)  # type: ignore[arg-type]
    asked = estimate_serving("llama3-8b", "mi300x", 1, stack="vllm-0.x", **args)  # type: ignore[arg-type]
    assert isinstance(default, ServingResult) and isinstance(asked, ServingResult)
    assert default.stack == asked.stack == "vllm-0.x"
    assert default.tpot_s == asked.tpot_s and default.ttft_s == asked.ttft_s  # one question, one answer
    assert default.warnings[0].startswith("no stack named: priced on vllm-0.x, the stack AMD parts run by default")
    assert not any(w.startswith("no --stack") for w in asked.warnings)
    # banded as the asked answer, and saying why: before, trtllm-0.x's re-run rows banded it as a default answer.
    # By the rows re-run on vllm-0.x where the stored file holds them (hV45), else (a file written before) by the
    # rows on their measurements' settings, saying none is re-run on it
    assert default.error_band is not None and asked.error_band is not None
    assert (default.error_band.low, default.error_band.high) == (asked.error_band.low, asked.error_band.high)
    rerun = any(r.stack == "vllm" for r in load_residuals("serving", DEFAULT_SETTINGS))
    assert ("re-run on the shipped serving stack vllm-0.x" in default.error_band.basis) == rerun
    assert ("no serving row is re-run on it" in default.error_band.basis) != rerun
    assert "re-run on the default serving stack" not in default.error_band.basis


def test_tensorrt_llm_asked_on_amd_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "llama3-8b", "--system", "mi300x", "--gpus", "1", "--rate", "1", "--requests", "20",
                          "--input-len", "100", "--output-len", "10", "--stack", "trtllm-0.x"])
    out, err = capsys.readouterr()
    assert code == 2 and not out and err.count("\n") == 1
    assert "TensorRT-LLM" in err and "not for mi300x (AMD)" in err and "with no stack named it runs vllm-0.x" in err


def test_fleet_and_plan_searches_take_the_same_default() -> None:
    """`fleet-mix` and `plan` size an LLM pool through serve-plan's search (`fleet_mix_llm.serve_plan_search`) with the
    service's stack, None when it names none: the part's vendor's stack, as `serve` and `serve-plan`."""
    got = serve_plan_search("llama3-8b", "mi300x", 2.0, "chat", None, None, ("bf16",), None, (None, 0, None, False), 8)
    assert got.stack == "vllm-0.x" and got.notes[0].startswith("no stack named: priced on vllm-0.x")
