"""The Docker deployment files agree with the project (no Docker engine runs here to build them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SERVE = (ROOT / "scripts" / "serve").read_text()


def test_the_image_runs_the_serving_script_on_all_interfaces() -> None:
    assert 'CMD ["scripts/serve"]' in DOCKERFILE
    assert os.access(ROOT / "scripts" / "serve", os.X_OK)
    assert "ENV BIND_HOST=0.0.0.0" in DOCKERFILE and '"$BIND_HOST"' in SERVE
    for pinned in ("constraints.txt", "requirements.txt", "package-lock.json"):
        assert pinned in DOCKERFILE


def test_compose_wires_postgresql_and_takes_secrets_from_the_environment() -> None:
    bot = COMPOSE["services"]["bot"]
    env = bot["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in env["DATABASE_URL"]
    for secret in ("RASA_AUTH_TOKEN", "CONSOLE_SECRET"):
        assert re.fullmatch(r"\$\{" + secret + r":\?[^}]+\}", env[secret]), secret
    assert COMPOSE["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"


def test_published_ports_are_the_served_ports_on_loopback() -> None:
    defaults = {name: port for name, port in re.findall(r'(RASA_PORT|CONSOLE_PORT)="\$\{\1:-(\d+)\}"', SERVE)}
    published = {p.split(":")[1] for p in COMPOSE["services"]["bot"]["ports"]}
    assert set(defaults.values()) == published
    assert all(p.startswith("127.0.0.1:") for p in COMPOSE["services"]["bot"]["ports"])
