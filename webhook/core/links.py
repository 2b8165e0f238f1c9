"""Signed one-click links: an action on one incident, for one person, until a time, once.

A link is `base64url(payload).base64url(HMAC-SHA256(secret, payload))`; the payload binds the
incident, the action, the person and the expiry, plus a random nonce that is stored when the
link is used (`UsedLink`), so it works once. Checking is pure (`verify`, the clock passed in);
the web handlers (GET shows a confirmation page, because mail scanners prefetch links; only POST
acts) live in `webhook.web.links`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from webhook.core.refusals import Refused


@dataclass(frozen=True, slots=True)
class Claim:
    incident_id: int
    action: str
    person: str
    expires_at: datetime
    nonce: str


class LinkRefused(Exception):
    """A link that must not act; `kind` is forged, expired, used or foreign (or refused and
    invalid: its move was refused). `reason` is for the log; the page says `refusal`'s words,
    the catalogue's `refused_<key>` (`link_<kind>` unless given)."""

    def __init__(
        self,
        kind: str,
        reason: str,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        refusal: Refused | None = None,
    ) -> None:
        self.kind = kind
        self.reason = reason
        self.refusal = refusal or Refused(reason, key=key or f"link_{kind}", params=params)
        super().__init__(reason)

    def say(self, lang: str) -> str:
        return self.refusal.say(lang)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"sigap-link:" + payload, hashlib.sha256).digest()


def sign(
    secret: str,
    incident_id: int,
    action: str,
    person: str,
    now: datetime,
    lifetime: timedelta = timedelta(hours=24),
) -> str:
    expires = int((now + lifetime).timestamp())
    payload = json.dumps(
        [incident_id, action, person, expires, secrets.token_urlsafe(16)], separators=(",", ":")
    ).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, payload))}"


def verify(secret: str, token: str, now: datetime) -> Claim:
    """The claim of a genuine, unexpired link; `LinkRefused` otherwise (nothing is used up)."""
    forged = LinkRefused("forged", "this link is not valid (it was changed or is not from SIGAP)")
    try:
        payload_text, mac_text = token.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError:
        raise forged from None
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise forged
    incident_id, action, person, expires, nonce = json.loads(payload)
    expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
    if now >= expires_at:
        raise LinkRefused("expired", f"this link expired at {expires_at:%Y-%m-%d %H:%M} UTC")
    return Claim(int(incident_id), str(action), str(person), expires_at, str(nonce))


def url(external_url: str, token: str) -> str:
    return f"{external_url.rstrip('/')}/l/{token}"
