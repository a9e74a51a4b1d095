"""Prefect's environment for Pantau, set before Prefect is first imported.

Prefect reads its settings once, when it is imported, and by default keeps its database,
logs and memo files under ~/.prefect. Pantau keeps them beside its own data instead (the
article store is the record that matters; Prefect's database only holds flow-run metadata),
so a fresh clone needs no Prefect setup and tests never touch the user's home.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

# The ephemeral API server starts in a subprocess; on a small, busy machine that takes
# longer than Prefect's default 20 s allowance, and a timeout would fail the whole run.
EPHEMERAL_STARTUP_TIMEOUT_SECONDS = "180"


def prepare_prefect(data_dir: Path) -> None:
    """Point Prefect at <data_dir>/prefect unless PREFECT_HOME or an API URL is already set.

    Call before importing `prefect` (or anything in flows/ that imports it)."""
    if "prefect" in sys.modules:
        return  # too late to matter, and the caller (a test harness) has configured it
    home = Path(os.environ.setdefault("PREFECT_HOME", str(data_dir / "prefect")))
    # Prefect creates its home without parents; on a fresh data dir that fails and its
    # API server then cannot open its database.
    home.expanduser().mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_TIMEOUT_SECONDS
    )
    # The API server's telemetry phones home (Pantau runs where only the news sites may be
    # reached) and its heartbeat row competes for the SQLite database under load.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Every call to Prefect's API is an INFO line of httpx; Pantau's log is about the news.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _detached_child() -> None:
    """In the API server's process before exec: its own session, so the terminal's Ctrl-C
    (sent to the foreground process group) reaches Pantau only, which stops its crawls
    gracefully and still needs the API to record the run; and, on Linux, SIGTERM when
    Pantau dies, so a killed run leaves no server behind."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def detach_ephemeral_api() -> None:
    """Make the ephemeral API server (started on first use) run detached, see
    _detached_child. No-op when PREFECT_API_URL names a server. Call from the main thread
    before the first flow run: Linux ties the death signal to the thread that starts it."""
    import subprocess
    from functools import partial
    from unittest import mock

    from prefect.server.api import server as prefect_server
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        return
    server = prefect_server.SubprocessASGIServer()
    if server.running:
        return
    start_attached = server._run_uvicorn_command

    def start_detached() -> subprocess.Popen[Any]:
        popen = partial(subprocess.Popen, preexec_fn=_detached_child)
        with mock.patch.object(prefect_server.subprocess, "Popen", popen):
            return start_attached()

    server._run_uvicorn_command = start_detached  # type: ignore[method-assign]
    server.start()
    # Flow runs that `serve` starts in subprocesses inherit this: they use this server
    # instead of each starting an ephemeral one of their own (20-30 s, a second writer on
    # the same database).
    os.environ["PREFECT_API_URL"] = server.api_url
