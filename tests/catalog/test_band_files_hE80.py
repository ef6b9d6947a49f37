"""hE80: the error-band residuals are stored one file a section (`catalog/band_residuals/`, listed by
`catalog/error_bands.yaml`) and a question reads only the files that can hold its rows; every band and basis is the
one file's of every row (the form before), read by the YAML parser."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from types import SimpleNamespace

import pytest

from infraplan.catalog import error_band_rows as rows_module
from infraplan.catalog import error_bands as eb
from infraplan.catalog.error_band_rows import BAND_FOLDER, CASE_SETTINGS, DEFAULT_SETTINGS, section_file
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.validation import bands
from infraplan.validation.bands import HEADER, error_band_files, stored_error_band_files, write_band_files

CATALOG = resources.files("infraplan.catalog")


def _writer_key(r: Residual) -> tuple[str, ...]:
    return (r.kind, r.metric, r.settings, r.family, r.stack, r.id)


@pytest.fixture(scope="module")
def one_file_rows() -> tuple[Residual, ...]:
    """Every stored row as the one file before hE80 held them (its header, `residuals:`, the writer's rows in the
    writer's order), read by the YAML parser: independent of the sections and of the fast reader."""
    folder = CATALOG / BAND_FOLDER
    rows = [row for entry in folder.iterdir() for row in safe_load_yaml(entry.read_text())["residuals"]]
    residuals = [Residual(id=r[0], family=r[1], stack=r[2], kind=r[3], residual=r[4], campaign=r[5], metric=r[6],
                          settings=r[7] if len(r) > 7 else CASE_SETTINGS) for r in rows]
    body = "".join(bands.residuals_text(residuals).partition("residuals:\n")[1:])
    parsed = safe_load_yaml(HEADER + body)["residuals"]
    assert len(parsed) == len(rows) > 10_000
    return tuple(Residual(id=r[0], family=r[1], stack=r[2], kind=r[3], residual=r[4], campaign=r[5], metric=r[6],
                          settings=r[7] if len(r) > 7 else CASE_SETTINGS) for r in parsed)


def test_every_read_is_the_one_files_rows_in_its_order(one_file_rows: tuple[Residual, ...]) -> None:
    assert eb.load_residuals() == one_file_rows
    for kind in ("training", "serving", "recsys", "network", "facility", "video"):
        for settings in (None, CASE_SETTINGS, DEFAULT_SETTINGS):
            for stack in (None, "trtllm", "vllm", "sglang", "megatron"):
                assert eb.load_residuals(kind, settings, stack) == tuple(
                    r for r in one_file_rows if r.kind == kind and settings in (None, r.settings)
                    and stack in (None, r.stack)), (kind, settings, stack)


def test_every_band_and_basis_is_the_one_files(one_file_rows: tuple[Residual, ...]) -> None:
    """Bit for bit: the bands from the sections' rows (each question its own files) against the bands of every row
    of the one file; training, serving (both metrics, every shipped profile, a configured engine, a stack file's
    name) and the infrastructure kinds, on validated families and not."""
    questions = [("training", "throughput"), ("serving", "throughput"), ("serving", "ttft"), ("recsys", "throughput"),
                 ("network", "busbw"), ("facility", "it_power"), ("facility", "job_mttf"), ("facility", "cost")]
    stacks = (None, "nemo-26.04", "torchtitan", "trtllm-0.x", "vllm-0.x", "sglang-0.x", "trtllm", "vllm", "nccl",
              "none")
    for kind, metric in questions:
        by_kind = tuple(r for r in one_file_rows if r.kind == kind)  # the rule filters by kind first: same band
        for accelerator in ("h100-sxm", "h200", "b200", "gb200", "a100-80gb", "mi300x", "mi355x"):
            for stack in stacks:
                stored = eb.stored_band_and_basis(accelerator, stack, kind, metric)
                assert stored == eb.band_and_basis(accelerator, stack, kind, metric, by_kind), (accelerator, stack,
                                                                                                 kind, metric)
    default = eb.stored_band_and_basis("h100-sxm", None, "serving", "ttft")[0]
    assert default is not None and "re-run on the default serving stack" in default.basis


def test_each_file_holds_the_rows_its_name_says_and_the_index_lists_them() -> None:
    stored = stored_error_band_files()
    index = safe_load_yaml(stored.pop("error_bands.yaml"))
    counts = {}
    for path, text in stored.items():
        name = path.removeprefix(f"{BAND_FOLDER}/")
        rows = eb.written_rows(text)
        assert rows is not None and rows, name  # every shipped file reads without the YAML parser
        assert {section_file(r[3], r[7] if len(r) > 7 else CASE_SETTINGS, r[2]) for r in rows} == {name}
        counts[name] = len(rows)
    assert index["files"] == counts and len(counts) >= 8 and "serving.default.trtllm.yaml" in counts
    assert index["source"] and all(f'source: "{bands.SOURCE}"' in text for text in stored.values())


def test_the_stored_files_are_the_writers_form_of_their_rows() -> None:
    """What `test_stored_error_bands_are_current` compares (the files against the writer's text), on the stored
    rows instead of recomputed ones: the format is the writer's, whatever the physics (~0.3 s, not ~110 s)."""
    assert error_band_files(list(eb.load_residuals())) == stored_error_band_files()


def _row(i: int, kind: str, stack: str, settings: str = CASE_SETTINGS, metric: str = "throughput") -> Residual:
    return Residual(id=f"c{i:02d}", family="hopper", stack=stack, kind=kind, residual=i / 100, campaign=f"p{i % 3}",
                    metric=metric, settings=settings)


HAND = [_row(1, "training", "megatron"), _row(2, "training", "megatron", DEFAULT_SETTINGS),
        _row(3, "serving", "trtllm"), _row(4, "serving", "vllm", metric="ttft"),
        _row(5, "serving", "trtllm", DEFAULT_SETTINGS), _row(6, "serving", "vllm", DEFAULT_SETTINGS, "ttft"),
        _row(7, "network", "nccl", metric="busbw"), _row(0, "serving", "sglang", DEFAULT_SETTINGS)]


@pytest.fixture
def catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A catalog folder of its own for the error-band reader (caches cleared before and after)."""
    monkeypatch.setattr(eb, "resources", SimpleNamespace(files=lambda package: tmp_path))
    eb.load_residuals.cache_clear()
    yield tmp_path
    eb.load_residuals.cache_clear()  # the shipped files again for the tests after this one


def test_the_writer_writes_one_file_a_section_and_removes_the_others(catalog: Path) -> None:
    (catalog / BAND_FOLDER).mkdir()
    (catalog / BAND_FOLDER / "serving.default.tpu.yaml").write_text("# a section no row is in any more\n")
    index = write_band_files(catalog, HAND)
    assert index == catalog / "error_bands.yaml"
    names = sorted(p.name for p in (catalog / BAND_FOLDER).iterdir())
    assert names == ["network.yaml", "serving.default.sglang.yaml", "serving.default.trtllm.yaml",
                     "serving.default.vllm.yaml", "serving.yaml", "training.default.megatron.yaml", "training.yaml"]
    assert stored_error_band_files(catalog) == error_band_files(HAND)
    assert eb.load_residuals() == tuple(sorted(HAND, key=_writer_key))  # merged across files in the writer's order
    assert [r.id for r in eb.load_residuals("serving")] == ["c03", "c00", "c05", "c04", "c06"]


def test_a_question_reads_only_the_files_that_can_hold_its_rows(catalog: Path) -> None:
    """The file's name decides which questions read it (`section_file`); a file named otherwise holds any row: a
    training row put in a serving section is not a training question's, one in `extra.rows.yaml` is every one's."""
    write_band_files(catalog, HAND)
    folder = catalog / BAND_FOLDER
    stray = '  - [x1, hopper, megatron, training, 0.5000, "p", throughput]\n'
    trtllm = folder / "serving.default.trtllm.yaml"
    trtllm.write_text(trtllm.read_text() + stray)
    assert [r.id for r in eb.load_residuals("training")] == ["c01", "c02"]
    assert "x1" in {r.id for r in eb.load_residuals()}  # the full read has it (a test holds names and rows together)
    (folder / "extra.rows.yaml").write_text(f"# hand\nresiduals:\n{stray.replace('x1', 'x2')}")
    eb.load_residuals.cache_clear()
    assert [r.id for r in eb.load_residuals("training", CASE_SETTINGS)] == ["c01", "x2"]
    assert [r.id for r in eb.load_residuals("serving", DEFAULT_SETTINGS, "vllm")] == ["c06"]
    for name, asked, reads in [("training.yaml", ("training", DEFAULT_SETTINGS, None), False),
                               ("training.yaml", ("training", CASE_SETTINGS, "torchtitan"), True),
                               ("serving.default.vllm.yaml", ("serving", DEFAULT_SETTINGS, "trtllm"), False),
                               ("serving.default.vllm.yaml", ("serving", None, None), True),
                               ("serving.default.vllm.yaml", (None, DEFAULT_SETTINGS, "vllm"), True),
                               ("serving.yaml", ("training", None, None), False), ("a.b.yaml", ("x", "y", "z"), True)]:
        assert rows_module._may_hold(name, *asked) is reads, (name, asked)


def test_a_file_not_in_the_writers_form_goes_to_the_yaml_parser_alone(catalog: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write_band_files(catalog, HAND)
    serving = catalog / BAND_FOLDER / "serving.yaml"
    serving.write_text(serving.read_text().replace("  - [c03,", "  - [ c03,"))  # YAML's spacing: the same row
    parsed: list[str] = []
    real = rows_module.safe_load_yaml
    monkeypatch.setattr(rows_module, "safe_load_yaml", lambda text: parsed.append(text) or real(text))
    assert eb.load_residuals() == tuple(sorted(HAND, key=_writer_key)) and len(parsed) == 1
    assert "[ c03," in parsed[0]


def test_a_source_line_is_the_writers_and_reads_without_the_parser() -> None:
    row = '  - [H001, hopper, megatron, training, -0.1239, "Llama 3 paper", throughput]\n'
    text = f'# c\nsource: "validation sets, release 1"\nresiduals:\n{row}'
    assert eb.written_rows(text) == [("H001", "hopper", "megatron", "training", -0.1239, "Llama 3 paper",
                                      "throughput")]
    assert safe_load_yaml(text)["source"] == "validation sets, release 1"
    assert bands.residuals_text(HAND[:1], "a hand row").count("\nsource: ") == 1


def _full_recursion_band(values: list[float], campaigns: list[str]) -> tuple[float, float] | None:
    """`campaign_band` as it was before hE80: every column of the Poisson-binomial table updated per campaign."""
    import math

    import numpy as np

    groups: dict[str, list[float]] = {}
    for value, campaign in zip(values, campaigns, strict=True):
        groups.setdefault(campaign, []).append(float(value))
    k = len(groups)
    k_lo, k_hi = math.floor(0.1 * (k + 1)), math.ceil(0.9 * (k + 1))
    if k_lo < 1 or k_hi > k:
        return None
    grid = np.unique(np.asarray(values, dtype=float))
    count = np.zeros((grid.size, k + 1))
    count[:, 0] = 1.0
    for members in groups.values():
        below = np.searchsorted(np.sort(members), grid, side="right") / len(members)
        count[:, 1:] = count[:, 1:] * (1.0 - below)[:, None] + count[:, :-1] * below[:, None]
        count[:, 0] *= 1.0 - below
    ends = [float(np.sum(grid * np.diff(count[:, rank:].sum(axis=1), prepend=0.0))) for rank in (k_lo, k_hi)]
    return ends[0], ends[1]


def test_the_band_skips_only_columns_that_are_still_zero() -> None:
    """hE80's `campaign_band` leaves the table's columns beyond the draws made so far (exactly 0.0) untouched: the
    same floats as the full recursion, bit for bit, on seeded pools of 9-60 campaigns with ties and lone cases."""
    import numpy as np

    rng = np.random.default_rng(80)
    for trial in range(40):
        k = int(rng.integers(9, 61))
        sizes = rng.integers(1, 40, size=k)
        values = [round(float(v), 4 if trial % 2 else 2) for v in rng.normal(0.0, 0.2, size=int(sizes.sum()))]
        campaigns = [f"c{i}" for i, n in enumerate(sizes) for _ in range(int(n))]
        order = rng.permutation(len(values))  # campaigns interleaved, as a file's rows are
        values, campaigns = [values[i] for i in order], [campaigns[i] for i in order]
        assert eb.campaign_band(values, campaigns) == _full_recursion_band(values, campaigns), trial
    assert eb.campaign_band([0.1] * 8, [f"c{i}" for i in range(8)]) is None  # K = 8: no band, as before
