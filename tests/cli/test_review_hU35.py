"""hU (session 35) review of the non-training commands: one clear line for a CPU training job's reliability and
readable labels for bad recsys / video / location files."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main as cli_main


def _one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli_main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip().count("\n") == 0
    return err


def test_reliability_refuses_a_cpu_as_train_does(capsys: pytest.CaptureFixture[str]) -> None:
    """It priced 16 Xeon sockets as a Llama 3 405B training job (a 5.17 TiB checkpoint, `faulty_gpu` failures)."""
    err = _one_line_error(["reliability", "--system", "xeon-8480", "--gpus", "16", "--days", "54"], capsys)
    assert "xeon-8480 is a CPU" in err and "needs an accelerator" in err
    assert cli_main(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--days", "54",
                     "--json"]) == 0


@pytest.mark.parametrize(("argv", "label", "text"), [
    (["recsys", "{f}", "--accelerator", "mtia-v2"], "invalid recsys model", ""),  # was "invalid recsysmodel"
    (["video", "--device", "{f}"], "invalid video device", "kind: video-asic\n"),  # was "invalid videoasic"
    (["facility", "--accelerator", "h100-sxm", "--count", "8", "--location", "{f}"], "invalid location file", ""),
    (["reliability", "--system", "meta-genai-roce-24k", "--gpus", "8", "--failure-rate", "{f}"],
     "invalid failure-rate file", ""),  # was "invalid failurerate"
])
def test_bad_files_are_named_in_words(argv: list[str], label: str, text: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text + "bogus_field: 1\n")
    err = _one_line_error([a.replace("{f}", str(f)) for a in argv], capsys)
    assert label in err, err


def test_stack_file_with_an_unknown_scheduler_is_one_line(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A serving stack YAML with `scheduler: lifo` ended `serve` in a ValueError traceback."""
    import infraplan

    stack = (Path(infraplan.__file__).parent / "catalog" / "stacks" / "vllm-0.x.yaml").read_text()
    f = tmp_path / "lifo.yaml"
    f.write_text(stack.replace("scheduler: fcfs", "scheduler: lifo"))
    err = _one_line_error(["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--rate", "5",
                           "--input-len", "500", "--output-len", "100", "--requests", "50", "--stack", str(f)], capsys)
    assert "unknown scheduler 'lifo'" in err and "fcfs" in err


def test_a_config_sliding_every_layer_serves_and_says_so(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Mistral 7B v0.1's config.json (`sliding_window` 4096, every layer) ended `serve` in a ZeroDivisionError."""
    import json

    config = {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
              "intermediate_size": 14336, "max_position_embeddings": 32768, "num_attention_heads": 32,
              "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
              "sliding_window": 4096, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 32000,
              "hidden_act": "silu"}
    f = tmp_path / "mistral-7b.json"
    f.write_text(json.dumps(config))
    assert cli_main(["serve", str(f), "--system", "h100-sxm", "--gpus", "1", "--offline", "--input-len", "2000",
                     "--output-len", "200", "--requests", "50", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["deployment"]["kv_cache_tokens_per_replica"] > 100_000
    assert any("every layer of mistral-7b slides (4,096 keys)" in w for w in result["warnings"])
