"""A local Elasticsearch for development, tests and benchmarks (see index/elastic_server.py).

    python scripts/elasticsearch.py fetch           # download (mvn) + unpack + service user
    python scripts/elasticsearch.py run             # start with TLS + password, print the
                                                    # PANTAU_INDEX_* settings, stop on Ctrl-C
    python scripts/elasticsearch.py run --no-security --port 9200

`make test` runs `fetch` first; the test suite starts its own server (tests/conftest.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.elastic_server import (
    ES_VERSION,
    ServerError,
    ensure_user,
    install,
    prepare,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download and unpack the server, create its user")
    run = commands.add_parser("run", help="start a single node and wait for Ctrl-C")
    run.add_argument("--no-security", action="store_true", help="plain HTTP, no password")
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: a free one)")
    run.add_argument("--workdir", type=Path, default=None, help="config and data (default: temp)")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            home = install()
            user = ensure_user()
            print(f"Elasticsearch {ES_VERSION} at {home} (runs as {user or 'this user'})")
            return 0
        server = prepare(not args.no_security, workdir=args.workdir, port=args.port)
        server.start()
    except ServerError as exc:
        print(f"elasticsearch: {exc}", file=sys.stderr)
        return 1
    print(f"PANTAU_INDEX_URL={server.url}")
    if server.security:
        print(f"PANTAU_INDEX_USERNAME={server.username}")
        print(f"PANTAU_INDEX_PASSWORD={server.password}")
        print(f"PANTAU_INDEX_CA_CERTS={server.ca_certs}")
    print(f"# data and logs in {server.workdir}; Ctrl-C stops it", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while server.process is not None and server.process.poll() is None:
            time.sleep(1)
        print(f"elasticsearch exited:\n{server.log_tail()}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        server.stop()
        if args.workdir is None:
            server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
