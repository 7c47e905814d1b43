"""Tier-1 test configuration: no frappe, no erpnext, on any machine."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_ROOT = REPO_ROOT / "scoopjoy"


@pytest.fixture(scope="session")
def repo_root() -> Path:
	return REPO_ROOT


@pytest.fixture(scope="session")
def app_root() -> Path:
	return APP_ROOT
