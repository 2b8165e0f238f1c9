"""Settings: no file needed, the environment wins over the file, errors name their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from webhook.settings import SettingsError, database_url, load_settings


def test_defaults_without_a_file() -> None:
    settings = load_settings(env={})
    assert settings.database_url == "sqlite+aiosqlite:///sigap.db"
    assert settings.alertmanager_token is None and settings.secret_key_generated
    assert (settings.transient_window, settings.reopen_window) == (300.0, 1800.0)
    assert settings.reconcile_interval == 60.0


@pytest.mark.parametrize(
    ("written", "driver"),
    [
        ("sqlite:////var/lib/sigap/sigap.db", "sqlite+aiosqlite:////var/lib/sigap/sigap.db"),
        ("postgresql://sigap@db/sigap", "postgresql+asyncpg://sigap@db/sigap"),
        ("postgres://sigap:pw@db:5432/sigap", "postgresql+asyncpg://sigap:pw@db:5432/sigap"),
    ],
)
def test_database_url_picks_the_async_driver(written: str, driver: str) -> None:
    assert database_url(written) == driver


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "webhook.yml"
    file.write_text("reopen_window: 10m\nalertmanager_token: from-file\nui: {lang: id}\n")
    settings = load_settings(str(file), env={"SIGAP_ALERTMANAGER_TOKEN": "from-env"})
    assert settings.alertmanager_token == "from-env"
    assert settings.reopen_window == 600.0
    assert settings.sections == {"ui": {"lang": "id"}}


def test_errors_name_the_variable_or_the_file_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SIGAP_DATABASE_URL: unsupported database URL"):
        load_settings(env={"SIGAP_DATABASE_URL": "mysql://x/y"})
    with pytest.raises(SettingsError, match="SIGAP_REOPEN_WINDOW"):
        load_settings(env={"SIGAP_REOPEN_WINDOW": "soon"})
    file = tmp_path / "webhook.yml"
    file.write_text("alertmanager_url: ftp://am\n")
    with pytest.raises(SettingsError, match=r"webhook\.yml: alertmanager_url"):
        load_settings(str(file), env={})


def test_the_prometheus_url_of_the_monthly_report(tmp_path: Path) -> None:
    settings = load_settings(env={"SIGAP_PROMETHEUS_URL": "http://prometheus:9090/"})
    assert settings.prometheus_url == "http://prometheus:9090"
    assert load_settings(env={}).prometheus_url is None
    with pytest.raises(SettingsError, match=r"SIGAP_PROMETHEUS_URL: .*not an http"):
        load_settings(env={"SIGAP_PROMETHEUS_URL": "prometheus:9090"})
    file = tmp_path / "webhook.yml"
    file.write_text("prometheus_url: ftp://prometheus\n")
    with pytest.raises(SettingsError, match=r"webhook\.yml: prometheus_url"):
        load_settings(str(file), env={})
