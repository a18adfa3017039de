"""The Docker image's inputs: the dependency lock matches pyproject.toml; the Dockerfile uses it.

No Docker engine runs in CI, so the image itself is not built here; what can drift
unnoticed (the lock against pyproject.toml, the health check command) is checked.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def locked() -> dict[str, str]:
    """Return the pinned version of each package in requirements.lock."""
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", (ROOT / "requirements.lock").read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def test_every_dependency_is_locked_to_a_version_it_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked()
    for line in project["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: regenerate it (README, Dependencies)"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} does not satisfy {line}"


def test_every_locked_package_has_hashes() -> None:
    text = (ROOT / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    pinned = [b for b in blocks if re.match(r"[A-Za-z0-9._-]+==", b)]
    assert len(pinned) == len(locked()) > 10
    assert all("--hash=sha256:" in block for block in pinned)


def test_the_image_installs_the_lock_and_checks_health_in_both_modes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11\.?\d*-slim-\w+$", dockerfile, re.M)
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "HEALTHCHECK" in dockerfile and '"bot", "health"' in dockerfile
    assert "INDEX_CACHE_DIR=/data/" in dockerfile and "compileall" in dockerfile
