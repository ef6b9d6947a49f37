"""serve-plan searches what `serve` runs (hK46, session 45): a KV-cache dtype (`--kv-dtype`), MTP / speculative
drafts given (`--speculative-tokens`, `--acceptance`) or searched (`--try-speculative`, `serving.capacity_space`),
and its error band flagged for length as `serve`'s is (the full run's mean prompt + output, hU59)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json, serve_of_its_command

from infraplan.catalog.stacks import load_stack
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.serving.capacity import search_capacity
from infraplan.serving.replica_search import option_rank


def test_fp8_kv_needs_no_more_accelerators_than_bf16_kv() -> None:
    """Same model, weights, SLO and load: an fp8 cache holds twice the tokens per byte and reads half the bytes a
    decode step, so no layout that meets the SLO with bf16 KV misses it with fp8 (Llama 3 70B chat at 20 requests/s
    on H100, bf16 weights: TP4 x 4 with bf16 KV, TP2 x 8 with fp8, 16 each; fp8's 14 as TP2 x 7 was accepted on a
    2,100-request run until session 48, and misses at the 10,520 its settling horizon now asks: TTFT p99 3.26 s)."""
    kw = {"workload": "chat", "dtypes": ("bf16",)}
    bf16 = search_capacity("llama3-70b", "dgx-h100-superpod", 20.0, kv_dtype="bf16", **kw)  # type: ignore[arg-type]
    fp8 = search_capacity("llama3-70b", "dgx-h100-superpod", 20.0, kv_dtype="fp8", **kw)  # type: ignore[arg-type]
    assert bf16.deployment is not None and fp8.deployment is not None
    assert (bf16.deployment.kv_dtype, fp8.deployment.kv_dtype) == ("bf16", "fp8")
    assert fp8.gpus is not None and bf16.gpus is not None and fp8.gpus <= bf16.gpus
    assert fp8.deployment.tp < bf16.deployment.tp  # the fp8 cache fits a smaller replica


def test_no_kv_dtype_is_each_weight_dtypes_default_as_serve() -> None:
    """Without --kv-dtype the search takes serve's default (bf16 weights: bf16 KV), so the answer is the one given
    --kv-dtype bf16 (the same probes, the same replicas)."""
    kw = {"input_len": 200, "output_len": 50, "ttft_slo": 2.0, "tpot_slo": 0.2, "dtypes": ("bf16",), "max_gpus": 8}
    plain = search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, **kw)  # type: ignore[arg-type]
    given = search_capacity("llama3-8b", "dgx-h100-superpod", 5.0, kv_dtype="bf16", **kw)  # type: ignore[arg-type]
    assert plain.deployment is not None and plain.deployment.kv_dtype == "bf16"
    assert plain.model_dump() == given.model_dump()


@pytest.mark.parametrize("flags", [
    "--speculative-tokens 1 --acceptance 0.8",  # drafts as given (Llama: serve's one-layer draft of its own shape)
    "--kv-dtype fp8 --dtypes bf16",  # fp8 KV under bf16 weights
])
def test_the_answer_is_serves_verdict_at_its_layout(flags: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The same question two ways: serve of the answer's `serve_command` (which carries the drafts and the KV dtype)
    gives the plan's figures, percentiles, SLO attainment and both error bands."""
    plan = cli_json(capsys, ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "10",
                             "--workload", "chat", *shlex.split(flags)])
    assert plan["feasible"] and plan["meets_slo_full_run"]
    d = plan["deployment"]
    if "--speculative-tokens" in flags:
        assert (d["speculative_tokens"], d["acceptance"]) == (1, 0.8) and d["tokens_per_step"] == pytest.approx(1.8)
    else:
        assert (d["dtype"], d["kv_dtype"]) == ("bf16", "fp8")
    assert serve_of_its_command(capsys, plan)["stack"] == plan["stack"]


def test_try_speculative_chooses_mtp_where_it_saves_accelerators() -> None:
    """DeepSeek-R1 chat at 40 requests/s on H200 under a 30 ms TPOT SLO: one MTP draft token a step (1.85 tokens
    at acceptance 0.85) lets a replica run larger batches within the SLO, so the search with MTP needs fewer
    accelerators than without; the answer says it chose MTP and runs it."""
    kw = {"workload": "chat", "dtypes": ("fp8",), "tpot_slo": 0.03}
    plain = search_capacity("deepseek-r1", "hgx-h200", 40.0, **kw)  # type: ignore[arg-type]
    tried = search_capacity("deepseek-r1", "hgx-h200", 40.0, try_speculative=True, **kw)  # type: ignore[arg-type]
    assert plain.deployment is not None and plain.deployment.speculative_tokens == 0
    assert tried.deployment is not None and tried.gpus is not None and plain.gpus is not None
    assert tried.gpus < plain.gpus
    assert (tried.deployment.speculative_tokens, tried.deployment.acceptance) == (1, 0.85)
    assert any("MTP chosen" in n for n in tried.notes)
    assert tried.serve_command is not None and "--speculative-tokens 1 --acceptance 0.85" in tried.serve_command


def test_try_speculative_keeps_plain_decoding_on_a_tie() -> None:
    """Where MTP saves no accelerator (DeepSeek-V3 fp8 at 8 requests/s fits one 8-GPU H200 node either way), the
    answer is plain decoding's, and says so."""
    kw = {"input_len": 1000, "output_len": 2000, "ttft_slo": 3.0, "tpot_slo": 0.1, "dtypes": ("fp8",)}
    plain = search_capacity("deepseek-v3", "hgx-h200", 8.0, **kw)  # type: ignore[arg-type]
    tried = search_capacity("deepseek-v3", "hgx-h200", 8.0, try_speculative=True, **kw)  # type: ignore[arg-type]
    assert tried.gpus == plain.gpus and tried.deployment is not None and tried.deployment.speculative_tokens == 0
    assert any("plain decoding chosen" in n for n in tried.notes)


def test_option_rank_puts_plain_decoding_first_at_equal_accelerators() -> None:
    base = {"gpus": 8, "disaggregated": False, "attention_dp": 1, "tp": 8, "max_batch": 64}
    mtp = {**base, "tp": 1, "max_batch": 256, "speculative_tokens": 1}  # better on every later key
    assert sorted([mtp, base], key=option_rank)[0] is base
    assert sorted([{**base, "gpus": 16}, mtp], key=option_rank)[0] is mtp


@pytest.mark.parametrize(("args", "words"), [
    ("llama3-8b --try-speculative", "has none"),  # no MTP module
    ("deepseek-r1 --try-speculative --speculative-tokens 2 --acceptance 0.8", "not both"),
    ("deepseek-r1 --speculative-tokens 1", "needs --acceptance"),
    ("deepseek-r1 --acceptance 0.9", "needs --speculative-tokens N or --try-speculative"),
    ("llama3-8b --kv-dtype int8 --stack vllm-0.x", "has no int8 KV cache"),  # the engine's formats (its YAML)
    ("llama3-8b --kv-dtype fp4", "fp4"),  # not a KV dtype
])
def test_bad_combinations_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: str, words: str) -> None:
    code = main(["serve-plan", *shlex.split(args), "--system", "hgx-h200", "--rate", "1", "--workload", "chat"])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err + out


def test_a_stack_without_speculative_decoding_refuses_mtp(tmp_path: Path) -> None:
    """A user's stack YAML that says its engine runs no drafts (`speculative_decoding: false`) is refused with
    --try-speculative, where the shipped TensorRT-LLM profile it copies runs them."""
    shipped = load_stack("trtllm-0.x")
    assert shipped.serving is not None and shipped.serving.speculative_decoding is True
    src = Path(__file__).parents[2] / "src/infraplan/catalog/stacks/trtllm-0.x.yaml"
    data = yaml.safe_load(src.read_text())
    data["serving"]["speculative_decoding"] = False
    mine = tmp_path / "no-drafts.yaml"
    mine.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="runs no speculative decoding"):
        search_capacity("deepseek-r1", "hgx-h200", 1.0, workload="chat", try_speculative=True, stack=str(mine))


def test_the_band_is_flagged_beyond_the_validated_lengths_as_serves(capsys: pytest.CaptureFixture[str]) -> None:
    """A 20,000-token prompt is beyond the longest case behind the serving band (catalog/validated_lengths.yaml):
    serve-plan's bands say so, as serve's do for the same run (they were not flagged: no length passed)."""
    plan = search_capacity("llama3.1-8b", "hgx-h200", 0.5, input_len=20000, output_len=100, ttft_slo=10.0,
                           tpot_slo=0.2, dtypes=("bf16",), max_gpus=8)
    assert plan.error_band is not None and plan.ttft_error_band is not None
    assert "outside the validated lengths" in plan.error_band.basis
    assert "outside the validated lengths" in plan.ttft_error_band.basis
    assert plan.serve_command is not None
    served = cli_json(capsys, shlex.split(plan.serve_command)[1:])
    assert served["error_band"] == plan.error_band.model_dump(mode="json")
    assert served["ttft_error_band"] == plan.ttft_error_band.model_dump(mode="json")
    short = search_capacity("llama3.1-8b", "hgx-h200", 0.5, input_len=2000, output_len=100, ttft_slo=10.0,
                            tpot_slo=0.2, dtypes=("bf16",), max_gpus=8)
    assert short.error_band is not None and "outside the validated lengths" not in short.error_band.basis
