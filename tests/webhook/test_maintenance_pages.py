"""The maintenance page: a coordinator plans a window in the regency's time with SKPD and
nodes from the inventory; the board shows it while it runs; a manual report inside it is
planned and says so; other roles see the windows but cannot plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.webhook.access_app import csrf_of, login, running

WITA = ZoneInfo("Asia/Makassar")


def _local(moment: datetime) -> str:
    return moment.astimezone(WITA).strftime("%Y-%m-%dT%H:%M")


async def test_a_coordinator_plans_on_the_page_and_the_board_and_a_report_show_it(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as service:
        client = service.client
        assert await login(client, "koord") == 303
        csrf = await csrf_of(client, "/pemeliharaan")
        now = datetime.now(UTC)
        form = {
            "csrf": csrf,
            "skpd": "dinkes",
            "nodes": "",
            "starts_at": _local(now),
            "ends_at": _local(now + timedelta(hours=2)),
            "reason": "ganti switch",
        }
        wrong = await client.post("/pemeliharaan", data={**form, "nodes": "gw-dishub"})
        assert wrong.status == 422 and "gw-dishub bukan perangkat SKPD ini" in await wrong.text()
        late = await client.post("/pemeliharaan", data={**form, "ends_at": _local(now)})
        page = await late.text()
        assert late.status == 422 and 'id="ends_at-error"' in page  # beside its field
        assert "Selesai harus" in page and 'value="ganti switch"' in page  # what was typed stays
        ok = await client.post("/pemeliharaan", data=form, allow_redirects=False)
        assert ok.status == 303
        page = await (await client.get("/pemeliharaan")).text()
        assert "ganti switch" in page and "seluruh SKPD" in page and "WITA" in page
        board = await (await client.get("/")).text()
        assert 'data-testid="maintenance-active"' in board and "ganti switch" in board

        report = await client.post(
            "/report", data={"csrf": csrf, "skpd": "dinkes", "description": "listrik mati"}
        )
        assert report.status == 200
        assert 'data-testid="planned"' in await report.text()

        cancel = await client.post("/pemeliharaan/1/batal", data={"csrf": csrf})
        assert cancel.status == 200
        assert "ganti switch" not in await (await client.get("/pemeliharaan")).text()

        await client.post("/logout", data={"csrf": csrf})
        assert await login(client, "sari") == 303
        staff_csrf = await csrf_of(client, "/pemeliharaan")
        refused = await client.post("/pemeliharaan", data={**form, "csrf": staff_csrf})
        assert refused.status == 403
