from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from index.elastic import ElasticIndex
    from index.elastic_server import ElasticServer

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared folder beside the clone (contracts, data); PANTAU_SHARED_DIR overrides."""
    return Path(os.environ.get("PANTAU_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    assert (path / "contracts").is_dir(), f"shared folder not found at {path}"
    return path


@pytest.fixture(scope="session")
def data_dir(shared: Path) -> Path:
    return Path(os.environ.get("PANTAU_SHARED_DATA_DIR", shared / "data")).resolve()


# -- Elasticsearch: one real server per test session ------------------------------------


@dataclass
class ElasticTarget:
    url: str
    username: str | None
    password: str | None
    ca_certs: str | None
    server: ElasticServer | None  # None: an existing cluster we must not stop

    def open(self, alias: str | None = None, **options: Any) -> ElasticIndex:
        """An index under a fresh alias, so tests never see each other's documents."""
        from index.elastic import ElasticIndex

        return ElasticIndex(
            self.url,
            username=self.username,
            password=self.password,
            ca_certs=self.ca_certs,
            alias=alias or f"pantau-test-{uuid.uuid4().hex[:10]}",
            **options,
        )


@pytest.fixture(scope="session")
def elastic() -> Iterator[ElasticTarget]:
    """A real Elasticsearch: the cluster that PANTAU_TEST_ES_URL names (with
    PANTAU_TEST_ES_USERNAME, _PASSWORD, _CA_CERTS), else a local single node started once,
    with security on (TLS and a password) as a deployment runs it. Never skipped: if no
    server can be had, every test that needs one fails with the reason."""
    from index.elastic_server import ServerError, start

    url = os.environ.get("PANTAU_TEST_ES_URL")
    if url:
        yield ElasticTarget(
            url=url,
            username=os.environ.get("PANTAU_TEST_ES_USERNAME"),
            password=os.environ.get("PANTAU_TEST_ES_PASSWORD"),
            ca_certs=os.environ.get("PANTAU_TEST_ES_CA_CERTS"),
            server=None,
        )
        return
    try:
        server = start(security=True)
    except ServerError as exc:
        pytest.fail(f"could not start Elasticsearch for the tests: {exc}", pytrace=False)
    try:
        yield ElasticTarget(
            url=server.url,
            username=server.username,
            password=server.password,
            ca_certs=str(server.ca_certs),
            server=server,
        )
    finally:
        server.cleanup()
