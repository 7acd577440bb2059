"""`assistant serve`: the web UI. Imports nothing heavy at module level (the CLI imports this on every run)."""

from __future__ import annotations

import ipaddress
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..cli_common import ConfigOpt, IndexOpt, KBOpt, LLMOpt, StoreOpt, build_settings, exits_on_error, fail

if TYPE_CHECKING:
    from ..config import Settings
    from ..engine import Engine

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses other machines cannot reach."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """'user:password' -> (user, password); None when not given. Raises ValueError when malformed."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth must look like user:password (both non-empty)")
    return user, password


def open_engine(settings: Settings) -> Engine:
    """The Engine over `settings`' index; when the index is missing or empty, ingest `settings.corpus` first."""
    from ..engine import Engine

    def report(done: int, total: int, name: str) -> None:
        if name:
            typer.echo(f"  [{done + 1}/{total}] {name}", err=True)

    engine = Engine.open(settings, create=True)
    try:
        if engine.status()["documents"] == 0:
            typer.echo(f"{settings.store.path}/ is empty: ingesting the sample corpus {settings.corpus}/ first…", err=True)
        result = engine.ensure_index(Path(settings.corpus), progress=report)
    except BaseException:
        engine.close()
        raise
    for path, reason in result.failed if result else []:
        typer.echo(f"  failed {path}: {reason}", err=True)
    return engine


def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to bind (default: ui.host, 127.0.0.1).", show_default=False)
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default: ui.port, 7860).", show_default=False)] = None,
    llm: LLMOpt = None,
    auth: Annotated[
        str | None,
        typer.Option(
            "--auth",
            help="Require this user:password to log in (default: the variable named by ui.auth_env, ASSISTANT_AUTH). "
            "Needed to serve on any interface other than loopback.",
            show_default=False,
        ),
    ] = None,
    api_token: Annotated[
        str | None,
        typer.Option(
            "--api-token",
            help="Bearer token the HTTP API (/v1) requires (default: the variable named by api.token_env, "
            "ASSISTANT_API_TOKEN). Beyond loopback the API refuses every request without one.",
            show_default=False,
        ),
    ] = None,
    kb: KBOpt = None,
    index: IndexOpt = None,
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Web UI: chat with clickable citations, source viewer, filters, document upload. Runs offline.

    Binds to 127.0.0.1 by default; serving on any other interface requires --auth user:password (or the environment variable named by ui.auth_env) (the API also needs --api-token there). An empty index is filled from the sample corpus (settings.corpus) first. The same port serves the OpenAI-compatible HTTP API under /v1 (docs at /docs).
    """
    from ..errors import AssistantError
    from ..runtime import configure_process

    configure_process()  # also when called from Python rather than the console script
    try:
        settings = build_settings(index, store, config, llm=llm, kb=kb)
        bind = host or settings.ui.host
        bind_port = port or settings.ui.port
        credentials = parse_auth(auth or os.environ.get(settings.ui.auth_env))
        token = api_token or os.environ.get(settings.api.token_env) or None
    except (AssistantError, ValueError) as exc:
        fail(exc, 2)
        return
    if not is_loopback(bind) and credentials is None:
        fail(
            ValueError(
                f"Refusing to serve on {bind} without a password: anyone on the network could use it. "
                f"Pass --auth user:password (or set {settings.ui.auth_env}=user:password), or use --host 127.0.0.1."
            ),
            2,
        )
        return
    # Beyond loopback the API needs a token: without one it answers every request with 401 (the web UI,
    # behind its password, still works).
    api_locked = not is_loopback(bind) and token is None
    with exits_on_error():
        engine = open_engine(settings)
    from .app import launch

    where = f"http://{bind}:{bind_port}"
    lock = f"password required (user '{credentials[0]}')" if credentials else "no password, loopback only"
    typer.echo(f"Serving the web UI on {where} — {lock}; answers by '{settings.llm.backend}'. Ctrl-C stops.", err=True)
    api_state = "bearer token required" if token else "off: pass --api-token to use it" if api_locked else "no token"
    typer.echo(f"HTTP API on {where}/v1 (docs: {where}/docs) — {api_state}.", err=True)
    threading.Thread(target=engine.warm_up, name="llm-warm-up", daemon=True).start()
    try:
        launch(engine, host=bind, port=bind_port, auth=credentials, api_token=token, api_locked=api_locked)
    except OSError as exc:  # typically the port is taken
        fail(OSError(f"Cannot serve on {bind}:{bind_port} ({type(exc).__name__}: the port is taken or not "
                     "allowed). Choose another --port."))
    finally:
        engine.close()


if __name__ == "__main__":  # `python -m assistant.web.command` runs the server alone
    typer.run(serve_command)
