"""An image-generation answer says its part's figures' standing and stated use, as an LLM answer on the part does.

hH66's walk: `serve sd-v1.5-512 --system mtia-400 --workload image-generation` answered with no word that MTIA 400's
figures are SECONDARY press summaries (`serve llama3-70b --system mtia-400 --stack vllm-0.x` says so, as recsys,
train and fleet-mix do), Rubin's none that they are PRELIMINARY, and MTIA v2's none that its source describes it
for ranking and recommendation, not generative-AI, inference (`catalog.figures`).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.serving.serving_api import estimate_serving


def _image_warnings(system: str) -> list[str]:
    answer = estimate_serving("sd-v1.5-512", system, 1, workload="image-generation", rate=1.0, requests=50)
    return list(answer.warnings)


@pytest.mark.parametrize("part", ["mtia-300", "mtia-400", "mtia-450", "mtia-v2", "rubin"])
def test_secondary_or_preliminary_part_says_so(part: str) -> None:
    note = load_accelerator(part).figures_note
    assert note.startswith(("SECONDARY figures", "PRELIMINARY figures"))
    assert f"{part}: {note}" in _image_warnings(part)


def test_a_part_described_for_ranking_says_image_generation_is_not_its_stated_use() -> None:
    lines = [w for w in _image_warnings("mtia-v2") if "is described by its source for" in w]
    assert lines == ["mtia-v2 is described by its source for ranking and recommendation inference; generative-AI "
                     "inference on it is priced with the same kernel and memory models as on any accelerator, none "
                     "of them measured on this part"]


def test_the_same_standing_line_as_the_llm_answer_on_the_part() -> None:
    llm = estimate_serving("llama3-8b", "mtia-400", 1, workload="chat", rate=1.0, requests=20, stack="vllm-0.x")
    standing = [w for w in llm.warnings if w.startswith("mtia-400: SECONDARY figures")]
    assert standing and standing[0] in _image_warnings("mtia-400")


def test_a_datasheet_part_for_its_stated_work_has_no_such_line() -> None:
    assert not [w for w in _image_warnings("h100-sxm") if "figures" in w or "described by its source" in w]
