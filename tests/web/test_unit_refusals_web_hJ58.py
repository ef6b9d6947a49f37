"""hJ58: the web's refusals of a quantity or a patterned field in words, not a regex (hD58's walk: campus power "-1GW"
was "String should match pattern '^[0-9][0-9._]*(e[0-9]+)?[ ]?[A-Za-z]*$'", serve tp "-2", collective size "-1",
phases "x" the same); a quantity's refusal is the CLI reader's line (units.py) and a TTFT SLO of 1e308 is not offered
"1e308ms". Each failed before (checked on the base tree)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("path", "body", "wanted"), [
    ("/api/campus", {"accelerator": "gb200", "power": "-1GW"}, "invalid power: '-1GW' is negative; expected a power "
                                                               "such as 1GW"),
    ("/api/campus", {"accelerator": "gb200", "power": "1GW", "phases": "x"}, "invalid phases: cannot read 'x'; "
                                                                             "expected build-out, YEAR:SHARE, e.g. "
                                                                             "2026:0.3,2027:0.7"),
    ("/api/serve", {"model": "llama3-8b", "system": "h100-sxm", "gpus": 1, "rate": 1, "tp": "-2"},
     "invalid tp: cannot read '-2'; expected tensor parallel degree, or 'auto'"),
    ("/api/collective", {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 8, "size": "-1"},
     "invalid size: '-1' is negative; expected a size such as 80GiB"),
    ("/api/reliability", {"system": "dgx-h100-superpod", "gpus": 1024, "checkpoint_size": "1,5TB"},
     "invalid checkpoint_size: cannot read quantity '1,5TB': did you mean 1.5TB?"),
    ("/api/train", {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "seq_len": 4096,
                    "global_batch": 64, "tokens": "nanT"}, "invalid tokens: 'nanT' is not a finite number"),
    ("/api/serve", {"model": "llama3-8b", "system": "h100-sxm", "gpus": 1, "rate": 1, "ttft_slo": 1e308},
     "and 1e+308ms would be 1e+305 s"),
])
def test_the_web_refuses_in_words_not_a_regex(client, path: str, body: dict[str, object], wanted: str) -> None:
    response = client.post(path, json=body)
    detail = response.json()["detail"]
    assert response.status_code == 422 and wanted in detail and "pattern" not in detail, detail
