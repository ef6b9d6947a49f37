"""The API reference page at /docs: the OpenAPI document (`/openapi.json`) as plain HTML, rendered on the server.

FastAPI's own /docs (Swagger UI) and /redoc load their scripts and styles from cdn.jsdelivr.net
(fastapi/openapi/docs.py: `swagger_js_url`, `redoc_js_url`), so on a machine without network, which the planner
promises to run on, they were blank pages. This one is built from the same `app.openapi()` and needs nothing outside
the server: each operation (method, path, summary, description), its path parameters, its request body's fields (type,
default, bounds, description in the CLI help's words with its unit (`web.request_descriptions`), and the CLI option
it is) and its response codes.
"""

from __future__ import annotations

import html
import json
from typing import Any

from infraplan import __version__


def _ref_name(schema: dict[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else None


def _type(schema: dict[str, Any]) -> str:
    """A field's type in a few words: `integer`, `string | null`, `one of bf16, fp8`, `array of integer`."""
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    name = _ref_name(schema)
    if name:
        return name
    if schema.get("type") == "array":
        return "array of " + _type(schema.get("items", {}))
    return str(schema.get("type", "any"))


def _bounds(schema: dict[str, Any]) -> str:
    parts = []
    for s in [schema, *schema.get("anyOf", [])]:
        for key, sign in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="), ("exclusiveMaximum", "<"),
                          ("maxLength", "length <=")):
            if key in s:
                value = s[key]
                parts.append(f"{sign} {int(value) if float(value).is_integer() else value}")
    return ", ".join(parts)


def _fields(schema: dict[str, Any], cli: dict[str, str]) -> str:
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        default = "required" if name in required else json.dumps(prop.get("default"))
        rows.append(f"<tr><td><code>{html.escape(name)}</code></td><td>{html.escape(_type(prop))}</td>"
                    f"<td>{html.escape(default)}</td><td>{html.escape(_bounds(prop))}</td>"
                    f"<td><code>{html.escape(cli.get(name, ''))}</code></td>"
                    f"<td>{html.escape(str(prop.get('description', '')))}</td></tr>")
    head = "<tr><th>field</th><th>type</th><th>default</th><th>bounds</th><th>CLI</th><th>meaning</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>" if rows else ""


def _operation(method: str, path: str, op: dict[str, Any], schemas: dict[str, Any],
               cli: dict[str, dict[str, str]]) -> str:
    out = [f"<h3 id=\"{html.escape(op.get('operationId', path))}\"><code>{method.upper()} {html.escape(path)}</code>"
           f" — {html.escape(str(op.get('summary', '')))}</h3>"]
    if op.get("description"):
        out.append(f"<p>{html.escape(str(op['description']))}</p>")
    params = [p for p in op.get("parameters", []) if p.get("in") == "path"]
    if params:
        out.append("<p>path: " + ", ".join(f"<code>{html.escape(p['name'])}</code> ({html.escape(_type(p['schema']))})"
                                           for p in params) + "</p>")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    name = _ref_name(body)
    if name and name in schemas:
        out.append(f"<p>body: <code>{html.escape(name)}</code></p>" + _fields(schemas[name], cli.get(name, {})))
    codes = []
    for code, response in op.get("responses", {}).items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        model = " | ".join(filter(None, map(_ref_name, [schema, *schema.get("anyOf", [])])))  # serve: LLM | image
        codes.append(f"{code} {html.escape(str(response.get('description', '')))}"
                     + (f" (<code>{html.escape(model)}</code>)" if model else ""))
    out.append("<p>responses: " + "; ".join(codes) + "</p>")
    return "\n".join(out)


def api_docs_html(openapi: dict[str, Any], cli: dict[str, dict[str, str]] | None = None) -> str:
    """The whole page for an OpenAPI document; `cli`: request schema name -> field -> the CLI option (or argument)
    it is, shown beside each field."""
    schemas = openapi.get("components", {}).get("schemas", {})
    info = openapi.get("info", {})
    ops = [_operation(method, path, op, schemas, cli or {}) for path, methods in openapi.get("paths", {}).items()
           for method, op in methods.items()]
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>infraplan — HTTP API</title>\n"
            "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>\n<body><nav><a href=\"/\">infraplan</a>"
            "<a href=\"/docs\" class=\"here\">API</a></nav>\n<main>\n"
            f"<h1>{html.escape(str(info.get('title', 'infraplan')))} HTTP API {html.escape(__version__)}</h1>\n"
            f"<p>{html.escape(str(info.get('description', '')))} The machine-readable document is "
            "<a href=\"/openapi.json\">/openapi.json</a>; each result's schema is what "
            "<code>infraplan schema COMMAND</code> prints; a field's CLI option is explained with its unit by "
            "<code>infraplan COMMAND --help</code>.</p>\n" + "\n".join(ops) + "\n</main></body></html>\n")
