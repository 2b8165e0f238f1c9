"""Phone numbers as WhatsApp and the gateways address people: E.164 (`+6281250011037`), read
with Google's libphonenumber (`phonenumbers`) the way people write them in the regency
(`0812-5001-1037`, `+62 812 5001 1037`, `62812...`): a number without a country code is
Indonesian. One person's number, written two ways, is one number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import phonenumbers

DEFAULT_REGION = "ID"


class ContactLike(Protocol):
    """An inventory contact (`exporter.inventory.Contact`)."""

    @property
    def name(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...


class PersonLike(Protocol):
    """A user (`webhook.store.models.User`)."""

    @property
    def name(self) -> str: ...
    @property
    def full_name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def skpds(self) -> Sequence[str] | None: ...


def e164(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` as E.164; ValueError saying what is wrong and what a good one looks like."""
    raw = text.strip()
    if raw.isdigit() and raw.startswith("62") and len(raw) > 10:
        raw = "+" + raw  # WhatsApp's and the gateways' own form: the country code, no plus
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number; {_EXAMPLE}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid phone number; {_EXAMPLE}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EXAMPLE = "expected e.g. 0812-5001-1037 or +62 812 5001 1037"


def e164_or_none(text: str | None) -> str | None:
    """The number, or None for none or one that cannot be read (a stored record from before
    numbers were checked: such a person is simply not reachable by phone)."""
    if not text:
        return None
    try:
        return e164(text)
    except ValueError:
        return None


def wa_id(number: str) -> str:
    """WhatsApp's id of a number: its E.164 digits without the plus."""
    return number.removeprefix("+")


def phones_of(
    users: Iterable[PersonLike], contacts: Mapping[str, Sequence[ContactLike]]
) -> dict[str, str]:
    """Each person's number (E.164) by user name: their record's, else the inventory contact of
    one of their SKPDs that is them (the same email or full name; `contacts` by SKPD id). A
    number two people claim is nobody's: a press from it could not say who pressed."""
    found: dict[str, str] = {}
    for user in users:
        number = e164_or_none(user.phone)
        for skpd in (user.skpds or ()) if number is None else ():  # NULL in older rows
            for contact in contacts.get(skpd, ()):
                same = (user.email and contact.email == user.email) or (
                    user.full_name and contact.name == user.full_name
                )
                number = number or (e164_or_none(contact.phone) if same else None)
        if number is not None:
            found[user.name] = number
    claimed: dict[str, int] = {}
    for number in found.values():
        claimed[number] = claimed.get(number, 0) + 1
    return {name: number for name, number in found.items() if claimed[number] == 1}


def unreadable(contacts: Mapping[str, Sequence[ContactLike]]) -> list[str]:
    """The inventory's contact numbers that are no numbers, one line each (`--config.check`
    warns: the inventory stays valid, but WhatsApp and the gateway cannot reach them)."""
    problems = []
    for skpd, people in contacts.items():
        for n, contact in enumerate(people):
            if contact.phone:
                try:
                    e164(contact.phone)
                except ValueError as error:
                    problems.append(f"skpd {skpd}: contacts[{n}] ({contact.name}): phone: {error}")
    return problems
