"""One settings object for the whole bot: FAQBOT_* environment variables, optional faqbot.yaml, defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_MODEL = "bundled:all-MiniLM-L6-v2"
DEFAULT_EMBED_BATCH = 32  # texts per model call: per-text cost is lowest around 8-32 on 2 cores


# Channels with an adapter of their own, which only that adapter may name.
ADAPTER_CHANNELS = ("messenger", "whatsapp", "instagram")


class LanguageThresholds(BaseModel):
    """One language's own answer and clarify thresholds (`faqbot calibrate` writes them)."""

    answer: float = Field(ge=0.0, le=1.0)
    clarify: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> LanguageThresholds:
        if self.clarify > self.answer:
            raise ValueError(f"clarify ({self.clarify}) must not exceed answer ({self.answer})")
        return self


# Each component takes only its own group of settings, derived from the flat `Settings` below (which
# alone reads the environment and faqbot.yaml, so the FAQBOT_* names stay flat).


@dataclass(frozen=True)
class BuildSettings:
    """What an index build reads: where the KB and the index live, how to fit, index and keep versions."""

    kb_path: Path
    index_path: Path
    languages: tuple[str, ...]
    default_lang: str
    keep_versions: int
    ann_threshold: int
    tune_epochs: int
    answer_tuning: bool = True  # a KB of single phrasings is tuned on its answers (bot.index.build)


@dataclass(frozen=True)
class DialogueSettings:
    """What the dialogue reads: decision thresholds, suggestions, patience, and its languages."""

    answer_threshold: float
    clarify_threshold: float
    # (answer, clarify) replacing the two above for one language's questions.
    language_thresholds: Mapping[str, tuple[float, float]]
    clarify_margin: float
    max_suggestions: int
    misses_before_handoff: int
    languages: tuple[str, ...]
    default_lang: str


@dataclass(frozen=True)
class EncoderSettings:
    """Which model encodes texts, and how serving caches and batches query encodings."""

    model: str
    embed_batch_size: int
    query_cache_size: int
    encode_max_batch: int
    encode_window_ms: float


@dataclass(frozen=True)
class StorageSettings:
    """Where the database is (None: SQLite under `var_path`) and how long to wait on it (seconds)."""

    database_url: str | None
    var_path: Path
    connect_timeout: float
    lock_timeout: float
    idle_timeout: float


@dataclass(frozen=True)
class MessengerSettings:
    """The Messenger channel's own settings (the `messenger_*` ones, without the prefix)."""

    verify_token: SecretStr | None
    app_secret: SecretStr | None
    page_token: SecretStr | None
    graph_url: str
    graph_version: str
    app_id: str | None
    inbox_app_id: str
    human_agent_tag: bool
    workers: int
    send_timeout: float
    send_backoff: float
    typing_after: float
    echo_grace: float

    @property
    def configured(self) -> bool:
        """Messenger needs the app secret (to trust deliveries) and the Page token (to answer)."""
        return not self.missing()

    def missing(self) -> list[str]:
        """The variables the channel still needs (an empty value counts as unset)."""
        needed = {
            "FAQBOT_MESSENGER_APP_SECRET": self.app_secret,
            "FAQBOT_MESSENGER_PAGE_TOKEN": self.page_token,
        }
        return [name for name, value in needed.items() if value is None]


@dataclass(frozen=True)
class InstagramSettings(MessengerSettings):
    """The Instagram channel's own settings (the `instagram_*` ones, without the prefix). Instagram
    Direct runs on the Messenger Platform: the Send API of the Page linked to the account."""

    account_id: str | None = None  # the Instagram professional account (the webhook's entry id)
    page_id: str | None = None  # the Facebook Page linked to it, for `faqbot instagram setup` only

    def missing(self) -> list[str]:
        """The variables the channel still needs (an empty value counts as unset)."""
        needed = {
            "FAQBOT_INSTAGRAM_APP_SECRET": self.app_secret,
            "FAQBOT_INSTAGRAM_PAGE_TOKEN": self.page_token,
        }
        return [name for name, value in needed.items() if value is None]


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp channel's own settings (the `whatsapp_*` ones, without the prefix)."""

    verify_token: SecretStr | None
    app_secret: SecretStr | None
    access_token: SecretStr | None
    phone_number_id: str | None
    business_account_id: str | None
    graph_url: str
    graph_version: str
    workers: int
    send_timeout: float
    send_backoff: float
    echo_grace: float
    agent_template: str | None
    agent_template_lang: str | None

    @property
    def configured(self) -> bool:
        """WhatsApp needs the app secret (to trust deliveries), a token and the number to answer from."""
        return not self.missing()

    def missing(self) -> list[str]:
        """The variables the channel still needs (an empty value counts as unset)."""
        needed = {
            "FAQBOT_WHATSAPP_APP_SECRET": self.app_secret,
            "FAQBOT_WHATSAPP_ACCESS_TOKEN": self.access_token,
            "FAQBOT_WHATSAPP_PHONE_NUMBER_ID": self.phone_number_id,
        }
        return [name for name, value in needed.items() if value is None]


class Settings(BaseSettings):
    """Runtime configuration. Paths are relative to `home` unless absolute.

    `FAQBOT_HOME` relocates all state (index, cache, var) at once; tests set it to a temporary folder.
    """

    model_config = SettingsConfigDict(env_prefix="FAQBOT_", extra="ignore")

    home: Path = Path(".")
    kb_dir: Path = Path("kb_articles")
    index_dir: Path = Path("index")
    var_dir: Path = Path("var")
    config_file: Path = Path("faqbot.yaml")

    model: str = DEFAULT_MODEL
    embed_batch_size: int = Field(default=DEFAULT_EMBED_BATCH, ge=1)
    # Epochs of tuning the model on the KB's own questions at build time (0: use the model as is).
    # Off by default: see "Tuning the model" in the README for when it helps.
    tune_epochs: int = Field(default=0, ge=0, le=20)
    # A KB whose articles mostly have one phrasing (an imported FAQ on day one) is tuned for one
    # epoch on its own questions and answer paragraphs, unless turned off here.
    answer_tuning: bool = True
    # From this many embedded texts on, the dense index is approximate (IVF); below, exact inner product.
    ann_threshold: int = Field(default=200_000, ge=1)
    keep_versions: int = Field(default=3, ge=1)

    answer_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    clarify_threshold: float = Field(default=0.2, ge=0.0, le=1.0)
    # Per language, thresholds that replace the two above for its questions, e.g.
    # {"it": {"answer": 0.52, "clarify": 0.28}} (as JSON in FAQBOT_LANGUAGE_THRESHOLDS).
    language_thresholds: dict[str, LanguageThresholds] = {}
    # Clarify instead of answering when the runner-up article is this close to the best one.
    clarify_margin: float = Field(default=0.08, ge=0.0, le=1.0)
    max_suggestions: int = Field(default=3, ge=1, le=10)
    misses_before_handoff: int = Field(default=2, ge=1)
    languages: list[str] = ["it", "en"]

    # Facebook Messenger channel (bot/channels/messenger). Secrets: environment only.
    messenger_verify_token: SecretStr | None = None  # answers the webhook subscription handshake
    messenger_app_secret: SecretStr | None = None  # signs webhook deliveries (X-Hub-Signature-256)
    messenger_page_token: SecretStr | None = None  # Page access token for the Send API
    messenger_graph_url: str = "https://graph.facebook.com"  # tests and staging point it at a fake
    messenger_graph_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    messenger_app_id: str | None = None  # this app's id, to recognise thread control coming back
    messenger_inbox_app_id: str = "263902037430900"  # the Page Inbox, which takes hand-offs
    # May agent replies after the 24-hour window use the HUMAN_AGENT tag (a permission Meta grants)?
    messenger_human_agent_tag: bool = True
    messenger_workers: int = Field(default=4, ge=1, le=64)  # threads answering webhook events
    messenger_send_timeout: float = Field(default=10.0, gt=0)  # seconds per Graph API call
    # First retry delay of a failed Graph call (5xx, timeout); it doubles, with jitter, up to 4 tries.
    messenger_send_backoff: float = Field(default=0.5, ge=0)
    messenger_typing_after: float = Field(default=0.6, ge=0)  # show "typing…" if a reply takes longer
    # Seconds a send whose answer was lost (a read timeout) waits for Meta's echo of it before it is
    # sent again from the outbox (bot/channels/messenger/sender.py).
    messenger_echo_grace: float = Field(default=10.0, gt=0)

    # WhatsApp Business Cloud API channel (bot/channels/whatsapp). Secrets: environment only.
    whatsapp_verify_token: SecretStr | None = None  # answers the webhook subscription handshake
    whatsapp_app_secret: SecretStr | None = None  # signs webhook deliveries (X-Hub-Signature-256)
    whatsapp_access_token: SecretStr | None = None  # a system user's permanent token
    whatsapp_phone_number_id: str | None = None  # the business number's id (not the number itself)
    whatsapp_business_account_id: str | None = None  # only `faqbot whatsapp setup` reads it
    whatsapp_graph_url: str = "https://graph.facebook.com"  # tests and staging point it at a fake
    whatsapp_graph_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    whatsapp_workers: int = Field(default=4, ge=1, le=64)  # threads answering webhook events
    whatsapp_send_timeout: float = Field(default=10.0, gt=0)  # seconds per Graph API call
    whatsapp_send_backoff: float = Field(default=0.5, ge=0)  # first retry delay; it doubles, with jitter
    # Seconds a send whose answer was lost waits for its status webhook before it is sent again.
    whatsapp_echo_grace: float = Field(default=10.0, gt=0)
    # An approved template (one body parameter) that carries agent replies after the 24-hour
    # customer-service window, and its language code (unset: the conversation's language).
    whatsapp_agent_template: str | None = None
    whatsapp_agent_template_lang: str | None = None

    # Instagram Direct (bot/channels/instagram), through the Page linked to the Instagram account.
    # Secrets: environment only.
    instagram_verify_token: SecretStr | None = None  # answers the webhook subscription handshake
    instagram_app_secret: SecretStr | None = None  # signs webhook deliveries (X-Hub-Signature-256)
    instagram_page_token: SecretStr | None = None  # the linked Page's access token for the Send API
    instagram_account_id: str | None = None  # the Instagram professional account's id
    instagram_page_id: str | None = None  # the linked Page's id (only `faqbot instagram setup` reads it)
    instagram_graph_url: str = "https://graph.facebook.com"  # tests and staging point it at a fake
    instagram_graph_version: str = Field(default="v21.0", pattern=r"^v\d+\.\d+$")
    instagram_app_id: str | None = None  # this app's id, to recognise thread control coming back
    instagram_inbox_app_id: str = "263902037430900"  # the Page Inbox, which takes hand-offs
    instagram_human_agent_tag: bool = True  # agents may reply for 7 days with the HUMAN_AGENT tag
    instagram_workers: int = Field(default=4, ge=1, le=64)  # threads answering webhook events
    instagram_send_timeout: float = Field(default=10.0, gt=0)  # seconds per Graph API call
    instagram_send_backoff: float = Field(default=0.5, ge=0)  # first retry delay; it doubles, with jitter
    instagram_typing_after: float = Field(default=0.6, ge=0)  # show "typing…" if a reply takes longer
    instagram_echo_grace: float = Field(default=10.0, gt=0)  # wait for the echo of a lost answer

    # Web service
    database_url: str | None = None  # any SQLAlchemy URL; default: SQLite file var/faqbot.db
    max_text_chars: int = Field(default=2000, ge=1)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # The channel names a client of the chat API may give (its metrics and reports are kept apart):
    # "web" and, say, an app or a kiosk of your own. Channels with an adapter of their own (Messenger)
    # are not among them: a web client cannot speak as one.
    web_channels: list[str] = ["web"]
    # A file uploaded to the console's import page (the one request allowed a larger body).
    max_import_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    minutes_per_ticket: int = Field(default=5, ge=1)
    # Live streams (a widget or console in a hand-off holds one open): how many a process serves at
    # once, and from one address, before it answers 503 (the widget then polls).
    max_streams: int = Field(default=256, ge=1)
    max_streams_per_address: int = Field(default=8, ge=1)
    # When people answer hand-offs, in the service's time zone.
    business_hours: list[str] = ["mon-fri 09:00-18:00"]
    timezone: str = "Europe/Rome"
    # Missed queries and conversations older than this are deleted by `faqbot purge`.
    retention_days: int = Field(default=180, ge=1)
    # Sites allowed to call the API from a browser (the widget sends no cookies): "*" or a list.
    cors_origins: list[str] = ["*"]
    # Seconds between checks for a newly published index version (0 turns hot reload off).
    reload_interval: float = Field(default=5.0, ge=0.0)
    # Bearer token for /api/v1/admin/*; unset, the admin API is disabled. Environment only.
    admin_token: SecretStr | None = None
    default_lang: str = "it"
    # The staff console's language when a staff member has not chosen one (its switch remembers).
    console_lang: Literal["it", "en"] = "it"

    # Durability (see README, "Durability"). While the database is out of reach, turns are answered
    # and written to a local spool (fsync'd before the reply), replayed in order when it is back.
    spool: bool = True  # off: turns get 503 while the database is out of reach
    spool_dir: Path | None = None  # default <var_dir>/spool; on this machine's own disk, never shared
    spool_max_mb: int = Field(default=512, ge=1)  # a full spool refuses turns (503) rather than fill the disk
    db_connect_timeout: float = Field(default=3.0, gt=0)  # seconds to reach the database
    db_lock_timeout: float = Field(default=10.0, gt=0)  # seconds a turn waits for a locked conversation
    db_idle_timeout: float = Field(default=60.0, gt=0)  # PostgreSQL ends a transaction of ours idle this long
    db_retry_interval: float = Field(default=1.0, ge=0)  # after it failed, turns skip the database this long
    replay_interval: float = Field(default=1.0, gt=0)  # seconds between offers of the spool to the database
    offline_memory: int = Field(default=10_000, ge=0)  # conversations each process remembers, for outages

    # Serving speed (see README, "Speed"): recent query vectors kept in memory; concurrent queries
    # encoded together, up to this many per model call, optionally waiting this long to gather more.
    query_cache_size: int = Field(default=4096, ge=0)
    encode_max_batch: int = Field(default=32, ge=1)
    encode_window_ms: float = Field(default=0.0, ge=0.0, le=50.0)
    # Compute threads per server process for the model (0: the machine's cores / server processes).
    threads: int = Field(default=0, ge=0)
    # Set by `faqbot serve --workers N`: how many server processes share this machine.
    server_processes: int = Field(default=1, ge=1)

    # Abuse limits, per server process (N replicas or workers allow up to N times these rates)
    # unless the buckets are shared in Redis (redis_url).
    # Requests a minute per client address (0: off), and the burst a client may send at once.
    rate_limit_ip: float = Field(default=120.0, ge=0.0)
    rate_limit_ip_burst: int = Field(default=60, ge=1)
    # Chat messages and feedback a minute per conversation (0: off), and the burst.
    rate_limit_conversation: float = Field(default=20.0, ge=0.0)
    rate_limit_conversation_burst: int = Field(default=10, ge=1)
    # Clients remembered per limit; the least recently seen is forgotten first (bounded memory).
    rate_limit_keys: int = Field(default=50_000, ge=1)
    # Redis shared by every replica (redis://host:6379/0): the buckets live there, so the limits hold
    # for the whole deployment. Unset: per process. Redis out of reach: per process until it is back.
    redis_url: SecretStr | None = None  # may hold a password: environment only
    redis_timeout: float = Field(default=0.25, gt=0)  # seconds to connect to or hear from Redis
    # Proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed.
    trusted_proxies: list[str] = []
    # Seconds a client has to send the whole request body (then 408).
    body_timeout: float = Field(default=10.0, gt=0.0)
    # Seconds an idle keep-alive connection stays open (uvicorn).
    keepalive_timeout: int = Field(default=5, ge=1)
    # Connections (and requests in flight) one server process takes at once: 503 beyond.
    max_concurrency: int | None = Field(default=512, ge=1)
    # The request line and headers of one request, in bytes: 431 beyond.
    max_header_bytes: int = Field(default=64 * 1024, ge=1024)
    # The console's cookies get the Secure flag: "auto" when the request came over https.
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # Server logs: one JSON object per line ("json") or plain lines ("text").
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Log every customer turn with its text (always redacted); false keeps customers' words out of logs.
    log_text: bool = True

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {"it", "en"})
        if unknown:
            raise ValueError(f"unsupported languages {unknown}; supported: it, en")
        return value

    @field_validator(
        "admin_token", "messenger_verify_token", "messenger_app_secret", "messenger_page_token",
        "whatsapp_verify_token", "whatsapp_app_secret", "whatsapp_access_token",
        "instagram_verify_token", "instagram_app_secret", "instagram_page_token",
    )  # fmt: skip
    @classmethod
    def _blank_token_is_no_token(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty secret is no secret: FAQBOT_ADMIN_TOKEN="" disables the admin API rather than
        # accept "Authorization: Bearer ", an empty app secret leaves Messenger off rather than
        # trust deliveries signed with an empty key, an empty verify token answers no handshake.
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator(
        "whatsapp_phone_number_id", "whatsapp_business_account_id", "whatsapp_agent_template",
        "whatsapp_agent_template_lang", "instagram_account_id", "instagram_page_id", "instagram_app_id",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("redis_url")
    @classmethod
    def _blank_url_is_no_url(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("web_channels")
    @classmethod
    def _web_channel_names(cls, value: list[str]) -> list[str]:
        import re

        for name in value:
            if not re.fullmatch(r"[a-z0-9_-]{1,32}", name):
                raise ValueError(f"web_channels: {name!r} is not a channel name ([a-z0-9_-], 32 at most)")
            if name in ADAPTER_CHANNELS:
                raise ValueError(
                    f"web_channels: {name!r} has an adapter of its own; a web client cannot use it"
                )
        if not value:
            raise ValueError("web_channels: name at least one (web)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: {entry!r} is not an IP address or network") from exc
        return value

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.clarify_threshold > self.answer_threshold:
            raise ValueError(
                f"clarify_threshold ({self.clarify_threshold}) must not exceed "
                f"answer_threshold ({self.answer_threshold})"
            )
        unknown = sorted(set(self.language_thresholds) - set(self.languages))
        if unknown:
            raise ValueError(f"language_thresholds: {unknown} not among languages {self.languages}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls, env_settings))

    def path(self, name: str) -> Path:
        """Resolve one of the path settings against `home`."""
        value: Path = getattr(self, name)
        return value if value.is_absolute() else self.home / value

    @property
    def kb_path(self) -> Path:
        return self.path("kb_dir")

    @property
    def index_path(self) -> Path:
        return self.path("index_dir")

    @property
    def var_path(self) -> Path:
        return self.path("var_dir")

    @property
    def spool_path(self) -> Path:
        return self.path("spool_dir") if self.spool_dir is not None else self.var_path / "spool"

    @property
    def inbox_path(self) -> Path:
        """Where channel events wait until handled (bot.durability.inbox): beside the turns of the spool."""
        return self.spool_path / "inbox"

    @property
    def messenger_configured(self) -> bool:
        """Messenger needs the app secret (to trust deliveries) and the Page token (to answer)."""
        return self.messenger.configured

    # The groups are built on each access, not cached: they follow the settings they come from.
    @property
    def build(self) -> BuildSettings:
        """The settings an index build reads."""
        return BuildSettings(
            kb_path=self.kb_path,
            index_path=self.index_path,
            languages=tuple(self.languages),
            default_lang=self.default_lang,
            keep_versions=self.keep_versions,
            ann_threshold=self.ann_threshold,
            tune_epochs=self.tune_epochs,
            answer_tuning=self.answer_tuning,
        )

    @property
    def dialogue(self) -> DialogueSettings:
        """The settings the dialogue (thresholds, hand-off after misses) reads."""
        return DialogueSettings(
            answer_threshold=self.answer_threshold,
            clarify_threshold=self.clarify_threshold,
            language_thresholds={lang: (t.answer, t.clarify) for lang, t in self.language_thresholds.items()},
            clarify_margin=self.clarify_margin,
            max_suggestions=self.max_suggestions,
            misses_before_handoff=self.misses_before_handoff,
            languages=tuple(self.languages),
            default_lang=self.default_lang,
        )

    @property
    def encoder(self) -> EncoderSettings:
        """The settings of the model and of the serving query encoder."""
        return EncoderSettings(
            model=self.model,
            embed_batch_size=self.embed_batch_size,
            query_cache_size=self.query_cache_size,
            encode_max_batch=self.encode_max_batch,
            encode_window_ms=self.encode_window_ms,
        )

    @property
    def storage(self) -> StorageSettings:
        """The settings of the database."""
        return StorageSettings(
            database_url=self.database_url,
            var_path=self.var_path,
            connect_timeout=self.db_connect_timeout,
            lock_timeout=self.db_lock_timeout,
            idle_timeout=self.db_idle_timeout,
        )

    @property
    def messenger(self) -> MessengerSettings:
        """The settings of the Messenger channel."""
        return MessengerSettings(
            verify_token=self.messenger_verify_token,
            app_secret=self.messenger_app_secret,
            page_token=self.messenger_page_token,
            graph_url=self.messenger_graph_url,
            graph_version=self.messenger_graph_version,
            app_id=self.messenger_app_id,
            inbox_app_id=self.messenger_inbox_app_id,
            human_agent_tag=self.messenger_human_agent_tag,
            workers=self.messenger_workers,
            send_timeout=self.messenger_send_timeout,
            send_backoff=self.messenger_send_backoff,
            typing_after=self.messenger_typing_after,
            echo_grace=self.messenger_echo_grace,
        )

    @property
    def instagram(self) -> InstagramSettings:
        """The settings of the Instagram channel."""
        return InstagramSettings(
            verify_token=self.instagram_verify_token,
            app_secret=self.instagram_app_secret,
            page_token=self.instagram_page_token,
            graph_url=self.instagram_graph_url,
            graph_version=self.instagram_graph_version,
            app_id=self.instagram_app_id,
            inbox_app_id=self.instagram_inbox_app_id,
            human_agent_tag=self.instagram_human_agent_tag,
            workers=self.instagram_workers,
            send_timeout=self.instagram_send_timeout,
            send_backoff=self.instagram_send_backoff,
            typing_after=self.instagram_typing_after,
            echo_grace=self.instagram_echo_grace,
            account_id=self.instagram_account_id,
            page_id=self.instagram_page_id,
        )

    @property
    def whatsapp(self) -> WhatsAppSettings:
        """The settings of the WhatsApp channel."""
        return WhatsAppSettings(
            verify_token=self.whatsapp_verify_token,
            app_secret=self.whatsapp_app_secret,
            access_token=self.whatsapp_access_token,
            phone_number_id=self.whatsapp_phone_number_id,
            business_account_id=self.whatsapp_business_account_id,
            graph_url=self.whatsapp_graph_url,
            graph_version=self.whatsapp_graph_version,
            workers=self.whatsapp_workers,
            send_timeout=self.whatsapp_send_timeout,
            send_backoff=self.whatsapp_send_backoff,
            echo_grace=self.whatsapp_echo_grace,
            agent_template=self.whatsapp_agent_template,
            agent_template_lang=self.whatsapp_agent_template_lang,
        )


class _YamlSource(PydanticBaseSettingsSource):
    """Reads `faqbot.yaml` (under FAQBOT_HOME) when it exists; environment variables win over it."""

    def __init__(self, settings_cls: type[BaseSettings], env: PydanticBaseSettingsSource) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env = self._env()
        home = Path(env.get("home", "."))
        config = Path(env.get("config_file", "faqbot.yaml"))
        path = config if config.is_absolute() else home / config
        if not path.is_file():
            return {}
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
        return data


def update_config_file(settings: Settings, values: dict[str, Any]) -> Path:
    """Write `values` into faqbot.yaml (created if missing), keeping the other settings in it.

    Environment variables still win over the file, as always."""
    path = settings.path("config_file")
    data: dict[str, Any] = {}
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of settings")
        data = loaded
    data.update(values)
    Settings(**{**data, "home": settings.home})  # refuse values that would not load
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
    return path
