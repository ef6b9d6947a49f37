"""Mutation wave hM22 (session 45): `web.api_docs` renders what an OpenAPI document says, on a hand-written one.

Expectations from the OpenAPI 3.1 / JSON Schema meanings (`exclusiveMinimum` is >, `maximum` <=, `anyOf` one of
several, `items` an array's element) and the module docstring's promise: each operation's description, its path
parameters, its body's fields (type, default or "required", bounds, CLI option, description, HTML-escaped), its
responses, the version and the link to /openapi.json.
"""

from __future__ import annotations

from infraplan import __version__
from infraplan.web.api_docs import api_docs_html

DOC = {
    "info": {"title": "infraplan", "description": "Plans."},
    "paths": {"/jobs/{job_id}": {"post": {
        "operationId": "job", "summary": "Run a job", "description": "Runs <one> job.",
        "parameters": [{"name": "job_id", "in": "path", "schema": {"type": "string"}},
                       {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
        "responses": {"200": {"description": "OK"}}}}},
    "components": {"schemas": {"Job": {
        "required": ["gpus"],
        "properties": {
            "gpus": {"type": "integer", "exclusiveMinimum": 0, "maximum": 65536.0, "description": "accelerators <n>"},
            "dtype": {"enum": ["bf16", "fp8"], "default": "bf16"},
            "layers": {"type": "array", "items": {"type": "integer"}, "default": None},
            "seed": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}], "default": None},
            "name": {"maxLength": 40, "default": "x"},
            "kind": {"enum": ["a<b"], "default": "a<b"},
        }}}},
}
PAGE = api_docs_html(DOC, {"Job": {"gpus": "--gpus"}})


def _row(field: str) -> str:
    return PAGE.split(f"<tr><td><code>{field}</code></td>", 1)[1].split("</tr>", 1)[0]


def test_a_fields_type_default_bounds_and_meaning() -> None:
    assert _row("gpus") == ("<td>integer</td><td>required</td><td>&gt; 0, &lt;= 65536</td><td><code>--gpus</code></td>"
                            "<td>accelerators &lt;n&gt;</td>")
    assert "<td>one of bf16, fp8</td><td>&quot;bf16&quot;</td>" in _row("dtype")
    assert "<td>array of integer</td><td>null</td>" in _row("layers")
    assert "<td>integer | null</td><td>null</td><td>&gt;= 0</td>" in _row("seed")
    assert "<td>any</td><td>&quot;x&quot;</td><td>length &lt;= 40</td>" in _row("name")
    assert _row("kind").startswith("<td>one of a&lt;b</td><td>&quot;a&lt;b&quot;</td>")  # escaped as text


def test_an_operations_description_path_parameters_and_responses() -> None:
    assert "<p>Runs &lt;one&gt; job.</p>" in PAGE
    assert "<p>path: <code>job_id</code> (string)</p>" in PAGE and "verbose" not in PAGE  # a query parameter: none
    assert "<p>responses: 200 OK</p>" in PAGE


def test_the_page_names_its_version_and_the_machine_readable_document() -> None:
    assert f"infraplan HTTP API {__version__}</h1>" in PAGE
    assert '<a href="/openapi.json">/openapi.json</a>' in PAGE
