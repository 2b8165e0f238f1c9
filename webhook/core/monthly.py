"""The monthly report (laporan bulanan, issue 6): per SKPD and month, availability, outages,
downtime split by responsibility, time per SOP stage, and the incidents.

Pure: the month's incidents (with their alerts and events), the F-04 repair ends and the
availability from Prometheus in, a `MonthlyReport` out, and its tables (CSV, workbook). The
page and the PDF (`webhook.web.ui.monthly`, `webhook.core.pdf`) render the same object. The rules:

- an incident belongs to the month when its life (opening to closing, or now) overlaps it;
- outages: incidents opened in the month, cancelled ones (false alarms, duplicates) left out;
  the time per stage is the mean over those;
- downtime: each non-cancelled incident's outage (`webhook.core.figures.outage_intervals`)
  within the month, by its responsibility, and by the cause on its F-04 (`downtime_by_cause`);
- planned downtime (issue 15): the whole downtime of a planned incident (opened inside a
  maintenance window), and the part of any other outage inside a window of its SKPD; the rest
  is unplanned. Both are parts of the downtime above, which keeps its meaning;
- availability excluding planned time, as service agreements count it: with T the month's
  measured time, W the SKPD's window time in it, A the availability over T and A_W the
  availability within the windows (both from Prometheus),

      availability_excl_planned = (A·T − A_W·W) / (T − W)

  the share of the time outside the windows that the SKPD was up (= A without windows).
- a month is the regency's month (`Month.zone`, SIGAP_TIMEZONE): November in WITA runs from
  31 October 16:00 UTC to 30 November 16:00 UTC.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from webhook.core import figures
from webhook.core.forms import CAUSES, UNKNOWN_CAUSE
from webhook.core.i18n import MONTH_NAMES, word
from webhook.core.localtime import DEFAULT_ZONE, format_moment, local, zone_of
from webhook.core.workflow import State


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month on the regency's clock (`zone`)."""

    year: int
    month: int
    zone: str = field(default=DEFAULT_ZONE, compare=False)

    @classmethod
    def parse(cls, text: str, zone: str = DEFAULT_ZONE) -> Month:
        found = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1970:
            raise ValueError(f"bulan {text!r}: expected the format YYYY-MM, e.g. 2026-11")
        return cls(int(found[1]), int(found[2]), zone)

    @classmethod
    def of(cls, moment: datetime, zone: str = DEFAULT_ZONE) -> Month:
        """The month `moment` falls in on the regency's clock."""
        at = local(moment, zone)
        return cls(at.year, at.month, zone)

    @property
    def start(self) -> datetime:
        """Local midnight of the 1st, in UTC (as the store keeps times)."""
        return datetime(self.year, self.month, 1, tzinfo=zone_of(self.zone)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The next month's start (exclusive)."""
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1, self.zone)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1, self.zone)

    def name(self, lang: str) -> str:
        return f"{MONTH_NAMES.get(lang, MONTH_NAMES['id'])[self.month - 1]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class AlertSpan(Protocol):
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime | None: ...


class IncidentRecord(Protocol):
    """What the report reads of an incident (`webhook.store.models.Incident`, alerts and events
    loaded)."""

    @property
    def id(self) -> int: ...
    @property
    def skpd(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def responsibility(self) -> str | None: ...
    @property
    def opened_at(self) -> datetime: ...
    @property
    def closed_at(self) -> datetime | None: ...
    @property
    def alerts(self) -> Sequence[AlertSpan]: ...
    @property
    def events(self) -> Sequence[figures.EventRecord]: ...
    @property
    def planned(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class IncidentLine:
    id: int
    skpd: str
    title: str
    state: str
    responsibility: str
    opened_at: datetime
    closed_at: datetime | None
    downtime: float
    """Seconds of its outage within the month (0 for a cancelled one)."""
    time_to_stage: Mapping[str, float]
    counted: bool
    """Opened in the month and not cancelled: one of the month's outages."""
    planned: bool = False
    """Opened inside a maintenance window of its SKPD."""
    planned_downtime: float = 0.0
    """Seconds of `downtime` that were planned (all of it for a planned incident)."""


@dataclass(frozen=True, slots=True)
class SkpdMonth:
    skpd: str
    name: str
    availability: float | None
    """0..1; None when Prometheus gave no figure."""
    outages: int
    downtime: Mapping[str, float]
    """Responsibility (diskominfo, skpd, unknown) -> seconds."""
    time_to_stage: Mapping[str, float | None]
    """Timed stage -> mean seconds from opening; None when no outage reached it."""
    incidents: tuple[IncidentLine, ...]
    planned_time: float = 0.0
    """Seconds of the month (so far) inside the SKPD's maintenance windows."""
    availability_excl_planned: float | None = None
    """0..1 over the time outside the windows; None without the figures it needs."""
    internal_availability: float | None = None
    """0..1: the SKPD's own network (README "Availability"), apart from `availability`, which is
    the connection Diskominfo delivers; None when Prometheus gave no figure."""

    @property
    def downtime_total(self) -> float:
        return sum(self.downtime.values())

    @property
    def downtime_planned(self) -> float:
        return sum(x.planned_downtime for x in self.incidents)

    @property
    def downtime_unplanned(self) -> float:
        return max(0.0, self.downtime_total - self.downtime_planned)


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    month: Month
    generated_at: datetime
    skpds: tuple[SkpdMonth, ...]
    availability_problem: str | None
    """Why availability is missing (no Prometheus configured, unreachable), else None."""
    causes: Mapping[int, str] = field(default_factory=dict)
    """Incident id -> the cause on its F-04 (`webhook.core.forms.Cause`); absent: unknown."""


def repair_end(f04: Mapping[str, Any] | None) -> datetime | None:
    """F-04's repair end as an aware datetime (forms keep ISO 8601 with offset; a naive one is
    UTC)."""
    value = (f04 or {}).get("repair_ended_at")
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def availability_excluding_planned(
    availability: float | None, measured: float, planned: float, within_windows: float | None
) -> float | None:
    """(A·T − A_W·W) / (T − W), clamped to 0..1 (see the module's docstring); A itself when
    there is no window; None when a figure is missing or the windows took the whole time."""
    if availability is None:
        return None
    if planned <= 0:
        return availability
    if within_windows is None or measured - planned <= 0:
        return None
    ratio = (availability * measured - within_windows * planned) / (measured - planned)
    return min(1.0, max(0.0, ratio))


REPORT_STAGES = ("acknowledge", *figures.TIMED_STAGES)
"""The times the report gives from an incident's opening: to its first acknowledgement (someone
took it: *Tangani*), then to the first entry of each SOP stage (`figures.TIMED_STAGES`)."""


def _times(incident: IncidentRecord) -> dict[str, float]:
    times = figures.time_to_stages(incident.opened_at, incident.events)
    acknowledged = figures.time_to_acknowledge(incident.opened_at, incident.events)
    if acknowledged is not None:
        times["acknowledge"] = acknowledged
    return times


def incident_line(
    incident: IncidentRecord,
    month: Month,
    repair_ended_at: datetime | None,
    now: datetime,
    windows: Sequence[tuple[datetime, datetime]] = (),
) -> IncidentLine:
    """One incident's figures for the month (alerts and events loaded); `windows`: its SKPD's
    maintenance windows in the month, merged."""
    cancelled = incident.state == State.CANCELLED
    intervals = figures.outage_intervals(
        incident.opened_at,
        incident.closed_at,
        [(a.starts_at, a.ends_at) for a in incident.alerts],
        repair_ended_at,
    )
    downtime = planned_downtime = 0.0
    planned = incident.planned
    if not cancelled:
        downtime = figures.outage_seconds(intervals, now, (month.start, month.end))
        planned_downtime = (
            downtime if planned else sum(figures.outage_seconds(intervals, now, w) for w in windows)
        )
    return IncidentLine(
        id=incident.id,
        skpd=incident.skpd,
        title=incident.title,
        state=incident.state,
        responsibility=figures.responsibility_label(incident.responsibility),
        opened_at=incident.opened_at,
        closed_at=incident.closed_at,
        downtime=downtime,
        time_to_stage=_times(incident),
        counted=not cancelled and month.start <= incident.opened_at < month.end,
        planned=planned,
        planned_downtime=planned_downtime,
    )


def build_report(
    month: Month,
    names: Mapping[str, str],
    incidents: Iterable[IncidentRecord],
    repair_ends: Mapping[int, datetime | None],
    availability: Mapping[str, float],
    availability_problem: str | None,
    now: datetime,
    windows: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
    availability_in_windows: Mapping[str, float] | None = None,
    causes: Mapping[int, str] | None = None,
    internal_availability: Mapping[str, float] | None = None,
) -> MonthlyReport:
    """The report of `names`' SKPDs (in that order; SKPDs of `incidents` not named follow).
    `windows`: each SKPD's maintenance windows in the month, merged
    (`webhook.core.maintenance.intervals_within`); `availability_in_windows`: A_W per SKPD;
    `causes` from the F-04s (`cause_of`); `availability` is Diskominfo's delivered connection,
    `internal_availability` the SKPD's own network."""
    windows = windows or {}
    lines = [
        incident_line(i, month, repair_ends.get(i.id), now, windows.get(i.skpd, ()))
        for i in incidents
    ]
    measured = max(0.0, (min(month.end, now) - month.start).total_seconds())
    order = dict(names)
    for line in lines:
        order.setdefault(line.skpd, line.skpd)

    def planned_time(skpd: str) -> float:
        return sum((hi - lo).total_seconds() for lo, hi in windows.get(skpd, ()))

    skpds = []
    for skpd, name in order.items():
        mine = tuple(sorted((x for x in lines if x.skpd == skpd), key=lambda x: x.opened_at))
        counted = [x for x in mine if x.counted]
        skpds.append(
            SkpdMonth(
                skpd=skpd,
                name=name,
                availability=availability.get(skpd),
                outages=len(counted),
                downtime=figures.per_responsibility((x.responsibility, x.downtime) for x in mine),
                time_to_stage={
                    stage: figures.mean(
                        x.time_to_stage[stage] for x in counted if stage in x.time_to_stage
                    )
                    for stage in REPORT_STAGES
                },
                incidents=mine,
                planned_time=planned_time(skpd),
                availability_excl_planned=availability_excluding_planned(
                    availability.get(skpd),
                    measured,
                    planned_time(skpd),
                    (availability_in_windows or {}).get(skpd),
                ),
                internal_availability=(internal_availability or {}).get(skpd),
            )
        )
    return MonthlyReport(month, now, tuple(skpds), availability_problem, dict(causes or {}))


# --- downtime by cause (F-04) --------------------------------------------------------------------


def cause_of(f04: Mapping[str, Any] | None) -> str:
    """The cause on an F-04; `unknown` without one (none filed yet, or filed without)."""
    cause = (f04 or {}).get("cause")
    return cause if cause in CAUSES else UNKNOWN_CAUSE


def line_cause(report: MonthlyReport, line: IncidentLine) -> str:
    return report.causes.get(line.id, UNKNOWN_CAUSE)


def skpd_downtime_by_cause(report: MonthlyReport, skpd: SkpdMonth) -> Mapping[str, float]:
    """Cause (every one, and unknown) -> seconds of `skpd`'s downtime in the month."""
    totals = dict.fromkeys((*CAUSES, UNKNOWN_CAUSE), 0.0)
    for line in skpd.incidents:
        totals[line_cause(report, line)] += line.downtime
    return totals


def downtime_by_cause(report: MonthlyReport) -> Mapping[str, Mapping[str, float]]:
    """Cause -> responsibility -> seconds, over every SKPD of the report (every key present)."""
    table = {c: dict.fromkeys(figures.RESPONSIBILITIES, 0.0) for c in (*CAUSES, UNKNOWN_CAUSE)}
    for skpd in report.skpds:
        for line in skpd.incidents:
            table[line_cause(report, line)][line.responsibility] += line.downtime
    return table


# --- how the figures read ------------------------------------------------------------------------


def format_duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    day, hour, minute = ("hari", "j", "m") if lang == "id" else ("d", "h", "min")
    if days:
        return f"{days} {day} {hours} {hour}"
    if hours:
        return f"{hours} {hour} {minutes:02d} {minute}"
    return f"{minutes} {minute}"


def format_availability(ratio: float | None, lang: str) -> str:
    if ratio is None:
        return word("no_data", lang)
    text = f"{ratio * 100:.3f} %"
    return text.replace(".", ",") if lang == "id" else text


def format_time(moment: datetime | None, zone: str = DEFAULT_ZONE, lang: str = "id") -> str:
    """A table's time on the regency's clock: `30/11/2026 17.02`."""
    return format_moment(moment, zone, lang, short=True)


# --- tables: CSV for machines, CSV for Excel, the workbook ------------------------------------


Kind = Literal["text", "word", "count", "flag", "ratio", "duration", "moment"]
"""How a column's values are written: `word` is a stable id (a state, a responsibility) that
people read translated (`Column.words` is the catalogue's prefix); `duration` is seconds;
`moment` an aware datetime shown on `Column.zone`'s clock."""


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    """Without a unit: each rendering adds its own (`(detik)`, `(jam:menit)`, `(0-1)`)."""
    kind: Kind = "text"
    words: str = ""
    zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Table:
    """One download of the report: its columns and rows, values as `Column.kind` says (None:
    no figure). The three renderings below (and `webhook.core.workbook`) write this one object,
    so they never differ in what they say."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[object, ...], ...]


def summary_table(report: MonthlyReport, lang: str) -> Table:
    """One row per SKPD: availability as a ratio 0..1, durations in seconds."""

    def t(key: str) -> str:
        return word(key, lang)

    def downtime(what: str) -> Column:
        return Column(f"{t('downtime')} {what}", "duration")

    columns = (
        Column("SKPD"),
        Column(t("skpd_name")),
        Column(t("month")),
        Column(t("availability"), "ratio"),
        Column(t("outages"), "count"),
        downtime(t("total")),
        *(downtime(t(f"responsibility_{r}")) for r in figures.RESPONSIBILITIES),
        *(Column(t(f"stage_{s}"), "duration") for s in REPORT_STAGES),
        Column(t("downtime_planned"), "duration"),
        Column(t("downtime_unplanned"), "duration"),
        Column(t("maintenance"), "duration"),
        Column(t("availability_sla"), "ratio"),
        *(downtime(t(f"cause_{c}")) for c in (*CAUSES, UNKNOWN_CAUSE)),
        Column(t("availability_internal"), "ratio"),
    )
    rows = []
    for skpd in report.skpds:
        by_cause = skpd_downtime_by_cause(report, skpd)
        rows.append(
            (
                skpd.skpd,
                skpd.name,
                str(report.month),
                skpd.availability,
                skpd.outages,
                skpd.downtime_total,
                *(skpd.downtime[r] for r in figures.RESPONSIBILITIES),
                *(skpd.time_to_stage[s] for s in REPORT_STAGES),
                skpd.downtime_planned,
                skpd.downtime_unplanned,
                skpd.planned_time,
                skpd.availability_excl_planned,
                *(by_cause[c] for c in (*CAUSES, UNKNOWN_CAUSE)),
                skpd.internal_availability,
            )
        )
    return Table(f"{t('monthly_title')} · {report.month.name(lang)}", columns, tuple(rows))


def incidents_table(report: MonthlyReport, lang: str) -> Table:
    """One row per incident of the month."""

    def t(key: str) -> str:
        return word(key, lang)

    zone = report.month.zone
    columns = (
        Column(t("incident"), "count"),
        Column("SKPD"),
        Column(f"{t('opened_at')} (UTC)", "moment"),
        Column(t("state"), "word", words="state_"),
        Column(t("responsibility"), "word", words="responsibility_"),
        Column(t("downtime"), "duration"),
        *(Column(t(f"stage_{s}"), "duration") for s in REPORT_STAGES),
        Column(t("description")),
        Column(t("planned"), "flag"),
        Column(t("downtime_planned"), "duration"),
        Column(t("cause"), "word", words="cause_"),
        Column(f"{t('opened_at')} ({zone})", "moment", zone=zone),
    )
    rows = [
        (
            line.id,
            line.skpd,
            line.opened_at,
            line.state,
            line.responsibility,
            line.downtime,
            *(line.time_to_stage.get(s) for s in REPORT_STAGES),
            line.title,
            line.planned,
            line.planned_downtime,
            line_cause(report, line),
            line.opened_at,
        )
        for skpd in report.skpds
        for line in skpd.incidents
    ]
    title = f"{t('incidents_of_month')} · {report.month.name(lang)}"
    return Table(title, columns, tuple(rows))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, CSV injection)."""


def neutralised(value: object) -> object:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading `'`
    (shown, not run); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def hours_minutes(seconds: float) -> str:
    """`26:05`: a duration as hours (not wrapped at a day) and minutes, to the nearest minute."""
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours}:{minutes:02d}"


def _machine_cells(column: Column, value: object, lang: str) -> list[object]:
    if value is None:
        return [""]
    match column.kind:
        case "ratio" if isinstance(value, float):
            return [f"{value:.6f}"]
        case "duration" if isinstance(value, int | float):
            return [round(value)]
        case "flag":
            return [int(bool(value))]
        case "moment" if isinstance(value, datetime):
            if column.zone == "UTC":
                return [value.isoformat()]
            return [local(value, column.zone).isoformat(timespec="seconds")]
    return [value]


def _excel_cells(column: Column, value: object, lang: str) -> list[object]:
    """Indonesian Excel's reading: decimal comma, durations as `h:mm` then seconds, local
    times as `2026-11-30 17:02:00` (a date Excel recognises), words instead of ids."""
    if value is None:
        return ["", ""] if column.kind == "duration" else [""]
    match column.kind:
        case "ratio" if isinstance(value, float):
            return [f"{value:.6f}".replace(".", ",")]
        case "duration" if isinstance(value, int | float):
            return [hours_minutes(value), round(value)]
        case "flag":
            return [word("yes" if value else "no", lang)]
        case "word":
            return [word(f"{column.words}{value}", lang)]
        case "moment" if isinstance(value, datetime):
            return [local(value, column.zone).strftime("%Y-%m-%d %H:%M:%S")]
    return [value]


def _headers(column: Column, lang: str, excel: bool) -> list[str]:
    seconds = f"{column.header} ({word('seconds', lang)})"
    match column.kind:
        case "ratio":
            return [f"{column.header} (0-1)"]
        case "duration" if excel:
            return [f"{column.header} ({word('hours_minutes', lang)})", seconds]
        case "duration":
            return [seconds]
    return [column.header]


EXCEL_BOM = "\ufeff"
"""Without it Excel reads the file in the machine's code page: names with `é` or `–` garble."""


def table_csv(table: Table, lang: str, *, excel: bool) -> str:
    """`table` as CSV: for Excel with Indonesian regional settings (`excel`: `;` between
    cells, decimal comma, a BOM, durations as `h:mm` with the seconds beside), or for
    programs (`,`, dots, seconds, ids, ISO 8601). The only way SIGAP writes CSV: every cell is
    `neutralised`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if excel else ",")
    cells = _excel_cells if excel else _machine_cells
    writer.writerow([h for c in table.columns for h in _headers(c, lang, excel)])
    for row in table.rows:
        written = [x for c, v in zip(table.columns, row, strict=True) for x in cells(c, v, lang)]
        writer.writerow([neutralised(x) for x in written])
    return (EXCEL_BOM if excel else "") + out.getvalue()
