"""The error-band file's rows in the writer's own format (`validation.bands.residuals_text`), read without the YAML
parser: one flow list per line, each read as YAML reads it (`catalog.error_bands.load_residuals` falls back to the
YAML parser when any line is not in this form). A residual's `settings`: `case` (the case as its measurement ran)
or `default` (re-run on the default stack), the eighth column.
"""

from __future__ import annotations

import re

import yaml

CASE_SETTINGS, DEFAULT_SETTINGS = "case", "default"  # a residual's `settings` (error_bands docstring, "Default stack")

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
# the same form, checked without reading a row (another kind's): no groups, possessive (no token can give back a
# character the next needs, so it accepts the lines _WRITTEN_ROW does), ~0.6 against ~0.8 us a line
_WRITTEN_FORM = re.compile(_row_form(_PLAIN + "+", r"-?[0-9]++\.[0-9]++", _CAMPAIGN + "+",
                                     f"(?:, {DEFAULT_SETTINGS})?"))
_YAML_STR = "tag:yaml.org,2002:str"


def _yaml_reads_as_str(token: str) -> bool:
    """Whether YAML's implicit resolver (the safe loader's, yaml.resolver.Resolver) reads a plain scalar as a
    string: not `yes`, `null`, `123`, `1.5e+3`, `2026-01-01`, ... (`1e3` is a string to YAML 1.1)"""
    return bool(_RESOLVER.resolve(yaml.ScalarNode, token, (True, False)) == _YAML_STR)


_RESOLVER = yaml.resolver.Resolver()


WrittenRow = tuple[str, str, str, str, float, str, str] | tuple[str, str, str, str, float, str, str, str]


def written_rows(text: str, kind: str | None = None, settings: str | None = None,
                 stack: str | None = None) -> list[WrittenRow] | None:
    """The rows of an error-band file in the writer's own format (comment lines, `residuals:`, one flow list per
    line, each read as YAML reads it: seven columns, or eight with the settings), of `kind`, priced on `settings`
    and of stack class `stack` only where given; None when any line is not in that form (or a kept row's plain
    scalar is not a string to YAML), so the caller parses the YAML. The other lines are checked for the form, not
    read."""
    head, found, body = text.partition("\nresiduals:\n")
    if not found or not body.endswith("\n") or any(not line.startswith("#") for line in head.split("\n")):
        return None
    # prefilters (the match's own columns decide): `, kind, ` is in every line of that kind (`, stack, kind, ` in
    # every line of that stack class too), and `, default]` ends every line re-run on the default stack (and a
    # seven-column row whose metric reads `default`)
    key = f", {kind}, " if kind is not None else ""
    key = f", {stack}{key or ', '}" if stack is not None else key
    end = f", {DEFAULT_SETTINGS}]" if settings == DEFAULT_SETTINGS else "]"
    rows: list[WrittenRow] = []
    plain: set[str] = set()
    for line in body[:-1].split("\n"):
        if key not in line or not line.endswith(end):
            if _WRITTEN_FORM.fullmatch(line) is None:
                return None
            continue
        match = _WRITTEN_ROW.fullmatch(line)
        if match is None:
            return None
        case, family, row_stack, row_kind, residual, campaign, metric, row_settings = match.groups()
        if (kind is not None and row_kind != kind) or (settings is not None
                                                       and (row_settings or CASE_SETTINGS) != settings) or (
                stack is not None and row_stack != stack):
            continue
        plain.update((case, family, row_stack, row_kind, metric))
        if row_settings is None:
            rows.append((case, family, row_stack, row_kind, float(residual), campaign, metric))
        else:
            rows.append((case, family, row_stack, row_kind, float(residual), campaign, metric, row_settings))
    return rows if all(_yaml_reads_as_str(token) for token in plain) else None
