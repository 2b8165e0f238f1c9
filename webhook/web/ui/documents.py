"""F-01 and F-04 as documents, read from the store: the one source of the page, the PDF and the
emailed attachment (`webhook.core.documents.build_document` builds; this only gathers)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from webhook.core.documents import Document, build_document, document_number
from webhook.store.models import Incident, User
from webhook.store.moves import saved_form
from webhook.web.keys import DATABASE, INVENTORY, SETTINGS

SIGNERS = ("staff", "acknowledged_by", "reporter")
"""The form's fields that may name a user (then written with their full name and NIP)."""


async def form_document(
    app: web.Application, incident: Incident, kind: str, lang: str = "id"
) -> Document | None:
    """The incident's F-01 (`kind` "f01") or F-04 ("f04") in `lang`'s words, or None when
    not saved yet."""
    async with app[DATABASE].read() as session:
        form = await saved_form(session, incident.id, kind)
        if form is None:
            return None
        data = dict(form.data)
        named = {form.saved_by} | {str(data[k]) for k in SIGNERS if data.get(k)}
        found = await session.execute(select(User).where(User.name.in_(named)))
        people = {user.name: user for user in found.scalars()}
    number = None
    if form.number_seq is not None and form.number_year and form.number_month:
        number = document_number(kind, form.number_year, form.number_month, form.number_seq)
    return build_document(
        kind,
        incident,
        data,
        number=number,
        saved_at=form.saved_at,
        saved_by=form.saved_by,
        inventory=app.get(INVENTORY),
        people=people,
        zone=app[SETTINGS].timezone,
        lang=lang,
        place=app[SETTINGS].document_place,
    )
