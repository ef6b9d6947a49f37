"""The training page's "Search plans" sends the DSA stage the form holds (hI62 found it sent none; hC62 added it):
the body the page builds for `/api/search` carries `dsa_stage` from the form's select, as the estimate's does, and
the API takes it (`SearchRequest.dsa_stage`)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from infraplan.web.requests import SearchRequest, TrainRequest


def _search_body_builder(page: str) -> str:
    """The JS that builds the search's body (`IP.wire(form, ... "run-search" ...)`, up to the next statement)."""
    start = page.index('IP.wire(form, document.getElementById("run-search")')
    return page[start:page.index("});", start)]


def test_the_search_button_sends_the_forms_dsa_stage(client: TestClient) -> None:
    page = client.get("/train").text
    select = re.search(r"<select name=\"dsa_stage\">(.*?)</select>", page)
    assert select is not None and re.findall(r"<option[^>]*>(\w+)</option>", select.group(1)) == ["sparse", "warmup"]
    body = _search_body_builder(page)
    assert re.search(r"\bdsa_stage: b\.dsa_stage\b", body), body  # (the form's value, `b`: the estimate's body)
    for request in (SearchRequest, TrainRequest):
        assert request.model_fields["dsa_stage"].default == "sparse"
    assert SearchRequest.model_validate({"model": "deepseek-v3.2", "system": "h800", "gpus": [128], "seq_len": 4096,
                                         "global_batch": 16, "dsa_stage": "warmup"}).dsa_stage == "warmup"
