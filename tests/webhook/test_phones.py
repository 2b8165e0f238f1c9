"""Phone numbers (issue 21): written as people write them in the regency, kept and sent as E.164
(libphonenumber), refused where they are entered (the CLI, the users page) when they are not
numbers; a person's number from their record, else from the inventory contact that is them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from exporter.inventory import load_inventory
from tests.webhook.access_app import INVENTORY, csrf_of, login, running
from tests.webhook.test_access_sessions import cli
from webhook.core.phones import e164, phones_of, unreadable
from webhook.usecases import users as user_uses
from webhook.usecases.context import Actor
from webhook.web.keys import RESOURCES


@pytest.mark.parametrize(
    "written",
    ["0812-5001-1037", "0812 5001 1037", "+62 812 5001 1037", "+6281250011037", "6281250011037",
     "(0812) 5001-1037", " 081250011037 "],
)  # fmt: skip
def test_a_number_written_any_usual_way_is_one_number(written: str) -> None:
    assert e164(written) == "+6281250011037"


def test_a_landline_and_a_foreign_number_keep_their_codes() -> None:
    assert e164("0518 70123") == "+6251870123"  # Batulicin's area code
    assert e164("+60 12-345 6789") == "+60123456789"  # a Malaysian mobile


@pytest.mark.parametrize("written", ["12345", "0812", "081250011037999", "nomor saya", "+62", ""])
def test_what_is_no_number_is_refused_saying_what_a_good_one_looks_like(written: str) -> None:
    with pytest.raises(ValueError, match=r"expected e\.g\. 0812-5001-1037"):
        e164(written)


@dataclass
class Person:
    name: str
    phone: str | None = None
    email: str | None = None
    full_name: str | None = None
    skpds: list[str] | None = field(default_factory=list)


@dataclass
class Contact:
    name: str
    phone: str | None
    email: str | None = None


def test_a_persons_number_is_their_records_else_their_inventory_contacts() -> None:
    contacts = {
        "dinkes": [
            Contact("Budi Santoso", "0852 5123 4567", "budi@dinkes.example"),
            Contact("Kepala Subbag Umum", "0813 4006 2318"),
        ],
        "setda": [Contact("Rahmat Hidayat", "+62 812 5001 1037"), Contact("Salah", "12")],
    }
    people = [
        Person("sari", phone="0812-7000-0001"),
        Person("budi", email="budi@dinkes.example", skpds=["dinkes"]),  # by email
        Person("rahmat", full_name="Rahmat Hidayat", skpds=["setda"]),  # by full name
        Person("salah", full_name="Salah", skpds=["setda"]),  # the contact's number is none
        Person("tamu", skpds=["dinkes"]),  # no contact is them: not the SKPD's first one
        Person("lama", phone="bukan nomor"),  # stored before numbers were checked
        Person("tua", skpds=None),  # a row from before SKPD lists
    ]
    assert phones_of(people, contacts) == {
        "sari": "+6281270000001",
        "budi": "+6285251234567",
        "rahmat": "+6281250011037",
    }


def test_a_number_two_people_claim_is_nobodys() -> None:
    people = [Person("a", phone="0812-7000-0001"), Person("b", phone="+62 812 7000 0001")]
    assert phones_of(people, {}) == {}


async def test_the_users_page_and_the_cli_refuse_a_bad_number_and_keep_a_good_one_as_e164(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "koord") == 303
        csrf = await csrf_of(client, "/users")
        bad = await client.post(
            "/users", data={"csrf": csrf, "name": "rina", "role": "staff", "phone": "0812"},
            allow_redirects=False,
        )  # fmt: skip
        assert bad.status == 422
        assert re.search(
            r"phone: &#39;0812&#39; is not a valid phone number|phone: '0812'", await bad.text()
        )
        rina = {"csrf": csrf, "name": "rina", "role": "staff", "phone": "0812-5001-1037"}
        good = await client.post("/users", data=rina, allow_redirects=False)
        assert good.status == 303

        code, _, err = await cli(
            service, "user", "add", "andi", "--role", "staff", "--phone", "12345"
        )
        assert code != 0 and "--phone: '12345' is not a valid phone number" in err, err
        code, _, err = await cli(
            service, "user", "add", "andi", "--role", "staff", "--phone", "+62 813-5002-2106"
        )
        assert code == 0, err
        stored = {
            u.name: u.phone
            for u in await user_uses.list_users(service.app[RESOURCES], Actor.operator())
        }
        assert stored["rina"] == "+6281250011037" and stored["andi"] == "+6281350022106"


def test_config_check_names_the_inventory_contacts_whatsapp_cannot_reach() -> None:
    contacts = {"dinkes": [Contact("Budi", "0852 5123 4567"), Contact("Kasubbag", "ext. 12")]}
    assert unreadable(contacts) == [
        "skpd dinkes: contacts[1] (Kasubbag): phone: 'ext. 12' is not a valid phone number; "
        "expected e.g. 0812-5001-1037 or +62 812 5001 1037"
    ]


def test_the_example_inventorys_contacts_are_all_numbers() -> None:
    inventory = load_inventory(INVENTORY)
    assert unreadable({s.id: s.contacts for s in inventory.skpds.values()}) == []
