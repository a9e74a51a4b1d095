"""Search indexes: one interface (`index.base.SearchIndex`), an embedded SQLite FTS5 backend
and, for larger deployments, Elasticsearch."""

from __future__ import annotations

from index.base import SearchIndex
from pantau.config import ConfigError, Settings


def open_index(settings: Settings) -> SearchIndex:
    """The index backend that `index_url` names."""
    if settings.index_url == "embedded":
        from index.embedded import EmbeddedIndex

        return EmbeddedIndex(settings.index_path)
    raise ConfigError(
        f"index_url: {settings.index_url} — the Elasticsearch backend is not available in "
        "this version; use 'embedded'"
    )
