"""F-01 and F-04 as documents, read from the store: the one source of the page, the PDF and the
emailed attachment (`webhook.core.documents.build_document` builds; this only gathers)."""

from __future__ import annotations

import asyncio

from webhook.core.documents import (
    Document,
    DocumentPhoto,
    affected_nodes,
    build_document,
    document_number,
    evidence,
)
from webhook.core.i18n import word
from webhook.core.localtime import parse_moment
from webhook.core.pdf import document_pdf
from webhook.store.models import Incident
from webhook.store.moves import saved_form
from webhook.store.people import users_named
from webhook.store.photos import photos_of
from webhook.store.queries import get_incident
from webhook.usecases.context import Resources

SIGNERS = ("staff", "acknowledged_by", "reporter")
"""The form's fields that may name a user (then written with their full name and NIP)."""


async def form_document(
    res: Resources, incident: Incident, kind: str, lang: str = "id"
) -> Document | None:
    """The incident's F-01 (`kind` "f01") or F-04 ("f04", with its photos) in `lang`'s words,
    or None when not saved yet; `incident` with its alerts and events loaded."""
    async with res.database.read() as session:
        form = await saved_form(session, incident.id, kind)
        if form is None:
            return None
        data = dict(form.data)
        named = {form.saved_by} | {str(data[k]) for k in SIGNERS if data.get(k)}
        signers = await users_named(session, named)
        photos = [
            DocumentPhoto(p.id, p.content_type, p.data, p.width, p.height)
            for p in (await photos_of(session, incident.id) if kind == "f04" else ())
        ]
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
        inventory=res.inventory,
        people=signers,
        zone=res.settings.timezone,
        lang=lang,
        place=res.settings.document_place,
        photos=photos,
    )


async def f04_attachment(res: Resources, incident_id: int) -> tuple[tuple[str, bytes], ...]:
    """F-04 as a PDF attachment of the message that hands it to the SKPD admin (SOP step 9),
    in the messages' language; nothing when the incident has none."""
    async with res.database.read() as session:
        incident = await get_incident(session, incident_id, detail=True)
    if incident is None:
        return ()
    document = await form_document(res, incident, "f04", res.settings.notify.language)
    if document is None:
        return ()
    pdf = await asyncio.to_thread(document_pdf, document, res.settings.letterhead)
    return ((document.filename, pdf),)


async def f04_evidence(res: Resources, incident_id: int) -> str:
    """What the message handing over the F-04 says of the outage, in the messages' language:
    its start, recovery and length, the ping check, the affected nodes by name (the attached
    PDF carries the same, `webhook.core.documents.evidence`)."""
    lang = res.settings.notify.language
    async with res.database.read() as session:
        incident = await get_incident(session, incident_id, detail=True)
        form = await saved_form(session, incident_id, "f04") if incident else None
    if incident is None or form is None:
        return ""
    repair_end = parse_moment(form.data.get("repair_ended_at"))
    lines = evidence(incident, repair_end, res.inventory, res.settings.timezone, lang)
    nodes = ", ".join(n.name for n in affected_nodes(incident, res.inventory, lang))
    lines.append((word("nodes_affected", lang), nodes or "-"))
    return "\n".join(f"{label}: {value}" for label, value in lines)
