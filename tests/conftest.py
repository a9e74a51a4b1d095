from __future__ import annotations

import os
from pathlib import Path

import pytest

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
