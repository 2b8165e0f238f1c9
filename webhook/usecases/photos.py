"""Photos of a repair on an F-04, whichever door they come through: attached by Diskominfo's
staff and coordinators (the people who file the F-04), seen by anyone who sees the incident.
The upload is checked and cleaned (`webhook.core.photos.clean_photo`) before the write
transaction starts, so a slow or bad upload never holds the writer."""

from __future__ import annotations

import asyncio

from webhook.core.photos import check_room, clean_photo
from webhook.core.refusals import Conflict, Forbidden, NotFound
from webhook.core.workflow import Role
from webhook.store.models import RepairPhoto
from webhook.store.moves import saved_form
from webhook.store.photos import add_photo, photo_count, photo_of, remove_photo
from webhook.usecases.context import Actor, Resources
from webhook.usecases.incidents import visible

ATTACHERS = frozenset({Role.STAFF, Role.COORDINATOR})
"""Who may attach or remove a photo: those who fill in the F-04."""


def _may_attach(actor: Actor) -> None:
    if actor.role not in ATTACHERS:
        raise Forbidden("Hanya staf jaringan dan koordinator yang dapat melampirkan foto F-04.")


async def attach_photo(res: Resources, actor: Actor, incident_id: int, data: bytes) -> int:
    """A photo added to the incident's F-04; its id. Refused: not the person's to attach, no
    F-04 yet, too many photos already, not a JPEG/PNG, too big."""
    _may_attach(actor)
    config = res.settings.photos
    async with res.database.read() as session:
        await visible(session, actor, incident_id)
        check_room(await photo_count(session, incident_id), config)
    photo = await asyncio.to_thread(clean_photo, data, config)
    async with res.database.write() as session:
        await visible(session, actor, incident_id)
        if await saved_form(session, incident_id, "f04") is None:
            raise Conflict("F-04 belum diisi: isi form tindakan F-04 dulu, lalu lampirkan foto.")
        check_room(await photo_count(session, incident_id), config)  # a second tab meanwhile
        row = await add_photo(session, incident_id, photo, actor.name, res.clock())
        return row.id


async def repair_photo(
    res: Resources, actor: Actor, incident_id: int, photo_id: int
) -> RepairPhoto:
    """One photo of an incident `actor` sees (with its bytes)."""
    async with res.database.read() as session:
        await visible(session, actor, incident_id)
        found = await photo_of(session, incident_id, photo_id)
    if found is None:
        raise NotFound(f"no photo {photo_id} on incident {incident_id}")
    return found


async def detach_photo(res: Resources, actor: Actor, incident_id: int, photo_id: int) -> None:
    _may_attach(actor)
    async with res.database.write() as session:
        await visible(session, actor, incident_id)
        if not await remove_photo(session, incident_id, photo_id):
            raise NotFound(f"no photo {photo_id} on incident {incident_id}")
