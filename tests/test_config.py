"""The settings groups each component takes: derived from the one flat `Settings`."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import SecretStr

from bot.config import Settings


def test_groups_carry_the_flat_settings(isolated_home):
    settings = Settings(
        kb_dir="articles", keep_versions=5, clarify_margin=0.1, query_cache_size=7, db_lock_timeout=2.5
    )
    assert settings.build.kb_path == isolated_home / "articles"
    assert settings.build.index_path == settings.index_path and settings.build.keep_versions == 5
    assert settings.dialogue.clarify_margin == 0.1 and settings.dialogue.languages == ("it", "en")
    assert settings.encoder.query_cache_size == 7 and settings.encoder.model == settings.model
    assert settings.storage.lock_timeout == 2.5 and settings.storage.var_path == settings.var_path


def test_language_thresholds_reach_the_dialogue_group_as_pairs(monkeypatch):
    monkeypatch.setenv("FAQBOT_LANGUAGE_THRESHOLDS", '{"en": {"answer": 0.6, "clarify": 0.3}}')
    assert Settings().dialogue.language_thresholds == {"en": (0.6, 0.3)}


def test_the_messenger_group_is_configured_with_secret_and_token():
    assert not Settings().messenger.configured
    configured = Settings(messenger_app_secret=SecretStr("s"), messenger_page_token=SecretStr("t"))
    assert configured.messenger.configured and configured.messenger_configured


def test_groups_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().build.keep_versions = 1  # type: ignore[misc]


def test_web_channels_are_a_closed_set_of_plain_names_without_adapter_channels():
    import pytest

    assert Settings(web_channels=["web", "app"]).web_channels == ["web", "app"]
    for bad in (["messenger"], ["Web Chat"], []):
        with pytest.raises(ValueError, match="web_channels"):
            Settings(web_channels=bad)
