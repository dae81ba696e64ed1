"""Settings read from the environment (``PORTAL_*``), overridden by command-line flags."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore")

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    base_url: str = ""
    # Forwarded headers (X-Forwarded-For, -Proto, Forwarded) are believed only from these proxies:
    # comma-separated addresses or networks (api.forwarded); none by default.
    trusted_proxies: str = ""
    # /metrics answers only these addresses or networks (the client as api.forwarded resolves it); "" for
    # nobody. Prometheus scrapes each instance directly, so loopback is the default.
    metrics_allow: str = "127.0.0.1, ::1"
    database_url: str = Field(
        default="", validation_alias=AliasChoices("DATABASE_URL", "PORTAL_DATABASE_URL")
    )
    # Change notices between instances through Redis pub/sub instead of PostgreSQL's LISTEN/NOTIFY
    # (services.notices); "" for LISTEN/NOTIFY on PostgreSQL, in-process on SQLite.
    redis_url: str = ""
    demo: bool = False
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    sqlite_busy_timeout: float = Field(default=10.0, gt=0, le=600)  # seconds a write waits for a lock
    secret_key: str = ""  # seals the secrets saved in Settings (else data_dir/secret_key)
    # Scheduled backups until the owner chooses in Settings > Backups: every N hours (0: off), the newest
    # N kept; the folder is the environment's alone, as a page must not choose where the server writes.
    backup_every: int = Field(default=0, ge=0, le=8760)
    backup_keep: int = Field(default=7, ge=1, le=1000)
    backup_dir: Path | None = None

    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_from: str = ""

    stripe_secret_key: str = ""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    stripe_js_url: str = "https://js.stripe.com/v3/"

    @field_validator("base_url", "stripe_api_base")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'portal.db').resolve()}"

    @property
    def resolved_backup_dir(self) -> Path:
        return (self.backup_dir or self.data_dir / "backups").resolve()

    @property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def metrics_allow_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.metrics_allow)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def public_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16, ::1"`` as networks; raises ``ValueError`` naming a bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (such as 10.0.0.0/8)") from None
    return tuple(networks)


class StartupError(Exception):
    """The portal cannot start; the message says why in one line, which is all the operator sees."""


class SettingsError(StartupError):
    """A setting has a value the portal cannot run with; the message names it in one line."""


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment; ``overrides`` (from flags) win over it."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "?"
        name = "DATABASE_URL" if field.lower() == "database_url" else f"PORTAL_{field.upper()}"
        raise SettingsError(f"Invalid setting {name}: {first['msg']}") from None
