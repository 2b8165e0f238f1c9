"""What a person asked for that cannot be done, said once for every door.

Each refusal carries `reason` (in words for the person who asked) and a `kind` that every door
translates the same way: the UI and the JSON API to an HTTP status, a link to its page, the CLI
to a message and exit status 1, a chat to a reply. A refusal never means a fault of SIGAP's own
(those are database errors, answered 5xx).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from webhook.core.i18n import FIELDS, word

Kind = Literal["missing", "forbidden", "conflict", "invalid"]
HTTP_STATUS: dict[Kind, int] = {"missing": 404, "forbidden": 403, "conflict": 409, "invalid": 422}


class Refused(Exception):
    """Input that can never succeed as given (`kind` "invalid" unless a subclass says more)."""

    kind: ClassVar[Kind] = "invalid"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.message, self.field = message, field
        """`field`: the input at fault, by its name in the use case (a door may say it in its
        own words: a CLI flag, a form's label)."""
        self.key, self.params = key, dict(params or {})
        """`key`: the catalogue's words for it (`refused_<key>` in `webhook.core.i18n`), filled
        with `params` (a param given as `{"id": …, "en": …}` in the reader's language); people
        read those, the API and the CLI keep `reason`."""
        self.reason = f"{field}: {message}" if field else message
        super().__init__(self.reason)

    def say(self, lang: str) -> str:
        """The refusal in `lang`, from the catalogue (the English `reason` when it has none)."""
        if self.key is None:
            return self.reason
        given = dict(self.params)
        if self.field is not None:  # the input at fault, in the words of the form's label
            given.setdefault("label", FIELDS.get(self.field, {"id": self.field}))
        params = {
            k: (v.get(lang, v.get("id")) if isinstance(v, Mapping) else v) for k, v in given.items()
        }
        return word(f"refused_{self.key}", lang).format(**params)


class NotFound(Refused):
    """Not there, or not for this person to see (the same answer, so ids cannot be probed)."""

    kind = "missing"


class Forbidden(Refused):
    """There, but not for this person's role or SKPDs."""

    kind = "forbidden"


class Conflict(Refused):
    """Not possible in the state things are in now (someone else acted first, it is over)."""

    kind = "conflict"
