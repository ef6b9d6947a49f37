"""`infraplan web`: serve the HTTP API and the planner pages (FastAPI + uvicorn), on loopback by default."""

from __future__ import annotations

import ipaddress
import socket
import sys

import typer

from infraplan.cli.options import count
from infraplan.errors import InputError


def check_listen(host: str, port: int) -> str:
    """Resolve `host` and bind `port` once (then release it): a bad address is one InputError line, up front."""
    if not host.strip():
        raise InputError("--host must name an address, e.g. 127.0.0.1")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except (OSError, UnicodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot listen on --host {host[:80]!r} --port {port}: {reason}") from None
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"  # an IPv6 literal: brackets


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError, ValueError):
        return False


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (loopback by default)"),
    port: int = typer.Option(8000, "--port", parser=count(1, 65535, "ports are 1-65535"), help="TCP port"),
    check: bool = typer.Option(False, "--check", help="check the address can be listened on, print the URL, exit"),
) -> None:
    """Serve the web app and JSON API (planner pages, /api/COMMAND, API reference at /docs) on loopback."""
    url = check_listen(host, port)
    if not _is_loopback(host):  # the API has no authentication: said, not silent
        print(f"infraplan: warning: --host {host} is reachable from other machines; the API has no "
              "authentication and runs simulations for anyone who can connect", file=sys.stderr)
    if check:
        print(url)
        return
    import uvicorn

    print(f"infraplan web: {url} (API docs at {url}docs; Ctrl-C stops)", flush=True)
    # by name: the web package is the CLI's sibling (import layers), uvicorn imports and calls the factory
    uvicorn.run("infraplan.web.app:create_app", factory=True, host=host, port=port, log_level="warning",
                limit_concurrency=256, timeout_keep_alive=5)


def register(app: typer.Typer) -> None:
    app.command("web")(web)
