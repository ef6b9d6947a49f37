"""The one reader of the packaged CSV files (`catalog.data_files.read_rows`): the network layer's NCCL /
AIConfigurator tables under `catalog/nccl/`, and the validation data through `validation_rows`."""

from importlib import resources

import pytest

from infraplan.catalog.data_files import read_rows, validation_rows

NCCL = resources.files("infraplan.catalog") / "nccl"
TABLES = sorted(p.name for p in NCCL.iterdir() if p.name.endswith(".csv"))


def test_every_network_table_is_served() -> None:
    assert len(TABLES) >= 11 and any(n.startswith("simai_") for n in TABLES)


@pytest.mark.parametrize("name", TABLES)
def test_each_table_carries_a_source_and_reads_in_header_order_without_its_comment_lines(name: str) -> None:
    lines = NCCL.joinpath(name).read_text("utf-8").splitlines()
    assert lines[0].startswith("# source:")
    data_lines = [line for line in lines if line and not line.startswith("#")]
    rows = read_rows("infraplan.catalog", "nccl", name)
    assert len(rows) == len(data_lines) - 1  # the first non-comment line is the header
    header = data_lines[0].split(",")
    assert len(set(header)) == len(header)  # no column hides another
    assert all(list(row) == header for row in rows)
    assert [list(row.values()) for row in rows] == [line.split(",") for line in data_lines[1:]]  # text as written


def test_the_validation_reader_is_this_reader_on_its_folder() -> None:
    name = "frontier_training.csv"
    assert validation_rows(name) == read_rows("infraplan.validation", "data", name)
