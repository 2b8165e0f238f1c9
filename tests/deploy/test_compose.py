"""The production stack (docker-compose.yml, Dockerfile, .env.example), checked without a Docker
engine: the file is valid Compose, everything it names exists, and every host, port, URL, token
and path agrees with the configs it mounts, which are the very files the end-to-end tests run
(tests/e2e/harness.py).

The Compose Specification JSON schema comes from the npm package dclint, fetched by
scripts/setup.sh into the virtualenv (SIGAP_COMPOSE_SCHEMA overrides the path).
"""

from __future__ import annotations

import copy
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.e2e import harness

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"
GRAFANA = ROOT / "deploy" / "grafana"
WEBHOOK_EXAMPLE_CONFIG = ROOT / "deploy" / "webhook.example.yml"
SCHEMA = Path(
    os.environ.get(
        "SIGAP_COMPOSE_SCHEMA", Path(sys.prefix) / "share" / "compose-spec" / "compose-spec.json"
    )
)

Json = dict[str, Any]

SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$")
"""Variables of .env.example that hold secrets: empty in the example, required by compose."""
# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, $VAR; $$ is
# a literal dollar (Compose Specification, "Interpolation").
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


# --- reading the files ----------------------------------------------------------------------------


def env_example() -> dict[str, str]:
    """NAME -> value of .env.example (`NAME=value` lines; `#` starts a comment line)."""
    values: dict[str, str] = {}
    for number, line in enumerate(ENV_EXAMPLE.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name), (
            f".env.example:{number}: expected NAME=value, got {line!r}"
        )
        assert name not in values, f".env.example:{number}: {name} set twice"
        values[name] = value
    return values


OPERATOR_SETS = {
    "SIGAP_INVENTORY_FILE": "./deploy/inventory.example.yml",  # the operator's own, here the lab's
    "SIGAP_EXTERNAL_URL": "https://sigap.example.go.id",
}
"""What the operator must set besides the secrets (compose refuses to start without them)."""


def operator_env() -> dict[str, str]:
    """.env as an operator makes it from .env.example: the empty secrets filled in, the
    inventory and the external URL set."""
    return {
        name: value or OPERATOR_SETS.get(name, f"test-{name.lower()}-0123456789")
        for name, value in env_example().items()
    }


class MissingVariable(Exception):
    pass


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name = m["braced"] or m["plain"]
        op, arg, current = m["op"], m["arg"] or "", env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and (current is None or (op == ":-" and current == "")):
            return arg
        if op == ":+":
            return arg if current else ""
        if op == "+":
            return arg if current is not None else ""
        return current or ""

    return VARIABLE.sub(value, text)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    """Every string of a parsed compose file interpolated, as `docker compose` does."""
    if isinstance(node, dict):
        return {key: interpolated(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def raw_compose() -> Json:
    data: Json = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def compose() -> Json:
    """docker-compose.yml as it runs with an .env made from .env.example."""
    data: Json = interpolated(raw_compose(), operator_env())
    return data


def services() -> dict[str, Json]:
    result: dict[str, Json] = compose()["services"]
    return result


def command(service: Json) -> list[str]:
    value = service.get("command", [])
    return value.split() if isinstance(value, str) else list(value)


def flag(service: Json, name: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` in the service's command."""
    args = command(service)
    for i, arg in enumerate(args):
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
        if arg == name and i + 1 < len(args):
            return args[i + 1]
    return None


def environment(service: Json) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


@dataclass(frozen=True)
class Mount:
    source: str
    """A host path (absolute) for a bind mount, the volume's name otherwise."""
    target: str
    bind: bool


def mounts(service: Json) -> list[Mount]:
    result = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            target = rest.split(":")[0]
            bind = source.startswith((".", "/", "~"))
        else:
            source, target = volume.get("source", ""), volume["target"]
            bind = volume.get("type") == "bind"
        if bind:
            source = str((ROOT / source).resolve())
        result.append(Mount(source, target, bind))
    return result


def mount_source(service: Json, target: str) -> Path:
    """The host path bind-mounted at ``target`` (or at a directory above it)."""
    path = PurePosixPath(target)
    for m in mounts(service):
        if m.bind and (path == PurePosixPath(m.target) or PurePosixPath(m.target) in path.parents):
            return Path(m.source) / path.relative_to(m.target)
    raise AssertionError(f"nothing is bind-mounted at {target}")


def runs(service: Json) -> str:
    """What the service is: the console script of a SIGAP service, else its image's name."""
    if "build" in service:
        return command(service)[0]
    return str(service["image"]).rsplit(":", 1)[0]


def service_running(name: str) -> str:
    """The compose service that runs ``name`` (sigap-exporter, prom/prometheus, ...)."""
    found = [s for s, service in services().items() if runs(service) == name]
    assert len(found) == 1, f"expected one service running {name}, found {found}"
    return found[0]


def listen_port(name: str) -> int:
    """The port the service listens on inside its container, from its own settings."""
    service = services()[name]
    address = flag(service, "--web.listen-address")
    if address is not None:
        return int(address.rsplit(":", 1)[1])
    if runs(service).startswith("grafana/"):
        return int(environment(service).get("GF_SERVER_HTTP_PORT", "3000"))
    if runs(service) == "postgres":
        return int(environment(service).get("PGPORT", "5432"))
    raise AssertionError(f"service {name}: no --web.listen-address; which port does it serve?")


def host_port(address: str) -> tuple[str, int]:
    parts = urlsplit(address if "//" in address else f"//{address}")
    assert parts.hostname and parts.port, f"{address!r}: expected host:port"
    return parts.hostname, parts.port


def assert_is_service(address: str, expected: str) -> None:
    """``address`` (host:port or a URL) is the compose service ``expected`` at its listen port."""
    host, port = host_port(address)
    assert host == expected, f"{address}: host {host!r}, but the service is {expected!r}"
    assert port == listen_port(expected), (
        f"{address}: port {port}, but {expected} listens on {listen_port(expected)}"
    )


def variables_in(text: str) -> set[str]:
    return {m["braced"] or m["plain"] for m in VARIABLE.finditer(text) if not m["escaped"]}


def load_yaml(path: Path) -> Json:
    data: Json = yaml.safe_load(path.read_text())
    return data


# --- the Compose file itself --------------------------------------------------------------------


def compose_schema() -> Json:
    if not SCHEMA.is_file():
        pytest.fail(
            f"the Compose Specification schema is missing ({SCHEMA}): run scripts/setup.sh, "
            "which fetches it with npm (package dclint)"
        )
    schema: Json = json.loads(SCHEMA.read_text())
    return schema


def schema_errors(data: Json) -> list[str]:
    validator = jsonschema.Draft7Validator(compose_schema())
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]


def test_compose_file_follows_the_compose_specification() -> None:
    assert schema_errors(raw_compose()) == []
    assert schema_errors(compose()) == []
    # The schema is the real one: it refuses what `docker compose` refuses.
    broken = copy.deepcopy(compose())
    broken["services"]["exporter"]["cap_add"] = "NET_RAW"
    broken["services"]["webhook"]["helthcheck"] = {}
    assert len(schema_errors(broken)) == 2


def test_every_variable_is_in_env_example_with_a_comment() -> None:
    used = variables_in(COMPOSE_FILE.read_text())
    documented = env_example()
    assert used - documented.keys() == set(), "used in docker-compose.yml, not in .env.example"
    assert documented.keys() - used == set(), "in .env.example, but docker-compose.yml ignores it"
    lines = ENV_EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"[A-Za-z_]+=", line):
            assert i > 0 and lines[i - 1].startswith("#"), f".env.example: {line}: no comment"


def test_secrets_are_empty_in_the_example_and_required_by_compose() -> None:
    text = COMPOSE_FILE.read_text()
    secrets = [name for name in env_example() if SECRET_NAME.search(name)]
    assert {"POSTGRES_PASSWORD", "SIGAP_ALERTMANAGER_TOKEN", "SIGAP_SECRET_KEY"} <= set(secrets)
    for name in secrets:
        assert env_example()[name] == "", f".env.example holds a value for the secret {name}"
        uses = [m for m in VARIABLE.finditer(text) if (m["braced"] or m["plain"]) == name]
        assert uses and all(m["op"] == ":?" for m in uses), (
            f"docker-compose.yml must refuse to start without {name}: write ${{{name}:?...}}"
        )
    # ... so an .env as shipped stops compose, and one with the secrets filled in starts it.
    with pytest.raises(MissingVariable):
        interpolated(raw_compose(), env_example())
    compose()
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert ".env" in DOCKERIGNORE.read_text().split()


@pytest.mark.parametrize("compose_file", ["docker-compose.yml", "docker-compose.ha.yml"])
@pytest.mark.parametrize("name", sorted(OPERATOR_SETS))
def test_the_shipped_env_refuses_to_start_until_the_operator_sets_the_network(
    compose_file: str, name: str
) -> None:
    """The traps of issue 24: the lab's inventory on a real server (SigapCoreDown at once), and
    links to localhost. .env.example leaves both empty; compose stops naming what to set."""
    assert env_example()[name] == "", f".env.example must not set {name}"
    raw = yaml.safe_load((ROOT / compose_file).read_text())
    uses = [m for m in VARIABLE.finditer((ROOT / compose_file).read_text())
            if (m["braced"] or m["plain"]) == name]  # fmt: skip
    assert uses and all(m["op"] == ":?" for m in uses), f"{compose_file}: ${{{name}:?...}}"
    env = {**operator_env(), name: ""}
    with pytest.raises(MissingVariable, match=f"{name}: set {name} in .env"):
        interpolated(raw, env)


def test_every_referenced_file_exists() -> None:
    data = compose()
    for name, service in data["services"].items():
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            assert context.is_dir(), f"{name}: build context {context}"
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            assert (context / (dockerfile or "Dockerfile")).is_file(), f"{name}: Dockerfile"
        for m in mounts(service):
            if m.bind:
                assert Path(m.source).exists(), f"{name}: bind mount source {m.source}"
            else:
                assert m.source in (data.get("volumes") or {}), f"{name}: undeclared {m.source}"
        env_files = service.get("env_file", [])
        for env_file in [env_files] if isinstance(env_files, str) else env_files:
            path = env_file if isinstance(env_file, str) else env_file["path"]
            if Path(path).name != ".env":  # the operator's, made from .env.example
                assert (ROOT / path).is_file(), f"{name}: env_file {path}"
    for name, secret in (data.get("secrets") or {}).items():
        if "file" in secret:
            assert (ROOT / secret["file"]).is_file(), f"secret {name}: {secret['file']}"
        else:
            assert secret.get("environment") in env_example(), f"secret {name}: which variable?"


def test_state_lives_in_named_volumes() -> None:
    data = compose()
    data_dirs = {
        service_running("postgres"): "/var/lib/postgresql/data",
        service_running("prom/prometheus"): flag(
            services()[service_running("prom/prometheus")], "--storage.tsdb.path"
        ),
        service_running("prom/alertmanager"): flag(
            services()[service_running("prom/alertmanager")], "--storage.path"
        ),
        service_running("grafana/grafana"): "/var/lib/grafana",
    }
    used = set()
    for name, path in data_dirs.items():
        named = {m.target: m.source for m in mounts(data["services"][name]) if not m.bind}
        assert path in named, f"{name}: its state ({path}) is in no named volume"
        used.add(named[path])
    for service in data["services"].values():
        used |= {m.source for m in mounts(service) if not m.bind}
    assert set(data.get("volumes") or {}) == used, "declared volumes and used volumes differ"


def test_restart_policies_and_dependencies() -> None:
    all_services = services()
    for name, service in all_services.items():
        assert service.get("restart") in ("always", "unless-stopped"), f"{name}: restart policy"
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            if spec.get("condition") == "service_healthy":
                assert "healthcheck" in all_services[dependency], f"{dependency}: no healthcheck"
    # The webhook migrates the schema on start: it must wait for PostgreSQL.
    webhook = all_services[service_running("sigap-webhook")]
    assert webhook["depends_on"][service_running("postgres")]["condition"] == "service_healthy"
    # Prometheus must start (and fire SigapExporterDown) when the exporter cannot.
    exporter = service_running("sigap-exporter")
    prometheus = all_services[service_running("prom/prometheus")]
    assert exporter not in (prometheus.get("depends_on") or {})


# --- hosts, ports and URLs agree with the configs -----------------------------------------------


def test_healthchecks_probe_each_service_on_its_own_port() -> None:
    expected_paths = {
        "sigap-exporter": {"/-/ready", "/-/healthy"},
        "sigap-webhook": {"/-/ready", "/-/healthy"},
        "prom/prometheus": {"/-/ready"},
        "prom/alertmanager": {"/-/ready"},
        "grafana/grafana": {"/api/health"},
    }
    for name, service in services().items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name}: no healthcheck"
        text = " ".join(test[1:]) if isinstance(test, list) else test
        if runs(service) == "postgres":
            user = environment(service)["POSTGRES_USER"]
            assert "pg_isready" in text and f"--username={user}" in text, f"{name}: {text}"
            continue
        urls = re.findall(r"https?://[^\s'\"]+", text)
        assert urls, f"{name}: the healthcheck fetches no URL: {text}"
        for url in urls:
            parts = urlsplit(url)
            assert parts.hostname in ("127.0.0.1", "localhost"), f"{name}: {url} is not itself"
            assert parts.port == listen_port(name), f"{name}: {url} is not its port"
            assert parts.path in expected_paths[runs(service)], f"{name}: {url}"


def test_published_ports_are_the_ports_the_services_listen_on() -> None:
    published = 0
    for name, service in services().items():
        for port in service.get("ports", []):
            container = port["target"] if isinstance(port, dict) else str(port).rsplit(":", 1)[1]
            assert int(str(container).split("/")[0]) == listen_port(name), f"{name}: {port}"
            published += 1
    assert published >= 2  # at least the webhook's UI and Grafana


def test_prometheus_scrapes_and_alerts_the_compose_services() -> None:
    config = load_yaml(harness.PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    scripts = {
        "sigap-exporter": "sigap-exporter",
        "sigap-webhook": "sigap-webhook",
        "alertmanager": "prom/alertmanager",
    }
    for job_name, job in jobs.items():
        for group in job["static_configs"]:
            for target in group["targets"]:
                what = scripts.get(job_name, "prom/prometheus" if job_name == "prometheus" else "")
                assert what, f"scrape job {job_name}: which service is it?"
                assert_is_service(target, service_running(what))
    alertmanagers = [
        target
        for am in config["alerting"]["alertmanagers"]
        for group in am["static_configs"]
        for target in group["targets"]
    ]
    assert alertmanagers
    for target in alertmanagers:
        assert_is_service(target, service_running("prom/alertmanager"))


def test_alertmanager_notifies_the_webhook_with_the_token_compose_gives_both() -> None:
    config = load_yaml(harness.ALERTMANAGER_CONFIG)
    hooks = [hook for r in config["receivers"] for hook in r.get("webhook_configs", [])]
    assert hooks
    alertmanager = services()[service_running("prom/alertmanager")]
    webhook_name = service_running("sigap-webhook")
    raw_webhook = raw_compose()["services"][webhook_name]
    token_variable = variables_in(raw_webhook["environment"]["SIGAP_ALERTMANAGER_TOKEN"])
    for hook in hooks:
        assert_is_service(hook["url"], webhook_name)
        assert urlsplit(hook["url"]).path == "/api/v1/alertmanager"
        token_file = hook["http_config"]["authorization"]["credentials_file"]
        given = [s for s in alertmanager.get("secrets", []) if s["target"] == token_file]
        assert given, f"no compose secret puts the token at {token_file}"
        secret = compose()["secrets"][given[0]["source"]]
        # The same variable of .env feeds the webhook's setting and Alertmanager's file.
        assert {secret["environment"]} == token_variable
        # The official image runs as nobody (65534): the file must be readable to it.
        mode = given[0].get("mode", 0o444)
        mode = int(mode, 8) if isinstance(mode, str) else mode  # a string is octal, as in chmod
        assert str(given[0].get("uid")) == "65534" or mode & 0o004, "nobody cannot read it"


def test_webhook_reaches_alertmanager_prometheus_and_postgresql() -> None:
    webhook = services()[service_running("sigap-webhook")]
    env = environment(webhook)
    assert_is_service(env["SIGAP_ALERTMANAGER_URL"], service_running("prom/alertmanager"))
    assert_is_service(env["SIGAP_PROMETHEUS_URL"], service_running("prom/prometheus"))
    database = urlsplit(env["SIGAP_DATABASE_URL"])
    postgres_name = service_running("postgres")
    postgres = environment(services()[postgres_name])
    assert database.scheme == "postgresql"
    assert database.hostname == postgres_name and (database.port or 5432) == listen_port(
        postgres_name
    )
    assert database.username == postgres["POSTGRES_USER"]
    assert database.password == postgres["POSTGRES_PASSWORD"]
    assert database.path == f"/{postgres['POSTGRES_DB']}"
    assert mount_source(webhook, env["SIGAP_INVENTORY"]).is_file()
    config_file = flag(webhook, "--config.file")
    if config_file is not None:
        assert mount_source(webhook, config_file).is_file()


def test_exporter_and_webhook_read_the_same_inventory() -> None:
    exporter = services()[service_running("sigap-exporter")]
    webhook = services()[service_running("sigap-webhook")]
    config_file = flag(exporter, "--config.file")
    assert config_file is not None
    inventory = mount_source(exporter, config_file)
    assert inventory == mount_source(webhook, environment(webhook)["SIGAP_INVENTORY"])
    assert inventory.is_file()


def test_services_can_open_their_icmp_sockets() -> None:
    """As exporter/icmp.py decides: a raw socket needs CAP_NET_RAW in a root process (a non-root
    one loses cap_add capabilities at exec); else the datagram socket needs the process's group
    inside net.ipv4.ping_group_range."""

    def ping_groups(service: Json) -> range:
        low, high = str(service.get("sysctls", {}).get("net.ipv4.ping_group_range", "1 0")).split()
        return range(int(low), int(high) + 1)

    def gid(service: Json) -> int:
        user = str(service.get("user", "10001:10001"))  # the Dockerfile's user
        return 0 if user == "root" else int(user.split(":")[-1])

    exporter = services()[service_running("sigap-exporter")]
    assert "NET_RAW" in exporter.get("cap_add", []), "the exporter needs NET_RAW"
    raw = str(exporter.get("user", "")).split(":")[0] in ("0", "root")
    assert raw or gid(exporter) in ping_groups(exporter), "the exporter cannot open a socket"
    webhook = services()[service_running("sigap-webhook")]
    assert gid(webhook) in ping_groups(webhook), "the webhook's ping check cannot open a socket"


def test_dockerfile_user_is_the_one_the_socket_test_assumes() -> None:
    user = [line.split()[1] for line in dockerfile_stages()[-1] if line.startswith("USER ")]
    assert user == ["sigap"]
    assert re.search(r"useradd .*--uid 10001 .*--user-group", DOCKERFILE.read_text())


# --- the same configs as the end-to-end tests ---------------------------------------------------


def test_compose_mounts_the_configs_the_e2e_harness_runs() -> None:
    prometheus = services()[service_running("prom/prometheus")]
    config_target = flag(prometheus, "--config.file")
    assert config_target is not None
    assert mount_source(prometheus, config_target) == harness.PROMETHEUS_CONFIG
    # The rule files: harness makes them absolute against the config's directory; Prometheus in
    # the container resolves them against the mounted config's directory.
    rule_files = harness.prometheus_config(exporter="e:1", alertmanager="a:1")["rule_files"]
    shipped = load_yaml(harness.PROMETHEUS_CONFIG)["rule_files"]
    assert len(rule_files) == len(shipped)
    for harness_rule, entry in zip(rule_files, shipped, strict=True):
        in_container = PurePosixPath(config_target).parent / entry
        in_repo = mount_source(prometheus, str(in_container.parent)) / in_container.name
        assert str(in_repo) == harness_rule
        assert glob.glob(harness_rule), f"{harness_rule} matches no file"

    alertmanager = services()[service_running("prom/alertmanager")]
    config_target = flag(alertmanager, "--config.file")
    assert config_target is not None
    assert mount_source(alertmanager, config_target) == harness.ALERTMANAGER_CONFIG

    # The example inventory, as .env.example names it, is the one the e2e lab builds.
    exporter = services()[service_running("sigap-exporter")]
    inventory = flag(exporter, "--config.file")
    assert inventory is not None
    assert mount_source(exporter, inventory) == harness.INVENTORY


def test_the_harness_replaces_every_compose_host() -> None:
    """The shipped configs name compose services; the e2e harness must still point every job and
    URL at its own loopback ports (a job it does not know would silently not run)."""
    shipped = load_yaml(harness.PROMETHEUS_CONFIG)
    loopback = "127.0.0.1:1"
    config = harness.prometheus_config(
        exporter=loopback, alertmanager=loopback, webhook=loopback, prometheus=loopback
    )
    assert [j["job_name"] for j in config["scrape_configs"]] == [
        j["job_name"] for j in shipped["scrape_configs"]
    ]
    targets = [
        t
        for job in [*config["scrape_configs"], *config["alerting"]["alertmanagers"]]
        for group in job["static_configs"]
        for t in group["targets"]
    ]
    assert targets and set(targets) == {loopback}
    am = harness.alertmanager_config(webhook_url="http://127.0.0.1:1", token_file=Path("/t"))
    for receiver in am["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            assert hook["url"] == "http://127.0.0.1:1/api/v1/alertmanager"


# --- scripts/native_config.py: the same configs without Docker ----------------------------------


def native_config() -> ModuleType:
    path = ROOT / "scripts" / "native_config.py"
    spec = importlib.util.spec_from_file_location("sigap_native_config", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _targets(config: Json) -> list[str]:
    return [
        t
        for job in [*config["scrape_configs"], *config["alerting"]["alertmanagers"]]
        for group in job["static_configs"]
        for t in group["targets"]
    ]


def test_native_prometheus_config_differs_only_in_hosts_and_rule_paths() -> None:
    shipped_text = harness.PROMETHEUS_CONFIG.read_text()
    text = native_config().native_prometheus(
        shipped_text, host="127.0.0.1", relative_to=harness.PROMETHEUS_CONFIG.parent
    )
    shipped, native = yaml.safe_load(shipped_text), yaml.safe_load(text)
    assert [t.split(":")[0] for t in _targets(native)] == ["127.0.0.1"] * len(_targets(shipped))
    assert [t.split(":")[1] for t in _targets(native)] == [
        t.split(":")[1] for t in _targets(shipped)
    ]
    assert (
        native["rule_files"]
        == harness.prometheus_config(exporter="e:1", alertmanager="a:1")["rule_files"]
    )
    for config in (shipped, native):
        config.pop("rule_files")
        for job in [*config["scrape_configs"], *config["alerting"]["alertmanagers"]]:
            job.pop("static_configs")
    assert native == shipped
    assert text.count("\n#") == shipped_text.count("\n#"), "the comments are kept"


def test_native_alertmanager_config_differs_only_in_url_and_token_file() -> None:
    shipped_text = harness.ALERTMANAGER_CONFIG.read_text()
    text = native_config().native_alertmanager(
        shipped_text, host="127.0.0.1", token_file=Path("/etc/sigap/token")
    )
    expected = harness.alertmanager_config(
        webhook_url=f"http://127.0.0.1:{listen_port(service_running('sigap-webhook'))}",
        token_file=Path("/etc/sigap/token"),
    )
    assert yaml.safe_load(text) == expected


def test_native_config_refuses_a_service_host_it_cannot_replace() -> None:
    module = native_config()
    text = (
        "scrape_configs:\n  - job_name: x\n    static_configs:\n      - targets: [exporter:9427]\n"
    )
    with pytest.raises(module.ConfigError, match="exporter:9427"):
        module.native_prometheus(text, host="127.0.0.1")


def test_native_prometheus_config_is_valid(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        native_config().native_prometheus(
            harness.PROMETHEUS_CONFIG.read_text(),
            host="127.0.0.1",
            relative_to=harness.PROMETHEUS_CONFIG.parent,
        )
    )
    result = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_run_renders_the_configs_it_starts() -> None:
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    for name in ("prometheus", "alertmanager"):
        rendered = re.search(rf'native_config\.py {name} .*?>"\$RUN/{name}\.yml"', run_sh, re.S)
        assert rendered, f"scripts/run.sh does not render {name}.yml with native_config.py"
        assert f'--config.file "$RUN/{name}.yml"' in run_sh
    assert "--config.file deploy/" not in run_sh


# --- Grafana: whatever deploy/grafana/provisioning holds ----------------------------------------


def grafana_files(kind: str) -> Iterator[tuple[Path, Json]]:
    folder = GRAFANA / "provisioning" / kind
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        yield path, load_yaml(path)


def grafana_expand(value: str, env: Mapping[str, str]) -> str:
    """Grafana's provisioning expands $VAR and ${VAR} from its environment."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: env.get(m[1] or m[2], ""), value)


def test_grafana_gets_the_provisioning_of_deploy_grafana() -> None:
    grafana = services()[service_running("grafana/grafana")]
    target = environment(grafana).get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning")
    assert mount_source(grafana, target) == GRAFANA / "provisioning"
    assert list(grafana_files("datasources")), "no datasource is provisioned"
    assert list(grafana_files("dashboards")), "no dashboard provider is provisioned"


def test_grafana_datasource_is_the_compose_prometheus() -> None:
    grafana = services()[service_running("grafana/grafana")]
    env = environment(grafana)
    found = 0
    for _path, data in grafana_files("datasources"):
        for source in data.get("datasources", []):
            if source.get("type") == "prometheus":
                url = grafana_expand(str(source["url"]), env)
                assert_is_service(url, service_running("prom/prometheus"))
                found += 1
    assert found, "no Prometheus datasource"


def test_grafana_dashboard_providers_find_every_dashboard() -> None:
    grafana = services()[service_running("grafana/grafana")]
    env = environment(grafana)
    provided: set[Path] = set()
    for path, data in grafana_files("dashboards"):
        for provider in data.get("providers", []):
            folder = grafana_expand(str(provider["options"]["path"]), env)
            in_repo = mount_source(grafana, folder)
            dashboards = set(in_repo.rglob("*.json"))
            assert dashboards, f"{path.name}: provider {provider.get('name')}: no JSON in {in_repo}"
            provided |= dashboards
    every = set((GRAFANA / "dashboards").rglob("*.json"))
    assert every, "deploy/grafana/dashboards holds no dashboard"
    assert every <= provided, f"not provisioned: {sorted(str(p) for p in every - provided)}"


# --- the Dockerfile -----------------------------------------------------------------------------


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped), by stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        assert stages, f"Dockerfile: {line!r} before FROM"
        stages[-1].append(re.sub(r"\s+", " ", line))
    return stages


def _ignore_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match, plus ``**`` for any directories)."""
    regex, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        else:
            regex += {"*": "[^/]*", "?": "[^/]"}.get(pattern[i], re.escape(pattern[i]))
            i += 1
    return re.compile(regex)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context: the last pattern matching it
    or a directory above it decides (``!`` lets it back in)."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = _ignore_pattern(line.removeprefix("!").strip("/"))
        if any(pattern.fullmatch(c) for c in candidates):
            ignored = not negate
    return ignored


def pyproject() -> Json:
    data: Json = tomllib.loads(PYPROJECT.read_text())
    return data


def test_dockerfile_builds_the_package_on_python_311_slim() -> None:
    stages = dockerfile_stages()
    for stage in stages:
        assert stage[0].split()[1] == "python:3.11-slim", stage[0]
    copied = {
        source.rstrip("/")
        for stage in stages
        for line in stage
        if line.startswith("COPY ") and "--from=" not in line
        for source in line.split()[1:-1]
    }
    packages = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    needed = {"pyproject.toml", pyproject()["project"]["readme"]} | {
        p.rstrip("*") for p in packages
    }
    assert needed <= copied, f"the build does not copy {needed - copied}"
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    for private in (".env", ".venv", ".git", ".run", "webhook/__pycache__/x.pyc", "sigap.db"):
        assert dockerignored(private), f".dockerignore lets {private} into the build context"
    final = " ".join(stages[-1])
    name = pyproject()["project"]["name"]
    assert re.search(rf"pip install [^&]*(\s\.|\s{name})(\s|$)", final), (
        "the package is not installed"
    )


def test_console_scripts_of_compose_and_dockerfile_are_the_package_s() -> None:
    scripts = set(pyproject()["project"]["scripts"])
    built = [name for name, service in services().items() if "build" in service]
    assert {command(services()[name])[0] for name in built} == scripts
    cmd = [line for line in dockerfile_stages()[-1] if line.startswith("CMD ")]
    assert cmd and json.loads(cmd[-1][4:])[0] in scripts
    exposed = {
        int(port)
        for line in dockerfile_stages()[-1]
        if line.startswith("EXPOSE ")
        for port in line.split()[1:]
    }
    assert exposed == {listen_port(name) for name in built}


def test_dockerfile_installs_the_fonts_of_the_f04_pdf() -> None:
    from webhook.core import pdf

    packages = {"/usr/share/fonts/truetype/dejavu": "fonts-dejavu-core"}
    package = packages.get(str(pdf.FONT_DIR))
    assert package, f"which Debian package holds {pdf.FONT_DIR}?"
    assert re.search(rf"apt-get install [^&]*\b{package}\b", " ".join(dockerfile_stages()[-1]))


# --- the webhook's example config ---------------------------------------------------------------


def test_webhook_example_config_and_its_commented_sections_are_valid() -> None:
    from webhook.core.deadlines import targets_of
    from webhook.core.messages import notify_config
    from webhook.settings import load_settings

    load_settings(str(WEBHOOK_EXAMPLE_CONFIG), env={})
    lines = WEBHOOK_EXAMPLE_CONFIG.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"# [a-z_]+:\s*(#|$)", line))
    uncommented = "\n".join(line.removeprefix("#").removeprefix(" ") for line in lines[start:])
    sections = yaml.safe_load(uncommented)
    assert {"notify", "escalation"} <= set(sections)
    config = notify_config(sections["notify"])
    assert config.smtp is not None and config.webhook is not None
    targets_of(sections["escalation"])
    from webhook.core.letterhead import LetterheadConfig
    from webhook.core.photos import PhotoConfig

    assert LetterheadConfig.model_validate(sections["letterhead"]).crest
    PhotoConfig.model_validate(sections["photos"])
