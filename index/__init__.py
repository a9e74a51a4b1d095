"""Search indexes: one interface (`index.base.SearchIndex`), an embedded SQLite FTS5 backend
and, for larger deployments, Elasticsearch."""

from __future__ import annotations

from index.base import IndexBackendError, SearchIndex
from pantau.config import ConfigError, Settings


def open_index(settings: Settings) -> SearchIndex:
    """The index backend that `index_url` names."""
    if settings.index_url == "embedded":
        from index.embedded import EmbeddedIndex

        return EmbeddedIndex(settings.index_path)
    from index.elastic import ElasticIndex

    if settings.index_ca_certs is not None and not settings.index_ca_certs.is_file():
        raise ConfigError(f"index_ca_certs: {settings.index_ca_certs} is not a file")
    try:
        return ElasticIndex(
            settings.index_url,
            username=settings.index_username,
            password=settings.index_password.get_secret_value()
            if settings.index_password
            else None,
            ca_certs=str(settings.index_ca_certs) if settings.index_ca_certs else None,
            alias=settings.index_alias,
        )
    except IndexBackendError as exc:  # e.g. a password over plain http:// to another host
        raise ConfigError(f"index_url: {exc}") from exc
