"""hC's review of the web API (session 33): an uploaded scenario holding an integer longer than Python converts
(4,300 digits) was a 500 `internal error (ValueError)` on the web and a traceback from `infraplan plan FILE`; both
now give the loader's one line (a 400 and exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main

BIG = "9" * 5000


@pytest.mark.parametrize(("filename", "text"), [("mine.yaml", f"name: {BIG}\n"), ("mine.json", f'{{"name": {BIG}}}'),
                                                ("mine.yaml", f"name: t\nphases: [{{year: {BIG}}}]\n")])
def test_an_uploaded_scenario_with_a_huge_integer_is_one_line_400_as_the_cli_refuses_it(
        client: TestClient, capsys: pytest.CaptureFixture[str], tmp_path: Path, filename: str, text: str) -> None:
    response = client.post("/api/plan", json={"scenario": {"text": text, "filename": filename}})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail == (f"malformed file {filename}: Exceeds the limit (4300 digits) for integer string conversion: "
                      "value has 5000 digits")
    path = tmp_path / filename
    path.write_text(text)
    capsys.readouterr()
    assert cli_main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Exceeds the limit (4300 digits)" in err and "Traceback" not in err
    compare = client.post("/api/compare", json={"scenarios": [{"preset": "plan-minimal"},
                                                              {"text": text, "filename": filename}]})
    assert compare.status_code == 400 and compare.json()["detail"] == detail
