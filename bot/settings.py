"""Settings from environment variables and an optional .env file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_REDIS_RE = re.compile(r"^(rediss?|unix)://\S+$")
_POSTGRES_RE = re.compile(r"^postgres(ql)?://\S+$")


def bundled_content_dir() -> Path:
    """Return the content shipped with the package, or the checkout's content/ folder."""
    package = Path(__file__).resolve().parent
    installed = package / "_content"
    return installed if installed.is_dir() else package.parent / "content"


def default_content_dir() -> Path:
    """Return ./content if the working directory has one with content files, else the bundled texts.

    One rule for `python -m bot` in the repository and the installed `embassy-bot` anywhere:
    a staff member's content/ folder where they run the bot is never silently ignored.
    """
    local = Path("content")
    if local.is_dir() and any(local.glob("*.md")):
        return local.resolve()
    return bundled_content_dir()


def default_cache_dir() -> Path | None:
    """Return the per-user cache folder for built indexes and passage vectors (None: no home folder)."""
    try:
        return Path(platformdirs.user_cache_dir("embassy-qa-bot", appauthor=False)).expanduser()
    except (RuntimeError, KeyError):  # no HOME and a user id without a passwd entry (some containers)
        return None


class Settings(BaseSettings):
    """Every setting of the bot; see the README for each variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    content_dir: Path = Field(default_factory=default_content_dir)
    semantic: Literal["on", "off"] = "on"
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)
    top_k: int = Field(default=3, ge=1, le=20)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    index_cache_dir: Path | None = Field(default_factory=default_cache_dir)
    # One per CPU, at most 8, as index.scale.units.default_workers (not imported: settings stay light).
    index_workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 8), ge=1, le=64)
    """Processes analysing and model handles encoding a large build (default: one per CPU, at most 8)."""
    consular_url: str | None = None

    # Telegram
    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    data_dir: Path = Path("data")
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    vote_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "/telegram/webhook"
    rate_limit_messages: int = Field(default=5, ge=1)
    rate_limit_seconds: float = Field(default=10.0, gt=0)
    retention_days: int = Field(default=30, ge=1)
    shutdown_grace: float = Field(default=8.0, ge=0, le=300, allow_inf_nan=False)
    """Seconds updates in progress get to finish on SIGTERM (Docker kills after 10 s by default)."""

    # Several instances
    redis_url: SecretStr | None = None
    database_url: SecretStr | None = None

    @model_validator(mode="after")
    def _shared_secret(self) -> Settings:
        # Instances hash users and sign buttons with one key; a per-instance key breaks both.
        shared = "REDIS_URL" if self.redis_url is not None else "DATABASE_URL" if self.database_url else None
        if shared is not None and self.vote_secret is None:
            raise ValueError(f"VOTE_SECRET must be set when {shared} is: every instance uses the same one")
        return self

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _REDIS_RE.match(value.get_secret_value()):
            raise ValueError("must be a Redis URL, e.g. redis://redis:6379/0")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _POSTGRES_RE.match(value.get_secret_value()):
            raise ValueError("must be a PostgreSQL URL, e.g. postgresql://bot:password@db:5432/bot")
        return value

    @field_validator("content_dir", "data_dir", mode="before")
    @classmethod
    def _not_blank(cls, value: object) -> object:
        # Path("") is the working folder: an empty variable would read or write there unasked.
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty: set a folder, or unset the variable for the default")
        return value

    @field_validator("content_dir", "data_dir", "index_cache_dir")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        try:
            return value.expanduser() if value is not None else None
        except RuntimeError:  # "~someone/..." for a user this machine does not have
            user = str(value).split("/")[0]
            raise ValueError(f"cannot expand {user}: this machine has no such user") from None

    @field_validator("semantic", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            try:
                return frozenset(int(part) for part in parts)
            except ValueError:
                raise ValueError("must be comma-separated numeric Telegram user ids, e.g. 1,2") from None
        return value

    @field_validator(
        "telegram_api_url",
        "webhook_url",
        "bot_token",
        "webhook_secret",
        "vote_secret",
        "consular_url",
        "answer_threshold",
        "index_cache_dir",
        "redis_url",
        "database_url",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_api_url", "webhook_url", "consular_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not _URL_RE.match(value):
            raise ValueError("must be an http(s) URL, e.g. https://bot.example.org/telegram/webhook")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - in X-Telegram-Bot-Api-Secret-Token.
        if value is not None and not _SECRET_RE.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters: letters, digits, _ or -")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /, e.g. /telegram/webhook")
        return value


class SettingsError(Exception):
    """A setting with a bad value, named by its environment variable."""


def load_settings() -> Settings:
    """Build the settings once; turn validation errors into one line naming the variables."""
    try:
        return Settings()
    except UnicodeDecodeError:
        raise SettingsError(".env is not UTF-8 text: save it as UTF-8 (without BOM), or remove it") from None
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["loc"]:
                problems.append(f"{str(error['loc'][0]).upper()}: {error['msg']}")
            else:  # a rule across settings names its variables itself
                problems.append(str(error["msg"]).removeprefix("Value error, "))
        raise SettingsError("bad setting " + "; ".join(problems)) from None
