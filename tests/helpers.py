"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

PANTAU = [sys.executable, "-m", "pantau"]


def pantau(
    *args: str,
    data_dir: Path,
    stdin: str | None = None,
    timeout: int = 180,
    config: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the `pantau` command as a person would, on `data_dir`, ignoring any
    PANTAU_CONFIG of the surroundings unless `config` names one."""
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir)}
    env.pop("PANTAU_CONFIG", None)
    if config is not None:
        env["PANTAU_CONFIG"] = str(config)
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
