"""`campus` says which plan its Llama-3-405B runs are counted with and why (hG52, session 47): the paper's plan on
every accelerator, where `search` finds a faster one (hU61: GB200 281 tokens/s per GPU where search found 513). The
note's search command runs, and is faster, as the note says."""

from __future__ import annotations

import json
import shlex

import pytest

from infraplan.cli import main
from infraplan.planning.campus import REFERENCE_RUN_PLAN, training_capacity


# the `--system` the runs are priced on: H100's reference system holds the 16,384-GPU job (hC69: `--system h100-sxm`
# builds a generic non-blocking Clos, not the fabric the runs are priced on); GB200's NVL72 preset holds 9,216
@pytest.mark.parametrize(("part", "system"), [("gb200", "gb200"), ("h100-sxm", "meta-genai-roce-24k")])
def test_the_note_names_the_papers_plan_and_a_search_that_beats_it(part: str, system: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cap = training_capacity(part, 20_000)
    assert cap.available and cap.tokens_per_s_per_gpu is not None
    (note,) = [n for n in cap.notes if n.startswith("runs counted with the Llama 3 paper's plan")]
    assert REFERENCE_RUN_PLAN in note and "the one plan published and measured at this job size" in note
    command = note.split("`")[1]
    assert command.startswith(f"infraplan search llama3-405b --system {system} --gpus")
    capsys.readouterr()
    assert main([*shlex.split(command)[1:], "--json"]) == 0
    best = json.loads(capsys.readouterr().out)["best"]
    if part == "gb200":  # "a larger scale-up domain (an NVL72 rack) ... runs it faster under a searched plan"
        assert best["tokens_per_s_per_gpu"] > cap.tokens_per_s_per_gpu
    else:  # H100: search ranks under Hopper's published-MFU ceiling (Megatron-LM README's 47 % since session 56;
        # Llama 3's 43 % before, which the paper's plan passed): its best is within it, and within a few per cent of
        # the paper's plan (176.3 against 170.9 tokens/s per GPU at session 56: the same NVLink domain, the same format)
        assert not best["beyond_published_mfu"]
        assert 0.9 * cap.tokens_per_s_per_gpu < best["tokens_per_s_per_gpu"] < 1.1 * cap.tokens_per_s_per_gpu
