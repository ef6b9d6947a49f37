"""hU52: (1) the reliability notes call the job's devices by their part's word (`Accelerator.device_word`: "per TPU",
"8 TPUs") and say "GPU" / "H100" only where they cite the measured source (Llama 3's 16,384 H100, the rate's 8-GPU
nodes, its rate per GPU, its GPU issues share); (2) a parameter given twice to `plan --vary` is refused in one line
naming it (it printed two tornado rows of one parameter)."""

from __future__ import annotations

import json
import re

import pytest
from tests.cli.conftest import CliRun

from infraplan.errors import InputError
from infraplan.planning.compare import tornado

# what the notes cite of the measured source (H100 / A100 GPUs): the only places "GPU" / "H100" may stand
SOURCE_PHRASES = (r"16,384 H100", r"\d+-GPU nodes?", r"rate per GPU", r"GPU issues", r"h100-sxm", r"a100-80gb",
                  r"llama3-h100", r"--gpus")


def _job_words(text: str) -> list[str]:
    """The "GPU" / "H100" left in `text` once the source's own phrases are taken out."""
    for phrase in SOURCE_PHRASES:
        text = re.sub(phrase, "", text)
    return re.findall(r"GPU|H100", text)


@pytest.mark.parametrize("rate", ["llama3-h100", "rsc-1"])
def test_reliability_notes_on_a_tpu_say_tpu(cli: CliRun, rate: str) -> None:
    code, out, err = cli(["reliability", "--system", "tpu-v5p", "--gpus", "1024", "--failure-rate", rate, "--json"])
    assert code == 0, err
    notes = json.loads(out)["notes"]
    borrowed = [n for n in notes if "no published failure rate of tpu-v5p" in n]
    assert len(borrowed) == 1 and "applied per TPU" in borrowed[0]  # was "h100-sxm's rate per GPU ... is used"
    assert [_job_words(n) for n in notes] == [[] for _ in notes]
    assert any("1,024 TPUs" in n for n in notes)
    gpu = json.loads(cli(["reliability", "--system", "h100-sxm", "--gpus", "1024", "--failure-rate", rate,
                          "--json"])[1])["notes"]
    assert not any("applied per" in n for n in gpu)  # a GPU job's own word needs no second one


def test_a_spare_tray_refusal_counts_the_parts_devices(cli: CliRun) -> None:
    code, _, err = cli(["reliability", "--system", "tpu-v5p", "--gpus", "1024", "--spare-trays-per-domain", "1"])
    assert code == 2 and "one server of 8 TPUs" in err and "GPU" not in err and "Traceback" not in err


def test_a_parameter_varied_twice_is_refused_naming_it(cli: CliRun) -> None:
    code, out, err = cli(["plan", "examples/plan-minimal.yaml", "--vary", "electricity=0.05/kWh..0.10/kWh",
                          "--vary", "pue=1.1..1.3", "--vary", "electricity=±10%", "--json"])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--vary electricity is given 2 times" in err
    with pytest.raises(InputError, match="--vary pue is given 2 times"):
        tornado("examples/plan-minimal.yaml", ["pue=1.1..1.3", "pue=1.2..1.4"])
    rows = tornado("examples/plan-minimal.yaml", ["electricity=0.05..0.10", "pue=1.1..1.3"])
    assert sorted(r.parameter for r in rows) == ["electricity", "pue"]  # one row each, as before
