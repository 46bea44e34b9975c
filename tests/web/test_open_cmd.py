"""`qualcode open`: one line with the address, a server on 127.0.0.1 only, Ctrl-C stops it; and
`qualcode --help` does not load the web stack."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from typer.testing import CliRunner

from qualcode.cli.main import app


def test_help_does_not_import_the_web_stack() -> None:
    code = (
        "import sys; import qualcode.cli.main; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'jinja2', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_open_serves_the_project_until_interrupted(web_project: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "qualcode", "--project", str(web_project), "open", "--no-browser", "--lang", "en"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        assert line.startswith("Workbench: http://127.0.0.1:") and "/?token=" in line
        url = line.split(" ", 1)[1]
        base = url.split("/?", 1)[0]
        try:
            urllib.request.urlopen(base + "/")
            raise AssertionError("served without the token")
        except urllib.error.HTTPError as error:
            assert error.code == 403
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(url).read().decode()
        assert "Who is coding?" in page
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_open_refuses_bad_options(web_project: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["--project", str(web_project), "open", "--lang", "de"])
    assert result.exit_code == 2 and "nb or en" in result.output
    result = runner.invoke(app, ["--project", str(web_project), "open", "--port", "70000"])
    assert result.exit_code == 2 and "not a port" in result.output
