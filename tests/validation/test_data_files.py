"""The one reader of the packaged validation data files (`catalog.data_files.validation_rows`)."""

from importlib import resources

import pytest

from infraplan.catalog.data_files import validation_rows

DATA = resources.files("infraplan.validation") / "data"
# every CSV the reader serves (vtrain_single_node.csv is read positionally in validation.sets: its header is `# GPUs`)
READ_BY_HEADER = sorted(p.name for p in DATA.iterdir()
                        if p.name.endswith(".csv") and p.name != "vtrain_single_node.csv")


@pytest.mark.parametrize("name", READ_BY_HEADER)
def test_each_file_carries_a_source_and_reads_without_its_comment_lines(name: str) -> None:
    lines = DATA.joinpath(name).read_text("utf-8").splitlines()
    assert lines[0].startswith("# source:")
    data_lines = [line for line in lines if not line.startswith("#")]
    rows = validation_rows(name)
    assert len(rows) == len(data_lines) - 1  # the first non-comment line is the header
    header = data_lines[0].split(",")
    assert all(list(row) == header for row in rows)
    assert all(value is not None for row in rows for value in row.values())  # no row shorter than the header
    assert not any(key.startswith("#") for key in header)


def test_crlf_lines_read_as_lf() -> None:
    """`serving_measured_hopper.csv` has CRLF line ends: no value keeps a carriage return."""
    assert b"\r\n" in DATA.joinpath("serving_measured_hopper.csv").read_bytes()
    rows = validation_rows("serving_measured_hopper.csv")
    assert rows and not any("\r" in v for row in rows for v in row.values())
