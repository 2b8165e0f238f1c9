"""What a person may send with each SOP move: one schema per form, nothing else accepted.

Pure. A form holds only its own fields: an extra key (a forged `skpd`, `state` or
`acknowledged_by`) is refused with the names of the unknown fields, never stored, so nothing in
a form can override the incident's own values on the page, the PDF or the figures. Text is
stripped; a field left blank counts as missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from webhook.core.confirmation import Answer
from webhook.core.i18n import FIELDS
from webhook.core.refusals import Refused


def _aware(value: datetime) -> datetime:
    """A time without zone is taken as UTC (as the store keeps it). The JSON API's clients send
    ISO 8601 with an offset; the UI attaches the regency's zone to what a person typed before it
    gets here (`webhook.core.localtime.attach_zone`)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Moment = Annotated[datetime, AfterValidator(_aware)]
Line = Annotated[str, Field(min_length=1, max_length=300)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    def record(self) -> dict[str, Any]:
        """JSON-ready values for the timeline and the stored form (times as ISO 8601)."""
        return self.model_dump(mode="json", exclude_none=True)


class NoData(_Form):
    """Moves that carry nothing: forward, order_repair, close, acknowledge, close_transient."""


class F01Form(_Form):
    """F-01, the SKPD complaint form (SOP step 3)."""

    reporter: Line
    contact_confirmed_with: Line
    complaint: Text
    affected_service: Line
    reported_at: Moment
    confirmed_at: Moment | None = None
    """When the SKPD confirmed (its answer in the chat, `webhook.core.confirmation`)."""
    skpd_answer: Answer | None = None
    """What the SKPD answered in the chat."""


class AnswerForm(_Form):
    """SOP step 3 from the SKPD's side: its answer to "is your connection down?"."""

    answer: Answer


class ResponsibilityForm(_Form):
    """SOP step 4: whose fault it is."""

    responsibility: Literal["diskominfo", "skpd"]


class DispatchForm(_Form):
    """SOP step 5: the staff member sent."""

    assignee: Line


class EstimateForm(_Form):
    """SOP steps 6-7: the findings and the estimated time of recovery."""

    findings: Text
    estimated_recovery_at: Moment


Cause = Literal[
    "pln_power", "fibre_cut", "device_failure", "configuration", "upstream_provider", "other"
]
"""What caused the outage (F-04): stable ids for the report, the CSV and the metrics' `cause`
label; people read them in their language (`webhook.core.i18n`, `cause_<id>`)."""
CAUSES: tuple[str, ...] = get_args(Cause)
UNKNOWN_CAUSE = "unknown"
"""An F-04 filed without a cause (through the API, or before causes were asked)."""


class F04Form(_Form):
    """F-04, the action report (SOP step 9)."""

    findings: Text
    actions_taken: Text
    repair_started_at: Moment
    repair_ended_at: Moment
    result: Text
    parts_replaced: Line | None = None
    staff: Line | None = None
    """Who repaired; the assignee (or whoever files it) when not given."""
    cause: Cause | None = None
    """The UI asks for it; an API client may leave it out (counted as `unknown`)."""


class ReasonForm(_Form):
    """Cancel and reopen say why."""

    reason: Text


class PingCheckForm(_Form):
    """What the ping check found (SOP step 2); filled by SIGAP, never by a person."""

    results: dict[str, Any] = Field(default_factory=dict)
    reachable: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)
    error: str | None = None


class EscalationForm(_Form):
    """An overdue stage: its target time."""

    target_seconds: int = Field(ge=0)


class PageForm(_Form):
    """A step of the paging chain (`webhook.services.paging`): whom it pages, and why."""

    step: int = Field(ge=2, le=3)
    to: Literal["next_on_duty", "coordinator"]
    people: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    after_seconds: int = Field(default=0, ge=0)
    """How long the previous step waited unacknowledged."""


class ReportForm(_Form):
    """A manual outage report (SOP step 1, second path: an SKPD admin, or staff on the phone)."""

    skpd: str = Field(min_length=1, max_length=64)
    """Checked against the inventory by the caller (`webhook.core.inventory_check`)."""
    description: Text
    nodes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    reporter: Line | None = None
    """Who reported it, when not the user (e.g. the caller on the phone)."""


F = TypeVar("F", bound=_Form)

FORM_OF_MOVE: dict[str, type[_Form]] = {
    "ping_check": PingCheckForm,
    "acknowledge": NoData,
    "confirm": F01Form,
    "answer": AnswerForm,
    "report": ResponsibilityForm,
    "set_responsibility": ResponsibilityForm,
    "dispatch": DispatchForm,
    "estimate": EstimateForm,
    "forward": NoData,
    "order_repair": NoData,
    "repair": F04Form,
    "close": NoData,
    "cancel": ReasonForm,
    "close_transient": NoData,
    "reopen": ReasonForm,
    "escalate": EscalationForm,
    "page": PageForm,
}


class FormInvalid(Refused):
    """Data that no state of the incident would accept: unknown fields or malformed values.
    `reason` names each field and what is wrong; `errors` says it per field for a form shown
    again (`field_errors`)."""

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        errors: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None,
    ) -> None:
        super().__init__(message, field, key=key, params=params)
        self.errors = dict(errors or {})
        """field -> (catalogue key, params): each bad field, in words its label can carry."""
        if field is not None and key is not None and field not in self.errors:
            self.errors[field] = (key, self.params)

    def field_errors(self, lang: str) -> dict[str, str]:
        """Each bad field's error in `lang`, in the words of the form's label."""
        return {
            name: _said(key, {"label": FIELDS.get(name, {"id": name}), **params}, lang)
            for name, (key, params) in self.errors.items()
        }

    def say(self, lang: str) -> str:
        if not self.errors:
            return super().say(lang)
        return " ".join(self.field_errors(lang).values())


def _said(key: str, params: Mapping[str, Any], lang: str) -> str:
    return Refused("", key=key, params=params).say(lang)


PYDANTIC_KEYS = {
    "missing": "required",
    "string_too_short": "required",
    "string_too_long": "too_long",
    "literal_error": "choose_one",
    "enum": "choose_one",
    "list_too_long": "too_long",
}
"""pydantic's error types as the catalogue's form errors (any other: `invalid`, or `bad_time`
for a time)."""


def _problem(error: Any) -> tuple[str, dict[str, Any]]:
    kind = str(error["type"])
    if kind.startswith(("datetime", "date", "time")):
        return "bad_time", {}
    key = PYDANTIC_KEYS.get(kind, "invalid")
    limit = (error.get("ctx") or {}).get("max_length")
    return key, {"max": limit} if limit is not None else {}


def parse_form(schema: type[F], data: Mapping[str, Any], what: str) -> F:
    """`data` as `schema`, or FormInvalid naming every bad field of `what` (a move or form)."""
    try:
        return schema.model_validate(dict(data))
    except ValidationError as error:
        unknown = sorted(str(e["loc"][0]) for e in error.errors() if e["type"] == "extra_forbidden")
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in error.errors()
            if e["type"] != "extra_forbidden"
        ]
        errors: dict[str, tuple[str, dict[str, Any]]] = {}
        for e in error.errors():
            if e["type"] != "extra_forbidden" and e["loc"]:
                errors.setdefault(str(e["loc"][0]), _problem(e))
        if unknown:
            allowed = ", ".join(schema.model_fields) or "no fields"
            problems.insert(0, f"unknown field(s) {', '.join(unknown)} (it takes {allowed})")
            errors |= {name: ("unknown_field", {}) for name in unknown}
        raise FormInvalid(f"{what}: {'; '.join(problems)}", errors=errors) from None


def blank(value: Any) -> bool:
    """Left out, or only whitespace: a required field so given is missing."""
    return value is None or (isinstance(value, str) and not value.strip()) or value in ([], ())
