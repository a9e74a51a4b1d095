"""Schemathesis against the served OpenAPI document, logged in as an admin (who may call
every route): generated requests must never get a 5xx, and responses must match the
document. Bounded (a few examples per operation) to keep the suite fast."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web_fixtures import PASSWORDS, demo_data_copy, free_port, settings_for
from web.app import create_app

warnings.filterwarnings("ignore", category=DeprecationWarning)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir: Path = tmp_path_factory.mktemp("web-schema") / "data"
    demo_data_copy(data_dir)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings_for(data_dir)), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.1)
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/login",
            data={"username": "adminku", "password": PASSWORDS["adminku"][1], "csrf_token": token},
        )
        session = client.cookies["pantau_session"]
        csrf = client.get("/api/me").json()["csrf_token"]
    try:
        yield base, {"Cookie": f"pantau_session={session}", "X-CSRF-Token": csrf}
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_no_generated_request_gets_a_server_error(live: tuple[str, dict[str, str]]) -> None:
    base, headers = live
    document = httpx.get(f"{base}/api/openapi.json", headers=headers).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 10
    failures: list[str] = []
    statuses: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url=base, headers=headers)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            case.validate_response(response, checks=[not_a_server_error])

        check()
    assert failures == []
    # The session worked: most generated requests were served, not refused at the door.
    assert len(statuses) >= 2 * len(operations)
    assert statuses.count(401) == 0 and statuses.count(200) + statuses.count(201) > 10
