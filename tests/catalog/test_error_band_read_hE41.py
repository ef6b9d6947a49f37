"""hE41: a process reads and validates only the error-band rows its answers can use (`load_residuals(kind,
settings)`, `stored_residuals`), with the same bands and bases as the full read, and a file not in the writer's
form still goes to the YAML parser whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import TypeAdapter

from infraplan.catalog import error_band_rows as rows_module
from infraplan.catalog import error_bands as eb
from infraplan.catalog.error_band_rows import BAND_FOLDER
from infraplan.catalog.error_bands import CASE_SETTINGS, DEFAULT_SETTINGS, Residual
from infraplan.validation.bands import residuals_text


@pytest.fixture(scope="module")
def rows() -> list[Residual]:
    """The shipped residuals but the serving rows re-run on the default stack, every serving throughput row also re-run
    on the default stack (+0.3: bands apart), none of TTFT (so a default answer's TTFT band falls back to the
    rows as measured), and a network row whose metric column reads `default` (seven columns: its settings are
    the case's) and campaign `, training, `."""
    shipped = [r for r in eb.load_residuals() if not (r.kind == "serving" and r.settings == DEFAULT_SETTINGS)]
    rerun = [r.model_copy(update={"settings": DEFAULT_SETTINGS, "residual": r.residual + 0.3, "stack": "trtllm"})
             for r in shipped if (r.kind, r.metric, r.settings) == ("serving", "throughput", CASE_SETTINGS)]
    odd = Residual(id="n9", family="hopper", stack="nccl", kind="network", residual=0.01, campaign="x, training, y",
                   metric=DEFAULT_SETTINGS)
    assert rerun
    return [*shipped, *rerun, odd]


@pytest.fixture
def band_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Point the error-band reader at one file holding the given text (caches cleared): named as no section is
    (hE80: `error_band_rows._may_hold`), so every question reads it, as it read the one file before."""

    def use(text: str) -> None:
        (tmp_path / BAND_FOLDER).mkdir(exist_ok=True)
        (tmp_path / BAND_FOLDER / "all.rows.yaml").write_text(text)
        eb.load_residuals.cache_clear()
        eb.stored_band_and_basis.cache_clear()

    monkeypatch.setattr(eb, "resources", SimpleNamespace(files=lambda package: tmp_path))
    yield use
    eb.load_residuals.cache_clear()  # the shipped file again for the tests after this one
    eb.stored_band_and_basis.cache_clear()


def test_a_kind_read_is_the_full_reads_rows_of_that_kind(rows: list[Residual],
                                                         band_file: Callable[[str], None]) -> None:
    band_file(residuals_text(rows))
    full = eb.load_residuals()
    assert len(full) == len(rows)
    for kind in sorted({r.kind for r in full}) + ["video"]:
        for settings in (None, CASE_SETTINGS, DEFAULT_SETTINGS):
            read = eb.load_residuals(kind, settings)
            assert read == tuple(r for r in full if r.kind == kind and settings in (None, r.settings)), (kind, settings)
    assert len(eb.load_residuals("serving", DEFAULT_SETTINGS)) == sum(
        r.kind == "serving" and r.settings == DEFAULT_SETTINGS for r in rows) > 0
    assert [r.settings for r in eb.load_residuals("network") if r.metric == DEFAULT_SETTINGS] == [CASE_SETTINGS]
    assert eb.load_residuals("training", DEFAULT_SETTINGS) and eb.load_residuals("video") == ()


def test_an_answer_validates_only_the_rows_it_can_use(rows: list[Residual], band_file: Callable[[str], None],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A default `serve` answer the serving rows re-run on the default stack, a default `train` answer the training
    rows re-run on it, a `--stack vllm-0.x` answer the rows re-run on vllm-0.x, else the serving rows as measured
    (hV45): never the other kinds'. Since hS (session 51) the bands read the rows unvalidated (`ResidualRow`s of
    `error_band_rows.residual_rows`, each file in the writer's form): the rows read are counted there, and none is
    validated."""
    band_file(residuals_text(rows))
    rows_read: list[int] = []  # the rows each read returns

    class Counting:
        def __init__(self, kind: Any) -> None:
            self.adapter = TypeAdapter(kind)

        def validate_python(self, found: list[dict[str, Any]], **options: Any) -> Any:
            raise AssertionError(f"{len(found)} rows validated")

    def counted(*asked: Any) -> list[rows_module.ResidualRow] | None:
        found = read(*asked)
        rows_read.append(-1 if found is None else len(found))
        return found

    read = rows_module.residual_rows
    monkeypatch.setattr(eb, "TypeAdapter", Counting)
    monkeypatch.setattr(rows_module, "residual_rows", counted)

    def count(kind: str, settings: str | None = None) -> int:
        return sum(r.kind == kind and settings in (None, r.settings) for r in rows)

    eb.stored_band_and_basis("h100-sxm", None, "serving", "throughput")
    assert rows_read == [count("serving", DEFAULT_SETTINGS)]
    eb.stored_band_and_basis("h100-sxm", None, "training", "throughput")
    assert rows_read[1:] == [count("training", DEFAULT_SETTINGS)]
    eb.stored_band_and_basis("h100-sxm", "vllm-0.x", "serving", "ttft")
    # its own re-runs (none here), then the rows as measured (the default stack's re-runs, for the basis, read above)
    assert rows_read[2:] == [0, count("serving", CASE_SETTINGS)] and max(rows_read) < len(rows)


def test_the_stored_bands_and_bases_are_the_full_reads(rows: list[Residual],
                                                        band_file: Callable[[str], None]) -> None:
    band_file(residuals_text(rows))
    full = eb.load_residuals()
    questions = [("training", "throughput"), ("serving", "throughput"), ("serving", "ttft"),
                 ("recsys", "throughput"), ("network", "busbw"), ("facility", "it_power"), ("facility", "job_mttf"),
                 ("facility", "cost"), ("facility", "pue"), ("video", "throughput")]
    stacks = (None, "nemo-26.04", "megatron-core-0.8", "trtllm-0.x", "vllm-0.x", "tensorrt", "nccl", "none")
    defaults = 0
    for kind, metric in questions:
        for accelerator in ("h100-sxm", "gb200", "a100-80gb", "mi300x", "mtia-v2", "tpu-v5p"):
            for stack in stacks:
                stored = eb.stored_band_and_basis(accelerator, stack, kind, metric)
                assert stored == eb.band_and_basis(accelerator, stack, kind, metric, full), (accelerator, stack, kind)
                defaults += stored[0] is not None and "re-run on the default" in stored[0].basis
    assert defaults >= 2 * 6  # default training and serving throughput answers: the re-run rows' bands


def test_a_line_not_in_the_writers_form_sends_every_kind_to_the_yaml_parser(
        rows: list[Residual], band_file: Callable[[str], None]) -> None:
    """A serving row whose single-quoted campaign runs over three lines swallows a training-form line: YAML reads
    one serving row, so the training read (which a line-by-line skip of other kinds would give a row `t9`) must
    not have it."""
    text = residuals_text(rows)
    swallowed = ("  - [s9, hopper, trtllm, serving, 0.1000, 'a\n"
                 '  - [t9, hopper, megatron, training, 0.2000, "x", throughput]\n'
                 "  b', throughput]\n")
    band_file(text + swallowed)
    assert eb.written_rows(text) is not None and eb.written_rows(text + swallowed, "training") is None
    training = eb.load_residuals("training")
    assert training == tuple(r for r in eb.load_residuals() if r.kind == "training") and training
    assert "t9" not in {r.id for r in training}
    s9 = [r for r in eb.load_residuals("serving") if r.id == "s9"]
    assert len(s9) == 1 and "t9" in s9[0].campaign and s9[0].settings == CASE_SETTINGS
    # a kept kind's own row in another form (YAML's spacing): read by the YAML parser, as the full read has it
    spaced = text.replace("  - [", "  - [ ", 1)
    band_file(spaced)
    assert eb.written_rows(spaced, "facility") is None
    assert eb.load_residuals("facility") == tuple(r for r in eb.load_residuals() if r.kind == "facility")


def test_the_form_check_accepts_the_lines_the_reader_reads(rows: list[Residual]) -> None:
    """A file's rows are read by one findall of `_WRITTEN_LINES` (hE80), whose count of matches says whether every
    line is a row: it matches exactly the lines `_WRITTEN_ROW` reads, the writer's and near misses alike, each
    match one whole line."""
    good = residuals_text(rows).partition("\nresiduals:\n")[2].splitlines()
    row = '  - [s1, hopper, trtllm, serving, 0.1000, "c", throughput'
    near = [f"{row}]", f"{row}, default]", f"{row}, case]", f"{row}, default, x]", f"{row}] ", f" {row}]",
            row.replace("0.1000", "1e3") + "]", row.replace("0.1000", "-0.5") + "]", row.replace('"c"', '""') + "]",
            row.replace('"c"', '"c\\"d"') + "]", row.replace('"c"', '"c\\d"') + "]", row.replace('"c"', "c") + "]",
            row.replace("s1", "-s") + "]",
            row.replace("hopper", "hop per") + "]", row.replace("0.1000", "1.") + "]", row.replace("s1", "") + "]"]
    for line in good + near:
        read, match = rows_module._WRITTEN_LINES.findall(line + "\n"), rows_module._WRITTEN_ROW.fullmatch(line)
        assert read == ([match.groups("")] if match else []), line
    assert sum(bool(rows_module._WRITTEN_ROW.fullmatch(line)) for line in near) == 4 and len(good) == len(rows)
    # two near misses on one line each side of a good one: one match, not three lines
    assert len(rows_module._WRITTEN_LINES.findall(f"{near[4]}\n{near[0]}\n{near[5]}\n")) == 1
