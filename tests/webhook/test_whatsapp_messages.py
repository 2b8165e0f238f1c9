"""WhatsApp's message bodies and webhooks without I/O (issue 21): however many moves a message
offers, its body keeps to Meta's limits (checked by the Graph API stand-in's own rules), and
what Meta posts is read, whatever else it carries."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from tests.webhook.graph_standin import check_message
from webhook.core.chat import sign_button, verify_button
from webhook.core.messages import choice_links, options
from webhook.core.whatsapp import Command, Option, TextMove, body, incoming, read_reply, signed

SECRET = "s3cret"
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _buttons(count: int) -> list[tuple[str, str]]:
    """`count` staff to choose from, with names longer than a button's title."""
    return [
        (f"Staf Jaringan Nomor {n} Diskominfo", sign_button(
            SECRET, 12, "dispatch", "reported", None, NOW, timedelta(hours=1), n,
        ))
        for n in range(1, count + 1)
    ]  # fmt: skip


@pytest.mark.parametrize("count", [1, 3])
def test_up_to_three_moves_are_reply_buttons(count: int) -> None:
    message = body("6281250011037", "[SIGAP #12] Gangguan", "teks", _buttons(count),
                   incident_id=12, lang="id")  # fmt: skip
    check_message(message)
    buttons = message["interactive"]["action"]["buttons"]
    assert message["interactive"]["type"] == "button" and len(buttons) == count
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
    # the id is the signed data itself: a press verifies as the button SIGAP made
    press = verify_button(SECRET, buttons[0]["reply"]["id"], NOW)
    assert (press.incident_id, press.action, press.assignee_id) == (12, "dispatch", 1)


@pytest.mark.parametrize("count", [4, 10])
def test_four_to_ten_are_a_list(count: int) -> None:
    message = body("6281250011037", "s", "t", _buttons(count), incident_id=12, lang="id")
    check_message(message)
    rows = message["interactive"]["action"]["sections"][0]["rows"]
    assert message["interactive"]["type"] == "list" and len(rows) == count


def test_more_than_ten_or_a_long_text_go_numbered() -> None:
    many = body("6281250011037", "s", "t", _buttons(11), incident_id=12, lang="id")
    check_message(many)
    assert many["type"] == "text"
    assert "Balas dengan angka:\n1 = Staf Jaringan Nomor 1 Diskominfo\n" in many["text"]["body"]
    assert "11 = Staf" in many["text"]["body"]
    long = body("6281250011037", "s", "x" * 2000, _buttons(1), incident_id=12, lang="en")
    check_message(long)
    assert long["type"] == "text" and "Reply with the number:" in long["text"]["body"]
    huge = body("6281250011037", "s", "x" * 9000, [], incident_id=12, lang="id")
    check_message(huge)


def test_options_keep_their_numbers_whatever_order_links_come_back_in() -> None:
    links = {"button:dispatch": "d", "incident": "u", "button:acknowledge": "a",
             **choice_links([("Sari", "s"), ("Andi", "n")])}  # fmt: skip
    reordered = dict(sorted(links.items(), key=lambda kv: (len(kv[0]), kv[0])))  # JSONB's
    expected = [("Tangani", "a"), ("Tugaskan staf", "d"), ("Sari", "s"), ("Andi", "n")]
    assert options(links, "id") == options(reordered, "id") == expected


def test_the_signature_is_hmac_sha256_of_the_raw_body() -> None:
    raw = b'{"object":"whatsapp_business_account","entry":[]}'
    good = "sha256=" + hmac.new(b"app-secret", raw, hashlib.sha256).hexdigest()
    assert signed("app-secret", raw, good)
    assert signed("app-secret", raw, good.upper().replace("SHA256=", "sha256="))
    assert not signed("app-secret", raw + b" ", good)
    assert not signed("other", raw, good)
    for bad in (None, "", good.removeprefix("sha256="), "sha1=" + good[7:]):
        assert not signed("app-secret", raw, bad)


def test_a_webhook_is_read_for_its_messages_only() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [
            {"field": "messages", "value": {"statuses": [{"id": "wamid.X", "status": "read"}]}},
            {"field": "messages", "value": {"messages": [
                {"from": "6281250011037", "id": "wamid.A", "type": "text",
                 "text": {"body": "status"}},
                {"from": "6281250011037", "id": "wamid.B", "type": "interactive",
                 "interactive": {"type": "list_reply", "list_reply": {"id": "D", "title": "t"}},
                 "context": {"id": "wamid.P"}},
                {"from": "6281250011037", "id": "wamid.C", "type": "button",
                 "button": {"payload": "Q", "text": "Tangani"}},
                {"from": "6281250011037", "id": "wamid.E", "type": "image", "image": {}},
            ]}},
        ]}],
    }  # fmt: skip
    found = incoming(payload)
    assert [(m.message_id, m.text, m.pressed, m.context_id) for m in found] == [
        ("wamid.A", "status", None, None),
        ("wamid.B", None, "D", "wamid.P"),
        ("wamid.C", None, "Q", None),
        ("wamid.E", None, None, None),
    ]
    for bad in ({}, {"object": "page", "entry": []}, {"object": "whatsapp_business_account"},
                {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
                    "messages": [{"id": "x", "type": "text"}]}}]}]}):  # fmt: skip
        with pytest.raises(ValueError, match="not a WhatsApp webhook"):
            incoming(bad)


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("1", Option(1)),
        (" 12 ", Option(12)),
        ("tangani 12", TextMove("acknowledge", 12, "")),
        ("Tangani #12", TextMove("acknowledge", 12, "")),
        ("/tugaskan 12 sari", TextMove("dispatch", 12, "sari")),
        ("teruskan 3", TextMove("forward", 3, "")),
        ("status", Command("/status", "")),
        ("/insiden 12", Command("/insiden", "12")),
        ("lapor internet mati sejak jam 9", Command("/lapor", "internet mati sejak jam 9")),
        ("tangani", Command("/tangani", "")),
        ("123456", Command("/123456", "")),
    ],
)
def test_typed_replies(text: str, read: object) -> None:
    assert read_reply(text) == read
