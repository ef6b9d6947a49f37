"""Review of session 55's training options (hI55): hostile `--eval-every` / `--eval-samples` text and `--lora-targets`
without `--lora-rank`.

Before this change `--eval-every ''` was an IndexError traceback (exit 1), `--eval-every '12 steps extra'` read as
12 *sequences* in silence (the unit word dropped), and `--lora-targets all` without `--lora-rank` priced a full
fine-tune in silence (exit 0, every weight trained): each test below failed (checked on the snapshot before the
fix)."""

from __future__ import annotations

import pytest
from tests.cli.conftest import CliRun

from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.evaluation import read_sequences

TRAIN = ["train", "llama2-7b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "2", "--seq-len", "4096",
         "--global-batch", "64", "--micro-batch", "1"]


@pytest.mark.parametrize(("text", "sequences"), [("12 steps", 12 * 64), ("12 STEPS", 12 * 64), ("24576", 24576),
                                                 ("8192 tokens", 2), ("3 samples", 3)])
def test_a_count_and_one_unit_word(text: str, sequences: int) -> None:
    assert read_sequences(text, "--eval-every", 4096, 64) == sequences


@pytest.mark.parametrize("text", ["", "   ", "12 steps extra", "steps", "12 steps tokens"])
def test_text_that_is_no_count_and_unit_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="--eval-every takes a count"):
        read_sequences(text, "--eval-every", 4096, 64)


@pytest.mark.parametrize("every", ["", "12 steps extra"])
def test_cli_eval_every_hostile_text_is_one_line(cli: CliRun, every: str) -> None:
    code, out, err = cli([*TRAIN, "--tokens", "1e9", "--eval-every", every, "--eval-samples", "5"])
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "--eval-every takes a count" in err


@pytest.mark.parametrize("command", [TRAIN, ["search", "llama2-7b", "--system", "dgx-h100-superpod", "--gpus", "8",
                                             "--seq-len", "4096", "--global-batch", "64"]])
@pytest.mark.parametrize("targets", ["all", "attention"])
def test_lora_targets_without_a_rank_is_refused(cli: CliRun, command: list[str], targets: str) -> None:
    code, out, err = cli([*command, "--lora-targets", targets])
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "--lora-targets needs --lora-rank" in err


def test_lora_targets_default_to_attention() -> None:
    """The targets' default moved from the option to `frozen_base.lora_of`: the same adapters as before."""
    plan = dict(tp=2, seq_len=4096, global_batch=64, micro_batch=1)
    given = estimate_training("llama2-7b", "dgx-h100-superpod", 8, lora_rank=16, lora_targets="attention", **plan)
    left = estimate_training("llama2-7b", "dgx-h100-superpod", 8, lora_rank=16, **plan)
    assert left.lora_targets == "attention" and left.step_time_s == given.step_time_s
    assert left.trainable_params_count == given.trainable_params_count
    with pytest.raises(InputError, match="needs --lora-rank"):  # the library (the web's runner) refuses it too
        estimate_training("llama2-7b", "dgx-h100-superpod", 8, lora_targets="all", **plan)


def test_rail_only_on_a_partial_pod_compares_the_clos_of_its_whole_pods(cli: CliRun) -> None:
    """`network --fabric rail-only --gpus 4096` on the Llama 3 RoCE cluster: the rail-only fabric builds for 4,096
    GPUs (rails have no pod), but its Clos comparison was built at 4,096 and refused the partial 3,072-GPU pod (exit
    2, 'not a multiple of the 3,072-GPU pod domain'). Now the Clos compared is its whole pods' (hN55's rule): the
    6,144-GPU Clos `network --gpus 6144` builds, and a note says so."""
    import json

    code, out, err = cli(["network", "--system", "meta-genai-roce-24k", "--gpus", "4096", "--fabric", "rail-only",
                          "--json"])
    assert code == 0, err
    rail = json.loads(out)
    code, out, err = cli(["network", "--system", "meta-genai-roce-24k", "--gpus", "6144", "--json"])
    clos = json.loads(out)
    assert rail["rail_only"] and rail["gpus"] == rail["fabric_gpus_count"] == 4096
    assert rail["clos_switches_count"] == clos["switches_total"]
    # hB66: the Clos's NIC links for the 4,096 GPUs' servers only (2,048 copper DAC of $150 fewer, links.yaml)
    assert rail["clos_capex_usd"] == pytest.approx(clos["capex_usd"] - 2048 * 150.0, rel=1e-12)
    assert rail["switches_total"] < rail["clos_switches_count"]
    assert any(n.startswith("the Clos compared (clos_*): 4,096 GPUs end in a partial 3,072-GPU pod") for n in
               rail["notes"])
