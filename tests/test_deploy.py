"""The deployment files agree with the app (read as files: the suite never needs Docker)."""

from __future__ import annotations

import json
import re

import yaml

from tests.conftest import REPO


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_two_replicas_behind_the_balancer_share_postgresql_and_the_index():
    services = compose()["services"]
    app = services["app"]
    assert app["deploy"]["replicas"] == 2
    assert app["environment"]["FAQBOT_DATABASE_URL"].startswith("postgresql://")
    assert (
        "index:/srv/faqbot/index" in app["volumes"]
        and "index:/srv/faqbot/index" in services["nightly"]["volumes"]
    )
    assert "nightly_rebuild.sh" in " ".join(services["nightly"]["command"])
    assert "deploy" not in services["nightly"], "the nightly job runs once, not once per replica"
    assert services["init"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_replicas_trust_exactly_the_balancers_address():
    services = compose()["services"]
    trusted = json.loads(services["app"]["environment"]["FAQBOT_TRUSTED_PROXIES"])
    assert trusted == [services["lb"]["networks"]["faqbot"]["ipv4_address"]]
    nginx = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in nginx and "server app:8000" in nginx
    assert "client_body_timeout" in nginx and "client_header_timeout" in nginx


def test_the_image_runs_as_a_user_offline_with_cpu_torch_and_a_readiness_check():
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    torch = dockerfile.index('--index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"')
    assert torch < dockerfile.index("pip install ."), "torch first, then the project"
    assert re.search(r"^USER faqbot$", dockerfile, re.M) and "HF_HUB_OFFLINE=1" in dockerfile
    assert "/readyz" in dockerfile.split("HEALTHCHECK", 1)[1]


def test_the_replicas_share_their_rate_limits_in_the_composes_redis():
    from bot.config import Settings

    services = compose()["services"]
    url = services["app"]["environment"]["FAQBOT_REDIS_URL"]
    assert url.startswith("redis://redis:") and "redis" in services
    assert services["app"]["depends_on"]["redis"]["condition"] == "service_started"
    assert Settings(redis_url=url).redis_url is not None  # a setting the app knows
