"""One settings object for Pantau: defaults, then a TOML file, then environment variables.

Where settings come from, lowest precedence first:

1. the defaults below;
2. a TOML file: `$PANTAU_CONFIG`, else `./pantau.toml`, else `<user config dir>/pantau/config.toml`;
3. environment variables `PANTAU_<NAME>` (nested with `__`, e.g. `PANTAU_CRAWL__MAX_PAGES=50`);
4. options given on the command line (`--data-dir`, `--index-url`).

`docs/configuration.md` lists every key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_dir, user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SpiderName = Literal["disway", "tribun", "antara", "generic"]


class ConfigError(Exception):
    """A configuration problem, phrased for the person who wrote the configuration."""


class SourceConfig(BaseModel):
    """One news site to crawl."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Short key used on the command line, e.g. 'jambiekspres'.")
    label: str = Field(description="Outlet name as analysts know it, e.g. 'Jambi Ekspres'.")
    spider: SpiderName
    url: str = Field(description="Base URL of the site, e.g. 'https://jambiekspres.disway.id'.")
    enabled: bool = True
    categories: list[str] = Field(
        default_factory=list,
        description="Listing categories to walk (Disway: kategori slugs). Empty: the site default.",
    )

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class CrawlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_agent: str = "PantauBot/0.1 (+https://github.com/pantau; news monitoring for DPMPPA)"
    contact: str = "pantau@localhost"
    max_pages: int = Field(default=200, ge=1, description="Pages fetched per source and run.")
    max_listing_pages: int = Field(default=5, ge=1, description="Listing pages walked per section.")
    concurrent_per_domain: int = Field(default=2, ge=1, le=2)
    download_delay: float = Field(default=1.0, ge=0)
    autothrottle: bool = True
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0)
    obey_robots: bool = True
    max_page_bytes: int = Field(default=5_000_000, gt=0)
    retry_backoff: float = Field(
        default=1.0, ge=0, description="Seconds before the first retry of a 5xx/429, doubling."
    )
    max_retry_after: float = Field(
        default=60.0, ge=0, description="Longest Retry-After waited for; longer: not retried."
    )
    error_budget: int = Field(
        default=20,
        ge=1,
        description="Failed requests after which a source whose requests mostly fail is stopped.",
    )
    refetch_days: float = Field(
        default=3.0, ge=0, description="Re-fetch articles published this recently (0: never)."
    )
    story_threshold: float = Field(
        default=0.2, gt=0, le=1, description="Similarity that links two articles into a story."
    )
    story_window_days: float = Field(
        default=7.0, ge=0, description="Most days between two articles of one story."
    )
    max_article_pages: int = Field(
        default=20, ge=1, description="Pages of one multi-page article fetched and stitched."
    )
    write_batch: int = Field(
        default=100, ge=1, description="Pages and articles committed to the store together."
    )
    write_batch_s: float = Field(
        default=0.5, ge=0, description="Longest wait (s) of a fetched article before its commit."
    )


class WebConfig(BaseModel):
    """`pantau serve`: where it listens and how its session cookie is sent."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    secret_key: str | None = Field(
        default=None,
        description="Keys the session-token hashes; unset: a random key kept in "
        "<data_dir>/web-secret (created on first use, mode 0600).",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send the session cookie over HTTPS only. Set false only for http on "
        "localhost (development, tests).",
    )
    session_hours: float = Field(default=12.0, gt=0)
    login_attempts: int = Field(
        default=5, ge=1, description="Failed logins per user and address before a pause."
    )
    login_window_minutes: float = Field(default=15.0, gt=0)


class FlowConfig(BaseModel):
    """How the Prefect flows run the stages (flows/pipeline.py, `pantau run`, `pantau schedule`)."""

    model_config = ConfigDict(extra="forbid")

    max_parallel_sources: int = Field(default=4, ge=1, description="Sources crawled at once.")
    crawl_timeout: float = Field(default=3600.0, gt=0, description="Seconds per source crawl.")
    crawl_retries: int = Field(
        default=2, ge=0, description="Retries of a crawl whose process crashed or timed out."
    )
    retry_delay: float = Field(
        default=30.0, ge=0, description="Seconds before the first retry; doubled each time."
    )
    timezone: str = "Asia/Jakarta"
    ingest_cron: str = "0 * * * *"
    digest_cron: str = "0 7 * * 1"


class DigestConfig(BaseModel):
    """The weekly digest (`pantau digest`, flows/digest.py): its scope and SMTP delivery."""

    model_config = ConfigDict(extra="forbid")

    region: str = Field(
        default="15", description="Kemendagri code of the scope (default: Jambi province)."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: not sent.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    smtp_ca_certs: Path | None = Field(
        default=None, description="PEM file of the CA of the SMTP server's certificate."
    )
    username: str | None = Field(default=None, description="SMTP login; unset: no AUTH.")
    password: SecretStr | None = Field(
        default=None, description="Its password; PANTAU_DIGEST__PASSWORD keeps it out of files."
    )
    sender: str = Field(default="pantau@localhost", description="The From: address.")
    recipients: list[str] = Field(default_factory=list, description="To: addresses.")
    send_attempts: int = Field(default=4, ge=1, description="Tries per delivery, retries included.")
    retry_delay: float = Field(
        default=30.0, ge=0, description="Seconds before the first retry; doubled each time."
    )
    timeout: float = Field(default=60.0, gt=0, description="Seconds per SMTP operation.")

    @property
    def can_send(self) -> bool:
        return bool(self.smtp_host and self.recipients)


class NerConfig(BaseModel):
    """Which entity model `pantau tag` uses (nlp/ner)."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["spacy", "transformers"] = Field(
        default="spacy",
        description="'spacy': the CPU pipeline; 'transformers': a token classifier fine-tuned "
        "with `pantau train ner --backbone`.",
    )
    model_path: Path | None = Field(
        default=None, description="Model folder; unset: the shipped models/ner-id/model."
    )


DEFAULT_SOURCES = [
    SourceConfig(
        name="jambiekspres",
        label="Jambi Ekspres",
        spider="disway",
        url="https://jambiekspres.disway.id",
        categories=["kriminal", "jambi"],
    ),
    SourceConfig(
        name="tribunjambi",
        label="Tribun Jambi",
        spider="tribun",
        url="https://jambi.tribunnews.com",
    ),
    SourceConfig(
        name="antarajambi",
        label="Antara Jambi",
        spider="antara",
        url="https://jambi.antaranews.com",
    ),
]


class _FileValues(PydanticBaseSettingsSource):
    """The values read from the TOML file, as a settings source below the environment."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


# Set by load_settings for the duration of one Settings() construction.
_file_values_in_effect: dict[str, Any] = {}


def _default_data_dir() -> Path:
    return Path(user_data_dir("pantau", appauthor=False))


class Settings(BaseSettings):
    """Everything Pantau can be told. Unknown keys are errors, so a typo never goes unnoticed."""

    model_config = SettingsConfigDict(
        env_prefix="PANTAU_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    index_url: str = Field(
        default="embedded",
        description="'embedded' (SQLite FTS5 file in data_dir) or an Elasticsearch http(s):// URL.",
    )
    index_username: str | None = Field(
        default=None, description="Elasticsearch user (basic auth); e.g. 'pantau'."
    )
    index_password: SecretStr | None = Field(
        default=None, description="Its password; PANTAU_INDEX_PASSWORD keeps it out of files."
    )
    index_ca_certs: Path | None = Field(
        default=None, description="PEM file of the CA that signed the cluster's certificate."
    )
    index_alias: str = Field(
        default="pantau-articles", description="Elasticsearch alias Pantau reads and writes."
    )
    shared_data_dir: Path | None = Field(
        default=None, description="Training and benchmark data (../shared/data); scripts only."
    )
    log_level: str = "INFO"
    sources: list[SourceConfig] = Field(default_factory=lambda: list(DEFAULT_SOURCES))
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    flow: FlowConfig = Field(default_factory=FlowConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    ner: NerConfig = Field(default_factory=NerConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)

    @field_validator("index_url")
    @classmethod
    def _index_url_kind(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("http://", "https://")):
            raise ValueError("must be 'embedded' or an http(s):// URL")
        return value

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, value: list[SourceConfig]) -> list[SourceConfig]:
        names = [source.name for source in value]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"source names must be unique, repeated: {', '.join(duplicated)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Command-line overrides win, then the environment, then the TOML file.
        return (init_settings, env_settings, _FileValues(settings_cls, _file_values_in_effect))

    # Paths derived from data_dir, so every component agrees on where things live.
    @property
    def store_path(self) -> Path:
        return self.data_dir / "pantau.sqlite"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.sqlite"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def digests_dir(self) -> Path:
        return self.data_dir / "digests"

    def enabled_sources(self, names: list[str] | None = None) -> list[SourceConfig]:
        if not names:
            return [source for source in self.sources if source.enabled]
        known = {source.name: source for source in self.sources}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(
                f"unknown source {', '.join(unknown)}; configured: {', '.join(known) or 'none'}"
            )
        return [known[name] for name in names]


def config_file_path() -> Path | None:
    """The TOML file in effect, if any (see the module docstring for the search order)."""
    explicit = os.environ.get("PANTAU_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"PANTAU_CONFIG points to {path}, which is not a file")
        return path
    for candidate in (Path("pantau.toml"), Path(user_config_dir("pantau")) / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def _describe(error: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration ({origin}):"]
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {key}: {problem['msg']}")
    return "\n".join(lines)


def load_settings(overrides: dict[str, Any] | None = None, path: Path | None = None) -> Settings:
    """Build the settings; raise ConfigError naming the bad key when something is wrong."""
    file_path = path or config_file_path()
    file_values: dict[str, Any] = {}
    if file_path is not None:
        try:
            file_values = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"invalid configuration ({file_path}): not valid TOML: {exc}"
            ) from exc
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    origin = f"{file_path} and PANTAU_* environment" if file_path else "PANTAU_* environment"
    global _file_values_in_effect
    _file_values_in_effect = file_values
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc
    finally:
        _file_values_in_effect = {}
