from __future__ import annotations

from pathlib import Path

import pytest

from pantau.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pantau.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_are_read_and_environment_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, f'data_dir = "{tmp_path}/data"\n[crawl]\nmax_pages = 3\n')
    monkeypatch.setenv("PANTAU_CRAWL__MAX_PAGES", "7")
    settings = load_settings(path=path)
    assert settings.data_dir == tmp_path / "data"
    assert settings.crawl.max_pages == 7
    assert settings.store_path == tmp_path / "data" / "pantau.sqlite"


def test_command_line_overrides_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "env"))
    settings = load_settings({"data_dir": tmp_path / "cli"}, path=write(tmp_path, ""))
    assert settings.data_dir == tmp_path / "cli"


def test_default_sources_are_the_three_jambi_outlets(tmp_path: Path) -> None:
    settings = load_settings(path=write(tmp_path, ""))
    assert [s.name for s in settings.enabled_sources()] == [
        "jambiekspres",
        "tribunjambi",
        "antarajambi",
    ]
    assert settings.index_url == "embedded"


def test_malformed_config_names_the_bad_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[crawl]\nmax_pages = "lots"\n[[sources]]\nname = "x"\nlabel = "X"\n'
        'spider = "disway"\nurl = "https://x.example"\nspidr = 1\n',
    )
    with pytest.raises(ConfigError) as error:
        load_settings(path=path)
    message = str(error.value)
    assert "crawl.max_pages" in message
    assert "sources.0.spidr" in message


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path=path)


def test_unknown_source_name_is_an_error(tmp_path: Path) -> None:
    settings = load_settings(path=write(tmp_path, ""))
    with pytest.raises(ConfigError, match="unknown source nosuch"):
        settings.enabled_sources(["nosuch"])


def test_index_url_must_be_embedded_or_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="index_url"):
        load_settings({"index_url": "ftp://x"}, path=write(tmp_path, ""))
