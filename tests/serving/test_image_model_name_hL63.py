"""An empty model name is refused on the image path as on the LLM path (hL63's walk).

`serve "" --workload image-generation` ran the workload's own diffusion model (sd-v1.5-512) without a word, while
`serve "" --input-len ...` said "unknown model ''" and the web's request refuses an empty model (422). Only an absent
model (a plan service without one, `None`) or the word `default` takes the workload's."""

from __future__ import annotations

import pytest

from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.serving.serving_api import estimate_serving

IMAGE = ["--system", "dgx-h100-superpod", "--gpus", "1", "--workload", "image-generation", "--rate", "2",
         "--requests", "20"]


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_image_model_is_one_line_and_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", name, *IMAGE]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown diffusion model" in err and "sd-v1.5-512" in err


def test_the_api_refuses_an_empty_image_model_and_keeps_the_workloads_default() -> None:
    with pytest.raises(InputError, match="unknown diffusion model ''"):
        estimate_serving("", "dgx-h100-superpod", 1, workload="image-generation", rate=2.0, requests=20)
    named = estimate_serving("sd-v1.5-512", "dgx-h100-superpod", 1, workload="image-generation", rate=2.0,
                             requests=20)
    default = estimate_serving("default", "dgx-h100-superpod", 1, workload="image-generation", rate=2.0,
                               requests=20)
    assert default.model == named.model == "sd-v1.5-512"
    assert default.latency_s == named.latency_s
