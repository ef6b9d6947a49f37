"""A demanding user's review (helper hU, validation/notes/product_review_tried.md): sizes the config reader fills in
by itself are said, a TTFT SLO no deployment can meet says why, a run is whole steps, a sweep runs only typed
functions. Each finding's test failed before its fix (`test_no_shipped_config_relies_on_a_filled_in_size` guards the
new warning against the shipped configs)."""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

import pytest

from infraplan.catalog import list_presets, load_model
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.serving.capacity import search_capacity


def _preset(name: str) -> dict[str, Any]:
    return dict(json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text()))


def _without(config: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in keys}


def test_a_config_without_its_ffn_width_says_the_width_priced() -> None:
    """A Llama config without `intermediate_size` was priced at 4 x hidden (16,384 for Llama 3 8B's 4,096: 8.84 B
    parameters instead of 8.03 B; transformers' LlamaConfig would take 11,008) without a word."""
    with pytest.warns(ModelConfigWarning, match="no intermediate_size: the FFN priced at 4 x hidden_size = 16,384"):
        shape = shape_from_hf_config(_without(_preset("llama3-8b"), "intermediate_size"), "no-ffn")
    assert shape.ffn_hidden_size == 16384  # the value said, unchanged


def test_a_config_without_its_vocabulary_says_the_vocabulary_priced() -> None:
    with pytest.warns(ModelConfigWarning, match="no vocab_size: priced with 32,000 tokens"):
        shape = shape_from_hf_config(_without(_preset("llama3-8b"), "vocab_size"), "no-vocab")
    assert shape.vocab_size == 32000


def test_an_moe_family_without_experts_or_top_k_says_how_it_was_priced() -> None:
    """`model_type: mixtral` without `num_local_experts` was priced as a dense model, and an MoE config without
    `num_experts_per_tok` routed each token through one expert, silently (transformers' MixtralConfig defaults to 8
    experts, top-2)."""
    mixtral = _preset("mixtral-8x7b")
    with pytest.warns(ModelConfigWarning, match="model_type mixtral without an expert count.*priced as a dense model"):
        dense = shape_from_hf_config(_without(mixtral, "num_local_experts"), "no-experts")
    assert dense.num_experts == 1
    with pytest.warns(ModelConfigWarning, match="no num_experts_per_tok: each token priced through 1 expert"):
        top1 = shape_from_hf_config(_without(mixtral, "num_experts_per_tok"), "no-top-k")
    assert top1.num_experts == 8 and top1.experts_per_token == 1


@pytest.mark.parametrize("name", list_presets("models"))
def test_no_shipped_config_relies_on_a_filled_in_size(name: str) -> None:
    """GPT-2, BLOOM and Falcon configs state no FFN width: 4 x hidden is their architecture, not a default."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        shape_from_hf_config(_preset(name), name)
    load_model(name)


def test_a_ttft_slo_under_the_front_end_names_the_front_end_not_more_gpus(cli) -> None:
    """`serve-plan ... --system h100-sxm --ttft-slo 50ms` answered "no deployment within 8 accelerators meets the
    SLOs (... --max-gpus N searches N of them)": more accelerators cannot help, every online TTFT carries the
    stack's 0.08 s front end."""
    result = search_capacity("llama3-8b", "h100-sxm", 1.0, workload="chat", ttft_slo=0.05)
    assert not result.feasible
    assert result.why.startswith("the TTFT SLO 0.05 s is not above the 0.08 s front end trtllm-0.x adds")
    assert "no deployment of any size or load meets it" in result.why and "--max-gpus" not in result.why
    code, out, err = cli(["serve-plan", "llama3-8b", "--system", "h100-sxm", "--rate", "1", "--workload", "chat",
                          "--ttft-slo", "50ms"])
    assert code == 0, err
    assert "80 ms front end trtllm-0.x adds" in " ".join(out.split()) and "--max-gpus" not in out
    above = search_capacity("llama3-8b", "h100-sxm", 1.0, workload="chat", ttft_slo=0.5)
    assert above.feasible  # an SLO above the front end is searched as before


def test_a_run_shorter_than_one_step_is_refused_in_one_line(cli) -> None:
    """`train ... --global-batch 8 --seq-len 4096 --tokens 1.5` answered a run of 1.5 tokens ($0.0000000665, a
    wall clock of a 1/21,845 step with MTTF, checkpoints and goodput); a run trains whole steps."""
    base = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "4096",
            "--global-batch", "8"]
    code, out, err = cli([*base, "--tokens", "1.5"])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    assert "--tokens 1.5 is less than one step's 32,768 tokens (global batch 8 x sequence 4,096)" in err
    code, out, err = cli([*base, "--tokens", "32768", "--json"])
    assert code == 0, err
    assert json.loads(out)["tokens"] == 32768


def test_serve_says_the_front_end_binds_as_serve_plan_does(cli) -> None:
    """`serve ... --ttft-slo 50ms` warned "overloaded at this load, or the SLO is out of reach" at 1 request/s on one
    H100: the SLO is under the 0.08 s front end every online TTFT carries (serve-plan now says the same)."""
    code, out, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "1",
                          "--workload", "chat", "--requests", "200", "--ttft-slo", "50ms", "--json"])
    assert code == 0, err
    (line,) = json.loads(out)["warnings"]
    assert "the TTFT SLO 0.05 s is not above the 0.08 s front end trtllm-0.x adds" in line and "overloaded" not in line
    code, out, err = cli(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--rate", "1",
                          "--workload", "chat", "--requests", "200", "--tpot-slo", "50us", "--json"])
    assert code == 0, err
    assert json.loads(out)["warnings"] == ["only 0.0 % of requests meet the SLO (< 50 %): overloaded at this load, "
                                           "or the SLO is out of reach"]  # a TPOT out of reach: as before


def test_a_sweep_spec_cannot_run_a_function_that_declares_no_typed_result(cli, tmp_path) -> None:
    """`function: os:system` with `fixed: {command: "touch FILE"}` ran the shell command for every point and was refused
    only afterwards ("os:system returned int, not an infraplan Result"), with the folder written. The open registry
    now takes a function only when it is annotated to return an infraplan Result, checked before anything runs."""
    marker = tmp_path / "ran"
    spec = tmp_path / "spec.yaml"
    spec.write_text(f'function: os:system\nfixed: {{command: "touch {marker}"}}\naxes: []\n')
    code, out, err = cli(["sweep", str(spec), "--out", str(tmp_path / "out")])
    assert code == 2 and not out.strip() and err.count("\n") == 1
    assert "sweep function 'os:system' does not declare a typed result" in err
    assert not marker.exists() and not (tmp_path / "out").exists()
