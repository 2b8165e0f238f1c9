"""Settings: no file needed, the environment wins over the file, errors name their source."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from webhook.core.workflow import State
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
    file.write_text("reopen_window: 10m\nalertmanager_token: from-file\nescalation: {opened: 5m}\n")
    settings = load_settings(str(file), env={"SIGAP_ALERTMANAGER_TOKEN": "from-env"})
    assert settings.alertmanager_token == "from-env"
    assert settings.reopen_window == 600.0
    assert settings.escalation[State.OPENED] == timedelta(minutes=5)
    assert settings.escalation[State.REPORTED] == timedelta(minutes=30)  # the SOP's default


def test_errors_name_the_variable_or_the_file_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SIGAP_DATABASE_URL: unsupported database URL"):
        load_settings(env={"SIGAP_DATABASE_URL": "mysql://x/y"})
    with pytest.raises(SettingsError, match="SIGAP_REOPEN_WINDOW"):
        load_settings(env={"SIGAP_REOPEN_WINDOW": "soon"})
    file = tmp_path / "webhook.yml"
    file.write_text("alertmanager_url: ftp://am\n")
    with pytest.raises(SettingsError, match=r"webhook\.yml:1: alertmanager_url"):
        load_settings(str(file), env={})


def test_the_prometheus_url_of_the_monthly_report(tmp_path: Path) -> None:
    settings = load_settings(env={"SIGAP_PROMETHEUS_URL": "http://prometheus:9090/"})
    assert settings.prometheus_url == "http://prometheus:9090"
    assert load_settings(env={}).prometheus_url is None
    with pytest.raises(SettingsError, match=r"SIGAP_PROMETHEUS_URL: .*not an http"):
        load_settings(env={"SIGAP_PROMETHEUS_URL": "prometheus:9090"})
    file = tmp_path / "webhook.yml"
    file.write_text("prometheus_url: ftp://prometheus\n")
    with pytest.raises(SettingsError, match=r"webhook\.yml:1: prometheus_url"):
        load_settings(str(file), env={})


SECTIONS = """\
database_url: sqlite:///x.db
notify:
  smtp: {host: mail.example, port: 25}
  retries: 3
  rules:
    report: [coordinator]
escalation:
  opened: 10m
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # an unknown top-level setting: a typo must not be ignored
        ("timezon: Asia/Makassar\n", r"x\.yml:9: timezon: unknown setting 'timezon'"),
        # an unknown key inside a section, at its own line
        ("", r"x\.yml:3: notify\.smtp\.hots: unknown key 'hots'"),
        ("", r"x\.yml:6: notify\.rules: confirm: not a move that sends messages"),
        ("", r"x\.yml:6: notify\.rules\.report\[0\]: Input should be 'coordinator'"),
        ("", r"x\.yml:8: escalation: .*escalation\.closed: a final stage has no target time"),
        ("", r"x\.yml:4: notify\.retries: Input should be a valid integer"),
        ("timezone: Mars/Olympus\n", r"x\.yml:9: timezone: .*not a time zone"),
        ("document_place: '  '\n", r"x\.yml:9: document_place: .*not a place name"),
        ("", r"x\.yml:4: notify\.language: Input should be 'id' or 'en'"),
    ],
)
def test_every_section_is_validated_with_file_line_and_path(
    tmp_path: Path, change: str, expected: str
) -> None:
    text = SECTIONS + change
    if "hots" in expected:
        text = text.replace("{host:", "{hots:")
    if "confirm" in expected:
        text = text.replace("report: [coordinator]", "confirm: [coordinator]")
    if "report\\[0" in expected:
        text = text.replace("report: [coordinator]", "report: [boss]")
    if "closed" in expected:
        text = text.replace("opened: 10m", "closed: 10m")
    if "language" in expected:
        text = text.replace("retries: 3", "language: jv")
    if "retries" in expected:
        text = text.replace("retries: 3", "retries: many")
    file = tmp_path / "x.yml"
    file.write_text(text)
    with pytest.raises(SettingsError, match=expected):
        load_settings(str(file), env={})


def test_the_sections_are_typed_once_valid(tmp_path: Path) -> None:
    file = tmp_path / "x.yml"
    file.write_text(SECTIONS)
    settings = load_settings(str(file), env={"SIGAP_TIMEZONE": "Asia/Jakarta"})
    assert settings.notify.retries == 3 and settings.notify.smtp is not None
    assert settings.notify.rules == {"report": ["coordinator"]}
    assert settings.escalation[State.OPENED] == timedelta(minutes=10)
    assert settings.timezone == "Asia/Jakarta"
    assert load_settings(env={}).timezone == "Asia/Makassar"  # WITA, the regency's
    assert settings.notify.language == "id"  # messages speak as the UI does
    assert load_settings(env={}).document_place == "Batulicin"
    assert load_settings(env={"SIGAP_DOCUMENT_PLACE": " Pagatan "}).document_place == "Pagatan"
    with pytest.raises(SettingsError, match=r"SIGAP_DOCUMENT_PLACE: .*not a place name"):
        load_settings(env={"SIGAP_DOCUMENT_PLACE": "Batulicin\nPagatan"})


def _config_check(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webhook.cli", *args, "--config.check"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )


def test_config_check_says_valid_or_names_the_problem_and_exits_1(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(SECTIONS)
    done = _config_check("--config.file", str(good))
    assert done.returncode == 0, done.stderr
    assert f"{good}: valid" in done.stdout
    bad = tmp_path / "bad.yml"
    bad.write_text(SECTIONS.replace("retries: 3", "retries: 3\n  retry: 4"))
    done = _config_check("--config.file", str(bad))
    assert done.returncode == 1
    assert f"{bad}:5: notify.retry: unknown key 'retry'" in done.stderr
    assert "Traceback" not in done.stderr
    done = _config_check(env={"SIGAP_INVENTORY": str(tmp_path / "missing.yml")})
    assert done.returncode == 1 and "missing.yml" in done.stderr


def test_every_secret_may_come_from_a_file_as_compose_and_kubernetes_mount_them(
    tmp_path: Path,
) -> None:
    def secret(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    settings = load_settings(
        env={
            "SIGAP_SECRET_KEY_FILE": secret("key", "s3cret-key\n"),  # echo's newline dropped
            "SIGAP_ALERTMANAGER_TOKEN_FILE": secret("token", "am-token"),
            "SIGAP_DATABASE_URL_FILE": secret("db", "postgresql://sigap:pw@db/sigap\n"),
        }
    )
    assert settings.secret_key == "s3cret-key" and not settings.secret_key_generated
    assert settings.alertmanager_token == "am-token"
    assert settings.database_url == "postgresql+asyncpg://sigap:pw@db/sigap"
    config = tmp_path / "sigap.yml"
    config.write_text(
        f"secret_key_file: {secret('key2', 'from-yaml')}\n"
        "notify:\n  smtp:\n    host: mail.example\n"
        f"    password_file: {secret('smtp', 'mail-pw')}\n"
    )
    from_yaml = load_settings(str(config), env={})
    assert from_yaml.secret_key == "from-yaml"
    assert from_yaml.notify.smtp is not None and from_yaml.notify.smtp.password == "mail-pw"


def test_a_secret_file_that_cannot_be_used_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope")
    with pytest.raises(SettingsError, match=f"SIGAP_SECRET_KEY_FILE: cannot read {missing}"):
        load_settings(env={"SIGAP_SECRET_KEY_FILE": missing})
    (tmp_path / "key").write_text("x")
    with pytest.raises(SettingsError, match="SIGAP_SECRET_KEY, SIGAP_SECRET_KEY_FILE: set one"):
        load_settings(env={"SIGAP_SECRET_KEY": "y", "SIGAP_SECRET_KEY_FILE": str(tmp_path / "key")})
    config = tmp_path / "sigap.yml"
    config.write_text(
        f"notify:\n  smtp:\n    host: m\n    password: a\n    password_file: {missing}\n"
    )
    with pytest.raises(
        SettingsError, match=r"sigap.yml:5: notify.smtp.password_file: set password"
    ):
        load_settings(str(config), env={})


def test_a_gateways_headers_may_come_from_files_beside_the_inline_ones(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    config = tmp_path / "sigap.yml"
    gateway = "notify:\n  webhook:\n    url: http://wa.internal/send\n"
    config.write_text(
        f"{gateway}    headers: {{X-Office: tanbu}}\n    headers_file: {{Authorization: {token}}}\n"
    )
    webhook = load_settings(str(config), env={}).notify.webhook
    assert webhook is not None
    assert webhook.headers == {"X-Office": "tanbu", "Authorization": "s3cret"}
    for written, expected in (
        (
            f"    headers: {{Authorization: x}}\n    headers_file: {{Authorization: {token}}}\n",
            r"sigap.yml:5: notify.webhook.headers_file: Authorization: set it in headers or",
        ),
        (
            f"    headers_file: {token}\n",
            r"sigap.yml:4: notify.webhook.headers_file: expected a mapping of names to files",
        ),
        (
            f"    headers_file: {{Authorization: {tmp_path / 'nope'}}}\n",
            r"notify.webhook.headers_file.Authorization: cannot read",
        ),
    ):
        config.write_text(gateway + written)
        with pytest.raises(SettingsError, match=expected):
            load_settings(str(config), env={})


def test_the_database_password_apart_from_the_url_may_hold_any_character(tmp_path: Path) -> None:
    """As compose gives it: the URL names the user, POSTGRES_PASSWORD's secret file the password."""
    password = tmp_path / "postgres_password"
    password.write_text("p@ss:w/rd#%?\n")
    settings = load_settings(
        env={
            "SIGAP_DATABASE_URL": "postgresql://sigap@postgres:5432/sigap",
            "SIGAP_DATABASE_PASSWORD_FILE": str(password),
        }
    )
    url = make_url(settings.database_url)
    assert (url.drivername, url.username, url.host) == ("postgresql+asyncpg", "sigap", "postgres")
    assert url.password == "p@ss:w/rd#%?" and url.database == "sigap"
    config = tmp_path / "webhook.yml"
    config.write_text(
        f"database_url: postgresql://sigap@db/sigap\ndatabase_password_file: {password}\n"
    )
    assert make_url(load_settings(str(config), env={}).database_url).password == "p@ss:w/rd#%?"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SIGAP_DATABASE_PASSWORD": "pw"}, "SIGAP_DATABASE_PASSWORD: .*for PostgreSQL"),
        (
            {"SIGAP_DATABASE_URL": "postgresql://u:pw@db/x", "SIGAP_DATABASE_PASSWORD": "pw"},
            "SIGAP_DATABASE_PASSWORD: the URL holds a password already",
        ),
        (
            {"SIGAP_DATABASE_URL": "postgresql://db/x", "SIGAP_DATABASE_PASSWORD": "pw"},
            "SIGAP_DATABASE_PASSWORD: .* names no user",
        ),
    ],
)
def test_a_database_password_that_cannot_be_used_is_refused(
    env: dict[str, str], problem: str
) -> None:
    with pytest.raises(SettingsError, match=problem):
        load_settings(env=env)


@pytest.mark.parametrize(
    ("key", "variable", "value"),
    [
        ("alertmanager_token", "SIGAP_ALERTMANAGER_TOKEN", "am-token"),
        ("secret_key", "SIGAP_SECRET_KEY", "s3cret"),
        ("database_password", "SIGAP_DATABASE_PASSWORD", "pw"),
        ("telegram_bot_token", "SIGAP_TELEGRAM_BOT_TOKEN", "123456789:" + "A" * 35),
        ("telegram_webhook_secret", "SIGAP_TELEGRAM_WEBHOOK_SECRET", "w" * 32),
    ],
)
def test_every_secret_reads_from_the_file_named_in_the_yaml_or_the_environment(
    tmp_path: Path, key: str, variable: str, value: str
) -> None:
    secret = tmp_path / key
    secret.write_text(value + "\n")
    database = "database_url: postgresql://sigap@db/sigap\n" if key == "database_password" else ""
    config = tmp_path / "webhook.yml"
    config.write_text(f"{database}{key}_file: {secret}\n")
    # Telegram's webhook mode needs the URL Telegram posts to
    env = {"SIGAP_EXTERNAL_URL": "https://sigap.test"} if key == "telegram_webhook_secret" else {}
    for settings in (
        load_settings(str(config), env=env),
        load_settings(
            str(config) if database else None, env={**env, f"{variable}_FILE": str(secret)}
        ),
    ):
        if key == "database_password":
            assert make_url(settings.database_url).password == value
        else:
            assert getattr(settings, key) == value


def test_an_empty_secret_file_is_refused_naming_where_it_was_named(tmp_path: Path) -> None:
    """Compose makes an empty file of a secret whose variable is empty: that must not mean "no
    token" or "a random key"."""
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(SettingsError, match=f"SIGAP_SECRET_KEY_FILE: {empty} is empty"):
        load_settings(env={"SIGAP_SECRET_KEY_FILE": str(empty)})
    config = tmp_path / "webhook.yml"
    config.write_text(f"ping_count: 3\nalertmanager_token_file: {empty}\n")
    with pytest.raises(
        SettingsError, match=r"webhook\.yml:2: alertmanager_token_file: .* is empty"
    ):
        load_settings(str(config), env={})


def test_a_bad_secret_read_from_a_file_is_named_by_its_file_key(tmp_path: Path) -> None:
    token = tmp_path / "bot"
    token.write_text("not-a-token")
    config = tmp_path / "webhook.yml"
    config.write_text(f"ping_count: 3\ntelegram_bot_token_file: {token}\n")
    with pytest.raises(SettingsError, match=r"webhook\.yml:2: telegram_bot_token_file: not a bot"):
        load_settings(str(config), env={})
    with pytest.raises(SettingsError, match=r"^SIGAP_TELEGRAM_BOT_TOKEN_FILE: not a bot"):
        load_settings(env={"SIGAP_TELEGRAM_BOT_TOKEN_FILE": str(token)})
    with pytest.raises(SettingsError) as refused:
        load_settings(env={"SIGAP_TELEGRAM_BOT_TOKEN": "12:short-secret"})
    assert "short-secret" not in str(refused.value), "a secret is repeated in the error"
