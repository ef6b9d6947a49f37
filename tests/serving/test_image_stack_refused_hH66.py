"""`serve --workload image-generation --stack S` is refused as `plan` refuses an image service's `stack`.

hH66's walk: no serving stack prices an image (`serving.diffusion.diffusion_cost` reads none), so `serve sd-v1.5-512
--workload image-generation --system h100-sxm --gpus 1 --rate 1 --stack vllm-0.x` (or `--engine sglang`) answered the
same images/s as without it and named no stack, while `plan` refuses `{kind: image, stack: vllm-0.x}` ("an image
service does not read it") and a pool's stack where no LLM service runs.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.cli import main
from infraplan.web.app import create_app

IMAGE = ["serve", "sd-v1.5-512", "--workload", "image-generation", "--system", "h100-sxm", "--gpus", "1", "--rate",
         "1", "--requests", "50"]


@pytest.mark.parametrize(("extra", "flags"), [
    (["--stack", "vllm-0.x"], "--stack applies"),
    (["--stack", "sglang-0.x"], "--stack applies"),
    (["--engine", "sglang"], "--engine applies"),
    (["--stack", "vllm-0.x", "--engine", "vllm"], "--stack, --engine apply"),
])
def test_a_stack_for_an_image_run_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], extra: list[str],
                                                         flags: str) -> None:
    code = main([*IMAGE, *extra])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"{flags} to LLM serving; image generation takes" in err


def test_the_image_run_without_a_stack_still_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*IMAGE, "--json"]) == 0
    assert '"images_per_s"' in capsys.readouterr().out


def test_the_web_refuses_it_in_the_same_words() -> None:
    body = {"model": "sd-v1.5-512", "system": "h100-sxm", "gpus": 1, "workload": "image-generation", "rate": 1,
            "requests": 50, "stack": "vllm-0.x"}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        answer = client.post("/api/serve", json=body)
    assert 400 <= answer.status_code < 500, answer.text
    assert "--stack applies to LLM serving" in answer.text
