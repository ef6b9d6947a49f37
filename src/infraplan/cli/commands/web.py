"""`infraplan web`: serve the HTTP API and the planner pages (FastAPI + uvicorn), on loopback by default."""

from __future__ import annotations

import typer

from infraplan.cli.options import count


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (loopback by default)"),
    port: int = typer.Option(8000, "--port", parser=count(1, 65535, "ports are 1-65535"), help="TCP port"),
) -> None:
    """Serve the web app and JSON API: planner pages, /api/COMMAND endpoints, OpenAPI at /docs."""
    import uvicorn

    url = f"http://{host}:{port}/"
    print(f"infraplan web: {url} (API docs at {url}docs; Ctrl-C stops)", flush=True)
    # by name: the web package is the CLI's sibling (import layers), uvicorn imports and calls the factory
    uvicorn.run("infraplan.web.app:create_app", factory=True, host=host, port=port, log_level="warning",
                limit_concurrency=256, timeout_keep_alive=5)


def register(app: typer.Typer) -> None:
    app.command("web")(web)
