"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import ModuleType

PANTAU = [sys.executable, "-m", "pantau"]
# Commands that run a Prefect flow, and so need a Prefect API.
FLOW_COMMANDS = frozenset({"run", "demo", "backfill", "retag", "digest", "export"})

_prefect_api_url: str | None = None


def shared_prefect_api() -> str:
    """The URL of one Prefect API server for the whole test session, started on first use.

    Without it every `pantau run` starts (and migrates) a temporary server of its own,
    20-30 s each on this machine. The tests of that default path say `ephemeral=True`."""
    global _prefect_api_url
    if _prefect_api_url is not None:
        return _prefect_api_url
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tempfile.mkdtemp(prefix="pantau-test-prefect-")
    env = {
        **os.environ,
        "PREFECT_HOME": home,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(Path(home) / "server.log", "w")  # noqa: SIM115 - lives as long as the server
    command = ["server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", *command],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    atexit.register(server.terminate)
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the test Prefect API did not start; see {home}/server.log"
                ) from None
            time.sleep(0.3)
    _prefect_api_url = url
    return url


def pantau(
    *args: str,
    data_dir: Path,
    stdin: str | None = None,
    timeout: int = 180,
    config: Path | None = None,
    ephemeral: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the `pantau` command as a person would, on `data_dir`, ignoring any
    PANTAU_CONFIG of the surroundings unless `config` names one.

    Flow commands use the session's shared Prefect API unless `ephemeral` asks for the
    default a person gets (a temporary API server started by the command itself)."""
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir)}
    env.pop("PANTAU_CONFIG", None)
    env.pop("PREFECT_API_URL", None)
    if config is not None:
        env["PANTAU_CONFIG"] = str(config)
    if args and args[0] in FLOW_COMMANDS and not ephemeral:
        env["PREFECT_API_URL"] = shared_prefect_api()
    return subprocess.run(
        [*PANTAU, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=data_dir.parent,
    )


def wait_for_articles(
    store: Path, at_least: int, seconds: float, process: subprocess.Popen[str] | None = None
) -> int:
    """Poll the article store until it holds `at_least` articles, the time is up, or
    `process` has ended; return the last count seen."""
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        if store.exists():
            try:
                count = (
                    sqlite3.connect(store).execute("SELECT count(*) FROM articles").fetchone()[0]
                )
            except sqlite3.OperationalError:  # the first run is still creating the schema
                count = 0
            if count >= at_least:
                break
        time.sleep(0.1)
    return count


SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str) -> ModuleType:
    """A script of `scripts/` (not a package) loaded as a module, for its functions."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before running: dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
