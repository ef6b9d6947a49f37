"""hI64 mutation wave on the lead's aacfc231 (`sparse_decode.IndexerCalls.paged_draft_prompt`): SGLang's MTP draft
pass over the prompt is a DRAFT_EXTEND forward, which the NSA indexer serves on its paged (decode) path in both
releases counted: 0.5.6 nsa_indexer.py:881-888 and 0.5.9 :1070-1072. So each release's draft prompt pass is charged
its decode call's launches, not its prefill call's."""

from __future__ import annotations

import pytest

from infraplan.serving import sparse_decode


@pytest.mark.parametrize("release", ["sglang-0.5.6", "sglang-0.5.9"])
def test_sglangs_draft_prompt_pass_is_the_paged_call(release: str) -> None:
    calls = sparse_decode.indexer_calls("sglang", release)
    assert calls.paged_draft_prompt and calls.decode < calls.prefill
