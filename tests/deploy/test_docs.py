"""The docs' code blocks name only what exists (issue 24, "the traps"): every `--flag` of
sigap-exporter and sigap-webhook is one of their argparse options (of the command it follows),
every `sigap-webhook <word> <word>` a real command, every `SIGAP_*` a real setting (or a
variable of .env.example, which compose reads). A renamed flag fails here, not on a server."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from exporter.cli import build_parser as exporter_parser
from exporter.inventory_cli import build_parser as inventory_parser
from webhook.cli import build_parser as webhook_parser
from webhook.settings import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
COMMANDS = {"sigap-exporter": exporter_parser, "sigap-webhook": webhook_parser}
WORDS_APART = {("sigap-exporter", "inventory"): inventory_parser}
"""A command word its command hands to a parser of its own (`sigap-exporter inventory ...`)."""


def env_example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", text, re.M))


def blocks() -> Iterator[tuple[str, int, str]]:
    """(file, line of the block's first line, the block's text) of every fenced block."""
    for path in DOCS:
        text = path.read_text()
        for found in FENCE.finditer(text):
            line = text.count("\n", 0, found.start(1)) + 1
            yield path.relative_to(ROOT).as_posix(), line, found[1]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def invocations(text: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line offset, command, words) of each sigap-exporter / sigap-webhook call in a block:
    `a | b` alternatives and `[--optional X]` brackets read as their parts."""
    for offset, raw in enumerate(text.splitlines()):
        line = raw.split(" #", 1)[0]
        for command in COMMANDS:
            for match in re.finditer(rf"(?<![\w/.-]){command}(?![\w-])", line):
                rest = line[match.end() :]
                rest = re.split(r"[;&>]|\|\||\$\(|`", rest)[0]
                for alternative in rest.split(" | "):
                    try:
                        words = shlex.split(alternative.replace("[", " ").replace("]", " "))
                    except ValueError:
                        words = alternative.replace("[", " ").replace("]", " ").split()
                    yield offset, command, words


def problems_of(command: str, words: list[str]) -> list[str]:
    """What in `words` (after `command`) its argparse does not know: a flag, a command word
    (a word where a subcommand is due that is not one), a command left without its subcommand."""
    parser = COMMANDS[command]()
    found, path, value_due = [], [command], False
    apart = WORDS_APART.get((command, words[0])) if words else None
    if apart is not None:
        parser, path, words = apart(), [command, words[0]], words[1:]
    known = dict(parser._option_string_actions)
    for word in words:
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            action = known.get(flag)
            if action is None:
                found.append(f"{' '.join(path)}: no flag {flag}")
            value_due = action is not None and action.nargs != 0 and "=" not in word
            continue
        if value_due or word.startswith("-"):
            value_due = False
            continue
        children = subcommands(parser)
        if not children:
            continue
        if word not in children:
            found.append(f"{' '.join(path)}: no command {word!r}; expected one of "
                         f"{', '.join(children)}")  # fmt: skip
            break
        parser = children[word]
        path.append(word)
        known |= parser._option_string_actions
    else:
        children = subcommands(parser)
        if len(path) > 1 and children:
            found.append(f"{' '.join(path)}: expected one of {', '.join(children)}")
    return found


def test_the_docs_name_only_real_flags_and_commands() -> None:
    problems = []
    for name, line, text in blocks():
        for offset, command, words in invocations(text):
            problems += [f"{name}:{line + offset}: {p}" for p in problems_of(command, words)]
    assert problems == []


def test_the_docs_name_only_real_variables() -> None:
    real = set(ENVIRONMENT) | {f"{v}_FILE" for v in ENVIRONMENT} | env_example_names()
    problems = [
        f"{name}:{line + text.count(chr(10), 0, m.start())}: {m[0]} is no setting of "
        "webhook/settings.py nor a variable of .env.example"
        for name, line, text in blocks()
        for m in re.finditer(r"\bSIGAP_[A-Z0-9_]+\b", text)
        if m[0] not in real
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("command", "line", "wrong"),
    [
        ("sigap-webhook", "--config.file x.yml --config.chek", "no flag --config.chek"),
        ("sigap-webhook", "user add budi --role staff --pasword-stdin", "no flag --pasword-stdin"),
        ("sigap-webhook", "users add budi", "no command 'users'"),
        ("sigap-webhook", "token", "expected one of"),
        ("sigap-exporter", "--config.file x.yml --web.listen :9427", "no flag --web.listen"),
    ],
)
def test_the_check_catches_what_a_reader_would_trip_on(command: str, line: str, wrong: str) -> None:
    assert any(wrong in p for p in problems_of(command, shlex.split(line))), line
    assert problems_of("sigap-webhook", shlex.split("user add budi --role staff --skpd x")) == []
