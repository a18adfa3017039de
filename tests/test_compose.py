"""compose.yaml parses: two webhook instances sharing Redis and PostgreSQL behind a proxy, as the README says.

No Docker engine runs in CI: the file is read, not started (tests/test_replicas.py runs the same
setup as processes against real servers).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Running several instances")
    return text[start : text.index("\n## ", start + 1)]


def test_two_bot_instances_share_redis_and_postgres_in_webhook_mode() -> None:
    services = compose()["services"]
    assert set(services) == {"bot-a", "bot-b", "redis", "postgres", "caddy"}
    bots = [services["bot-a"], services["bot-b"]]
    for bot in bots:
        env = bot["environment"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["WEBHOOK_URL"].endswith(Settings.model_fields["webhook_path"].default)
        assert bot["env_file"] == ".env" and bot["build"] == "."
        assert {d: c["condition"] for d, c in bot["depends_on"].items()} == {
            "redis": "service_healthy",
            "postgres": "service_healthy",
        }
    # Each instance keeps its own data folder (heartbeat, index cache).
    assert bots[0]["volumes"] != bots[1]["volumes"]
    assert services["postgres"]["volumes"] and services["redis"]["volumes"]
    assert services["redis"]["healthcheck"] and services["postgres"]["healthcheck"]


def test_the_proxy_passes_only_the_webhook_to_both_instances() -> None:
    data = compose()
    caddy = data["services"]["caddy"]
    assert "443:443" in caddy["ports"]
    (config,) = caddy["configs"]
    caddyfile = data["configs"][config["source"]]["content"]
    path = Settings.model_fields["webhook_path"].default
    assert f"handle {path} {{" in caddyfile and "respond 404" in caddyfile
    assert re.search(r"reverse_proxy bot-a:8080 bot-b:8080 \{", caddyfile)
    assert "health_uri /healthz" in caddyfile


def test_the_readme_names_every_service_and_every_variable_the_file_needs() -> None:
    section = readme_section()
    for service in compose()["services"]:
        assert f"`{service}`" in section, service
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    needed = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert needed == {"PUBLIC_HOST", "POSTGRES_PASSWORD"}
    for name in needed | {"BOT_TOKEN", "WEBHOOK_SECRET", "VOTE_SECRET"}:
        assert f"\n{name}=" in section, name
    assert "docker compose up -d --build" in section
