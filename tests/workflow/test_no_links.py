"""Without SIGAP_EXTERNAL_URL no message carries a link (issue 24's trap: links pointed at
http://localhost:9428, which nobody's phone reaches). Real SMTP (aiosmtpd), the real app."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from pypdf import PdfReader

from tests.workflow.conftest import Mailbox, open_by_alert, start_service
from tests.workflow.sop_walk import walk_to_repair
from webhook.core.messages import NotifyConfig, SmtpConfig, plan
from webhook.web.keys import SETTINGS


def test_a_message_without_an_external_url_has_no_links() -> None:
    incident = SimpleNamespace(
        id=7, skpd="dinkes", state="reported", responsibility="skpd", assignee=None,
        estimated_recovery_at=None, holder=None,
    )  # fmt: skip
    people = [
        SimpleNamespace(name=n, role=r, email=f"{n}@example.test", phone=None, skpds=["dinkes"],
                        active=True)
        for n, r in (("koord", "coordinator"), ("budi", "skpd_admin"))
    ]  # fmt: skip
    config = NotifyConfig(smtp=SmtpConfig(host="127.0.0.1"))
    now = datetime(2026, 11, 30, tzinfo=UTC)
    for url in (None, "https://sigap.example.go.id"):
        messages = plan(
            "report", incident, people, config, secret="s", external_url=url, now=now,
            telegram_chats={"koord": "1001"},
        )  # fmt: skip
        assert {m.channel for m in messages} == {"email", "telegram"}
        for message in messages:
            urls = [v for k, v in message.links.items() if not k.startswith("button:")]
            if url is None:
                assert "http" not in message.text and urls == [], message
            else:
                assert f"{url}/incidents/7" in message.text
        if url is None:  # the chat's buttons need no URL: they stay
            (chat,) = [m for m in messages if m.channel == "telegram"]
            assert any(k.startswith("button:") for k in chat.links)


async def test_emails_and_the_f04_have_no_localhost_link(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    notify = {"smtp": {"host": "127.0.0.1", "port": port}, "retries": 2, "backoff": "10ms"}
    service = await start_service(tmp_path, notify, env={"SIGAP_EXTERNAL_URL": ""})
    try:
        assert service.app[SETTINGS].external_url is None
        incident = await open_by_alert(service)
        now = datetime.now(UTC)
        await walk_to_repair(service, incident, "skpd", now + timedelta(hours=1), now)
        await service.drain()
        assert mailbox.messages, "no email was sent"
        attachments = 0
        for email in mailbox.messages:
            body = email.get_body(preferencelist=("plain",))
            assert body is not None
            text = body.get_content()
            assert "localhost" not in text and "http" not in text, text
            for part in email.iter_attachments():
                pdf = PdfReader(io.BytesIO(part.get_content()))
                assert "localhost" not in " ".join(p.extract_text() for p in pdf.pages)
                attachments += 1
        assert attachments >= 1  # the F-04 went out too
    finally:
        await service.drain()
        await service.client.close()
