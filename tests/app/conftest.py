from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import LOCAL_HOSTS, Settings
from tests.conftest import TEST_EVALUATION

TEST_HOSTS = (*LOCAL_HOSTS, "testserver")  # TestClient sends Host: testserver


@pytest.fixture(scope="session")
def client(quick_zoo: Path) -> Iterator[TestClient]:
    """One app over the quick zoo for the whole run; `with` runs its lifespan (models load once)."""
    with TestClient(
        create_app(
            Settings(home=quick_zoo, device="cpu", allowed_hosts=TEST_HOSTS, evaluation=TEST_EVALUATION)
        )
    ) as test_client:
        yield test_client
