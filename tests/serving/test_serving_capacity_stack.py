"""`serve-plan --stack`: the serving stack's KV-memory rule sizes the capacity search; its offline batch default does
not cap the batch caps searched (hS77)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.serving.capacity import search_capacity

VLLM_YAML = Path(__file__).parents[2] / "src/infraplan/catalog/stacks/vllm-0.x.yaml"
KW = dict(input_len=2048, output_len=256, ttft_slo=5.0, tpot_slo=0.1, dtypes=("bf16",), batch_caps=(64,),
          requests=300, disaggregation=False, max_gpus=128)


def _variant(tmp_path: Path, name: str, old: str, new: str) -> str:
    text = VLLM_YAML.read_text()
    assert old in text
    path = tmp_path / f"{name}.yaml"
    path.write_text(text.replace(old, new))
    return str(path)


def _gpus(stack: str | None, rate: float = 4.0, **kw: object) -> tuple[int, int, str | None]:
    r = search_capacity("llama3-70b", "dgx-h100-superpod", rate, stack=stack, **{**KW, **kw})  # type: ignore[arg-type]
    assert r.feasible and r.gpus is not None and r.deployment is not None
    return r.gpus, r.deployment.max_batch, r.stack


def test_the_default_stack_is_stated_and_the_shipped_ones_run() -> None:
    assert _gpus(None) == _gpus("trtllm-0.x")
    assert _gpus(None)[2] == "trtllm-0.x" and _gpus("vllm-0.12.0")[2] == "vllm-0.x"
    # SGLang's static pool (0.85 of the total at TP4, weights inside it) holds fewer 8k-token requests than
    # TensorRT-LLM's 0.9 of the memory left after the weights: more replicas at the same rate, once the requests
    # live long enough for the KV cache to bind (6k prompts, 2k outputs: Llama 3 70B's whole 8k context; ~50
    # concurrent per replica)
    long = dict(input_len=6144, output_len=2048)
    assert _gpus("sglang-0.x", 3.0, **long)[0] > _gpus("trtllm-0.x", 3.0, **long)[0]


def test_a_smaller_kv_memory_share_needs_more_replicas(tmp_path: Path) -> None:
    tight = _variant(tmp_path, "vllm-tight-kv", "kv_memory_fraction: 0.9", "kv_memory_fraction: 0.55")
    base, small = _gpus("vllm-0.x"), _gpus(tight)
    assert small[2] == "vllm-tight-kv"
    assert small[0] > base[0] and small[1] == base[1] == 64


def test_the_stacks_offline_batch_is_a_default_not_a_cap_on_the_caps_searched(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's offline_max_batch is `serve`'s batch default offline, not a limit: `serve --max-batch 64` runs 64
    on it, and so does the search asked the cap 64 (hS77); before, it searched 8 and needed more replicas
    (`capacity.STACK_BATCH_LIMIT` restores that)."""
    from infraplan.serving import capacity

    small_default = _variant(tmp_path, "vllm-batch-8", "offline_max_batch: 1024", "offline_max_batch: 8")
    base, asked = _gpus("vllm-0.x"), _gpus(small_default)
    assert asked[1] == base[1] == 64 and asked[0] == base[0]
    monkeypatch.setattr(capacity, "STACK_BATCH_LIMIT", True)
    capped = _gpus(small_default)
    assert capped[1] == 8 and capped[0] > base[0]


def test_a_training_or_unknown_stack_is_refused() -> None:
    with pytest.raises(InputError, match="unknown serving stack 'nope'"):
        search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, stack="nope", **KW)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="without a `serving:` block"):
        search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, stack="nemo-24.12", **KW)  # type: ignore[arg-type]


ARGS = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "2", "--input-len", "1024",
        "--output-len", "128", "--ttft-slo", "2", "--tpot-slo", "0.1", "--dtypes", "bf16", "--max-batch", "64",
        "--requests", "200", "--no-disaggregation"]


def test_cli_states_the_stack_and_a_bad_name_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--stack", "sglang-0.x", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stack"] == "sglang-0.x" and out["deployment"]["engine"] == "sglang"
    assert main([*ARGS, "--stack", "no-such-stack"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "no-such-stack" in lines[0], captured.err
