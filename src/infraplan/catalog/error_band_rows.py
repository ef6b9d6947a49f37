"""The error-band rows (`validation.bands.residuals_text`), read without the YAML parser, and only the files a
question can use. The rows are in `catalog/band_residuals/` (`BAND_FOLDER`), one file per section
(`section_file`): `<kind>.yaml` holds the kind's rows on the settings each case's measurement ran, `<kind>.default.
<stack class>.yaml` its rows re-run on a default stack of that class (`catalog/error_bands.yaml` lists them); a
process reads the files its answers can use (`residual_fields`: a default `serve` answer the 3,927 rows re-run on
trtllm-0.x, ~0.7 MB, not the 15,800 of every file, 2.8 MB; hE80). Each file is one flow list per line, each read as
YAML reads it (`written_rows`; a file with any line not in this form goes to the YAML parser, that file alone). A
residual's `settings`: `case` (the case as its measurement ran) or `default` (re-run on the default stack), the
eighth column. A band reads the rows as `ResidualRow`s (`residual_rows`: the fields the form has already typed, no
pydantic model built; hS, session 51), a file not in the form as validated `Residual`s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.abc import Traversable
from typing import Any, NamedTuple

import yaml

from infraplan.catalog.yaml_text import NO_BASE_60_RESOLVERS, safe_load_yaml

CASE_SETTINGS, DEFAULT_SETTINGS = "case", "default"  # a residual's `settings` (error_bands docstring, "Default stack")
BAND_FOLDER = "band_residuals"  # under the catalog package: the rows' files (`section_file`)

# One row exactly as `validation.bands.residuals_text` writes it: plain scalars of ASCII word characters, a residual
# with a decimal point, the campaign double-quoted without escapes or control characters, and `default` as an eighth
# column on a case re-run on the default stack. The `residuals` list of
# such lines reads ~10x faster than through the YAML parser (~100 ms of CPU, a fifth of a `train` process).
_PLAIN = r"[0-9A-Za-z_][0-9A-Za-z_.+/-]*"
_CAMPAIGN = r'[^"\\\x00-\x1f\x7f-\x9f\ufffe\uffff]*'


def _row_form(plain: str, residual: str, campaign: str, settings: str) -> str:
    return rf'  - \[{plain}, {plain}, {plain}, {plain}, {residual}, "{campaign}", {plain}{settings}\]'


_WRITTEN_ROW = re.compile(_row_form(f"({_PLAIN})", r"(-?[0-9]+\.[0-9]+)", f"({_CAMPAIGN})",
                                    f"(?:, ({DEFAULT_SETTINGS}))?"))
# the same row as a whole line of a file's `residuals:` list (no column holds a line break: a match is one line), so
# one findall reads every row of a file and the count of matches says whether every line is one (hE80: 4.5 ms for a
# file of 3,927 rows in a fresh process, where a fullmatch a line took 6.5)
_WRITTEN_LINES = re.compile(f"^{_WRITTEN_ROW.pattern}$", re.MULTILINE)
_YAML_STR = "tag:yaml.org,2002:str"
# the one line a file may hold between its comments and `residuals:`: its source, double-quoted without escapes
_SOURCE_LINE = re.compile(f'source: "{_CAMPAIGN}"')


def _yaml_reads_as_str(token: str) -> bool:
    """Whether YAML's implicit resolver (the product reader's, `_ProductResolver`) reads a plain scalar as a
    string: not `yes`, `null`, `123`, `1.5e+3`, `1e3`, `2026-01-01`, ... (`1e3`: a float, as YAML 1.2 reads it)"""
    return bool(_RESOLVER.resolve(yaml.ScalarNode, token, (True, False)) == _YAML_STR)


class _ProductResolver(yaml.resolver.Resolver):
    """The resolver of the product's reader (`catalog.yaml_text`: no YAML 1.1 base-60 numbers)."""

    yaml_implicit_resolvers = NO_BASE_60_RESOLVERS


_RESOLVER = _ProductResolver()


class ResidualRow(NamedTuple):
    """A stored residual read in the writer's form (`residual_rows`): `catalog.error_bands.Residual`'s fields, each
    the str or float that model validates strictly to itself (the form has checked every one), and its `group`;
    no pydantic model built (hS, session 51: 3,927 rows 1.5 against 7 ms with their dicts and validation)."""

    id: str
    family: str
    stack: str
    kind: str
    residual: float
    campaign: str
    metric: str
    settings: str

    @property
    def group(self) -> str:
        return self.campaign or self.id


WrittenRow = tuple[str, str, str, str, float, str, str] | tuple[str, str, str, str, float, str, str, str]


def written_rows(text: str, kind: str | None = None, settings: str | None = None,
                 stack: str | None = None) -> list[WrittenRow] | None:
    """The rows of an error-band file in the writer's own format (comment lines and at most one `source:` line,
    `residuals:`, one flow list per line, each read as YAML reads it: seven columns, or eight with the settings),
    of `kind`, priced on `settings` and of stack class `stack` only where given; None when any line is not in that
    form (or a kept row's plain scalar is not a string to YAML), so the caller parses the YAML. Every line is
    checked for the form."""
    columns = _written_columns(text, kind, settings, stack)
    return None if columns is None else [
        (case, family, row_stack, row_kind, float(residual), campaign, metric, row_settings) if row_settings else
        (case, family, row_stack, row_kind, float(residual), campaign, metric)
        for case, family, row_stack, row_kind, residual, campaign, metric, row_settings in columns]


def _written_columns(text: str, kind: str | None, settings: str | None,
                     stack: str | None) -> list[tuple[str, ...]] | None:
    """`written_rows`' rows as the text's eight columns (the residual unread, the settings '' on a case's own row)."""
    head, found, body = text.partition("\nresiduals:\n")
    kept = [line for line in head.split("\n") if not line.startswith("#")]  # one `source:` line at most
    if not found or not body.endswith("\n") or len(kept) > 1 or any(_SOURCE_LINE.fullmatch(k) is None for k in kept):
        return None
    every = _WRITTEN_LINES.findall(body)
    if len(every) != body.count("\n"):  # a line not in the form
        return None
    asked = every if kind is None and settings is None and stack is None else [
        g for g in every if (kind is None or g[3] == kind) and (stack is None or g[2] == stack)
        and (settings is None or (g[7] or CASE_SETTINGS) == settings)]
    # the plain scalars: each row's id, and the few distinct (family, stack, kind, metric) of all
    plain = {g[0] for g in asked}.union(*{(g[1], g[2], g[3], g[6]) for g in asked})
    return asked if all(_yaml_reads_as_str(token) for token in plain) else None


def section_file(kind: str, settings: str, stack: str) -> str:
    """The file of `BAND_FOLDER` a row of `kind` priced on `settings` of stack class `stack` is written to: the
    kind's rows as measured together, the re-runs one file per stack class (the unit an answer reads)."""
    return f"{kind}.yaml" if settings == CASE_SETTINGS else f"{kind}.{settings}.{stack}.yaml"


def _may_hold(name: str, kind: str | None, settings: str | None, stack: str | None) -> bool:
    """Whether the file `name` can hold rows of `kind`, `settings` and stack class `stack` (None: any), by the name
    `section_file` gives it; a `.yaml` file named otherwise may hold any row (read by every question)."""
    parts = name.removesuffix(".yaml").split(".")
    if len(parts) == 1:
        return kind in (None, parts[0]) and settings in (None, CASE_SETTINGS)
    if len(parts) == 3:
        return kind in (None, parts[0]) and settings in (None, parts[1]) and stack in (None, parts[2])
    return True


def _field_key(row: dict[str, Any]) -> tuple[str, ...]:
    """The writer's order (`validation.bands.residuals_text`): kind, metric, settings, family, stack, id."""
    return tuple(str(row[k]) for k in ("kind", "metric", "settings", "family", "stack", "id"))


def _row_key(row: ResidualRow) -> tuple[str, ...]:
    """`_field_key` of a row."""
    return row.kind, row.metric, row.settings, row.family, row.stack, row.id


def _entries(folder: Traversable, kind: str | None, settings: str | None, stack: str | None) -> Iterator[Traversable]:
    """The `.yaml` files of `folder` that can hold rows of `kind`, `settings` and stack class `stack`, by name."""
    if folder.is_dir():
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml") and _may_hold(entry.name, kind, settings, stack):
                yield entry


def residual_rows(folder: Traversable, kind: str | None = None, settings: str | None = None,
                  stack: str | None = None) -> list[ResidualRow] | None:
    """`residual_fields`' rows, in its order, as `ResidualRow`s where every file read is in the writer's form
    (`written_rows`); None where one is not (its fields go to the validator: `residual_fields`)."""
    found: list[list[ResidualRow]] = []
    new = tuple.__new__
    for entry in _entries(folder, kind, settings, stack):
        columns = _written_columns(entry.read_text(), kind, settings, stack)
        if columns is None:
            return None
        # tuple.__new__ of the eight fields in order: what `ResidualRow(...)` builds, without its Python `__new__`
        # frame a row (3,927 rows: 2.2 -> 1.5 ms)
        rows = [new(ResidualRow, (case, family, row_stack, row_kind, float(residual), campaign, metric,
                                  row_settings or CASE_SETTINGS))
                for case, family, row_stack, row_kind, residual, campaign, metric, row_settings in columns]
        if rows:
            found.append(rows)
    return found[0] if len(found) == 1 else sorted((row for rows in found for row in rows), key=_row_key)


def residual_fields(folder: Traversable, kind: str | None = None, settings: str | None = None,
                    stack: str | None = None) -> list[dict[str, Any]]:
    """The fields of each `catalog.error_bands.Residual` of `kind`, priced on `settings` and of stack class `stack`
    (None: any) in the files of `folder` that can hold them (`_may_hold`), each file read in the writer's form
    (`written_rows`) or, when any of its lines is not, by the YAML parser; rows of several files merged in the
    writer's order (one file's in its own), so a question's rows are the full read's rows of its kind, settings and
    class, in the full read's order."""
    found: list[list[dict[str, Any]]] = []
    for entry in _entries(folder, kind, settings, stack):
        text = entry.read_text()
        columns = _written_columns(text, kind, settings, stack)
        if columns is not None:  # straight to the fields: no row tuples between (3,927 rows: ~2 ms)
            fields = [{"id": g[0], "family": g[1], "stack": g[2], "kind": g[3], "residual": float(g[4]),
                       "campaign": g[5], "metric": g[6], "settings": g[7] or CASE_SETTINGS} for g in columns]
        else:  # not (only) the writer's row format: the YAML parser reads this file
            every = (safe_load_yaml(text) or {}).get("residuals") or []  # `residuals:` with no rows reads as None
            fields = [{"id": r[0], "family": r[1], "stack": r[2], "kind": r[3], "residual": float(r[4]),
                       "campaign": str(r[5]) if len(r) > 5 else "", "metric": str(r[6]) if len(r) > 6 else
                       "throughput", "settings": str(r[7]) if len(r) > 7 else CASE_SETTINGS} for r in every
                      if kind in (None, r[3]) and stack in (None, r[2])
                      and settings in (None, r[7] if len(r) > 7 else CASE_SETTINGS)]
        if fields:
            found.append(fields)
    return found[0] if len(found) == 1 else sorted((row for rows in found for row in rows), key=_field_key)
