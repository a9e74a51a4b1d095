"""One source's crawl in a process of its own: `python -m flows.crawl_child JOB REPORT`.

Scrapy's Twisted reactor can start only once per process, so the flow (which crawls every
hour in one long-lived process under `pantau schedule`, and several sources at once) runs
each crawl here. JOB is a JSON file {"settings": …, "source": …, "since": "YYYY-MM-DD"|null};
the SourceReport is written as JSON to REPORT. This module never imports Prefect: a child
starts in about a second.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path

# How often the child checks that the process that started it is still there.
PARENT_POLL_SECONDS = 0.2


def _die_with_parent(parent: int) -> None:
    """The parent starts children in their own session (so a Ctrl-C on the terminal reaches
    the parent only, which forwards it once); in exchange a child must not outlive a parent
    that was killed (SIGKILL, OOM), or it would keep writing beside the re-run."""

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    job_path, report_path = Path(argv[0]), Path(argv[1])
    parent = int(os.environ.get("PANTAU_CRAWL_PARENT", os.getppid()))
    _die_with_parent(parent)
    logging.basicConfig(
        level=os.environ.get("PANTAU_CRAWL_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    from crawlers.runner import run_crawl
    from pantau.config import Settings, SourceConfig

    job = json.loads(job_path.read_text("utf-8"))
    settings = Settings(**job["settings"])
    source = SourceConfig(**job["source"])
    kwargs: dict[str, object] = {}
    if job.get("since"):
        # The crawler's date-bounded backfill, where this version of run_crawl has it.
        if "since" not in inspect.signature(run_crawl).parameters:
            logging.getLogger(__name__).warning(
                "this crawler has no --since; the backfill walks listings to their limit"
            )
        else:
            kwargs["since"] = date.fromisoformat(job["since"])
    (report,) = run_crawl(settings, [source], **kwargs)  # type: ignore[arg-type]
    tmp = report_path.with_suffix(".tmp")
    tmp.write_text(report.model_dump_json(), "utf-8")
    tmp.replace(report_path)  # the parent never reads half a report
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
