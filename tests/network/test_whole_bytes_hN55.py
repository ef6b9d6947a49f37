"""hN55: `collective --bytes` is a whole number of bytes per rank (a message is NCCL's count x type size; a chunk
of fewer bytes than ranks is empty, never a fraction). `--bytes 1.5` priced a 1.5-byte all-reduce and `2.2KiB`
2,252.8 bytes; both are refused in one line, exit 2, on the CLI and the web API (HTTP 400, the same line), while a
decimal prefix that lands on whole bytes (0.3KB = 300) is taken. Fails on bca011f (exit 0, 200)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.cli import main
from infraplan.web.app import create_app

ARGS = ["collective", "all-reduce", "--system", "dgx-h100-superpod", "--gpus", "8", "--json", "--bytes"]


@pytest.mark.parametrize(("size", "said"), [("1.5", "got 1.5 bytes: 1 or 2"),
                                            ("2.2KiB", "got 2,252.8 bytes: 2,252 or 2,253")])
def test_a_fraction_of_a_byte_is_one_line_exit_2(capsys, size, said):
    code = main([*ARGS, size])
    out, err = capsys.readouterr()
    assert code == 2 and not out
    assert err.strip().splitlines() == [f"infraplan: error: --bytes must be a whole number of bytes per rank, {said}"]


def test_whole_bytes_written_with_a_decimal_prefix_are_taken(capsys):
    code = main([*ARGS, "0.3KB"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert '"size_bytes": 300.0' in out


def test_the_web_collective_refuses_the_same_line():
    client = TestClient(create_app())
    body = {"op": "all-reduce", "system": "dgx-h100-superpod", "gpus": 8}
    response = client.post("/api/collective", json={**body, "size": "1.5"})
    assert response.status_code == 400, response.text
    assert "--bytes must be a whole number of bytes per rank, got 1.5 bytes: 1 or 2" in response.text
    assert client.post("/api/collective", json={**body, "size": "4096"}).status_code == 200
