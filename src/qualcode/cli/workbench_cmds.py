"""The workbench command (``qualcode open``) and ``codebook export``.

FastAPI, uvicorn and Jinja2 are imported inside the command, so ``qualcode --help`` stays fast.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import typer

from qualcode.cli import state
from qualcode.cli.app import app, codebook_app
from qualcode.cli.output import info
from qualcode.errors import InputError

HOST = "127.0.0.1"


def _listening_socket(port: int) -> socket.socket:
    """A socket on 127.0.0.1 that already accepts connections, so the printed address works
    at once; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    return sock


@app.command("open")
def open_cmd(
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (default: a free one)."),
    no_browser: bool = typer.Option(
        False, "--no-browser", help="Print the address only; do not open a browser."
    ),
    lang: str = typer.Option("nb", "--lang", help="Language of the workbench: nb or en."),
) -> None:
    """Open the coding workbench in the browser: read, code passages, review the draft.

    The server listens on 127.0.0.1 only, with a random token per run; Ctrl-C stops it.
    """
    import secrets
    import webbrowser

    if lang not in ("nb", "en"):
        raise InputError(f"--lang '{lang}' is not nb or en")
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is not a port number (1-65535)")
    with state.open_project() as store:
        folder = store.folder
    import uvicorn

    from qualcode.web.app import create_app

    token = secrets.token_urlsafe(24)
    sock = _listening_socket(port)
    chosen = sock.getsockname()[1]
    application = create_app(folder, lang=lang, token=token)
    url = f"http://{HOST}:{chosen}/?token={token}"
    typer.echo(f"Workbench: {url}")
    sys.stdout.flush()
    info("Ctrl-C stops the workbench.")
    if not no_browser:
        webbrowser.open(url)
    config = uvicorn.Config(application, log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    info("Workbench stopped.")


@codebook_app.command("export")
def codebook_export(
    file: Path = typer.Argument(..., help="The YAML file to write."),
) -> None:
    """Write the project's current codebook (with codes made in the workbench) as YAML."""
    from qualcode.codebook_edit import export_codebook

    with state.open_project() as store:
        target = export_codebook(store, file)
    info(f"Codebook written: {target}")
