"""The UI's words in Bahasa Indonesia (the default) and English."""

from __future__ import annotations

LANGUAGES = ("id", "en")

WORDS: dict[str, dict[str, str]] = {
    "board": {"id": "Papan insiden", "en": "Incident board"},
    "login": {"id": "Masuk", "en": "Log in"},
    "logout": {"id": "Keluar", "en": "Log out"},
    "name": {"id": "Nama pengguna", "en": "User name"},
    "password": {"id": "Kata sandi", "en": "Password"},
    "login_failed": {"id": "Nama atau kata sandi salah", "en": "Wrong name or password"},
    "too_many": {
        "id": "Terlalu banyak percobaan; coba lagi nanti",
        "en": "Too many attempts; try again later",
    },
    "no_incidents": {"id": "Tidak ada insiden terbuka", "en": "No open incidents"},
    "incident": {"id": "Insiden", "en": "Incident"},
    "state": {"id": "Tahap", "en": "Stage"},
    "age": {"id": "Umur", "en": "Age"},
    "responsibility": {"id": "Tanggung jawab", "en": "Responsibility"},
    "holder": {"id": "Ditangani", "en": "Held by"},
    "overdue": {"id": "TERLAMBAT", "en": "OVERDUE"},
    "alerts": {"id": "Alert", "en": "Alerts"},
    "timeline": {"id": "Linimasa", "en": "Timeline"},
    "actions": {"id": "Tindakan", "en": "Actions"},
    "notifications": {"id": "Notifikasi", "en": "Notifications"},
    "report": {"id": "Laporkan gangguan", "en": "Report an outage"},
    "description": {"id": "Uraian", "en": "Description"},
    "send": {"id": "Kirim", "en": "Send"},
    "print": {"id": "Cetak", "en": "Print"},
    "pdf": {"id": "Unduh PDF", "en": "Download PDF"},
    "users": {"id": "Pengguna", "en": "Users"},
    "add_user": {"id": "Tambah pengguna", "en": "Add user"},
    "role": {"id": "Peran", "en": "Role"},
    "forms": {"id": "Formulir", "en": "Forms"},
    "nothing_to_do": {
        "id": "Tidak ada tindakan untuk Anda saat ini",
        "en": "Nothing for you to do now",
    },
    # the monthly report
    "monthly": {"id": "Laporan bulanan", "en": "Monthly report"},
    "monthly_title": {
        "id": "Laporan bulanan gangguan jaringan SKPD",
        "en": "Monthly report of SKPD network outages",
    },
    "month": {"id": "Bulan", "en": "Month"},
    "time_zone": {"id": "Zona waktu", "en": "Time zone"},
    "skpd_name": {"id": "Nama SKPD", "en": "SKPD name"},
    "show": {"id": "Tampilkan", "en": "Show"},
    "availability": {"id": "Ketersediaan", "en": "Availability"},
    "outages": {"id": "Jumlah gangguan", "en": "Outages"},
    "downtime": {"id": "Waktu henti", "en": "Downtime"},
    "total": {"id": "Total", "en": "Total"},
    "stage_times": {
        "id": "Waktu per tahap SOP (rata-rata, sejak insiden dibuka)",
        "en": "Time per SOP stage (mean, from the incident's opening)",
    },
    "opened_at": {"id": "Dibuka", "en": "Opened"},
    "no_data": {"id": "tidak ada data", "en": "no data"},
    "no_incidents_month": {
        "id": "Tidak ada insiden pada bulan ini",
        "en": "No incidents this month",
    },
    "availability_unavailable": {
        "id": "Data ketersediaan tidak tersedia",
        "en": "Availability is unavailable",
    },
    "no_prometheus": {
        "id": "Prometheus tidak dikonfigurasi (SIGAP_PROMETHEUS_URL)",
        "en": "Prometheus is not configured (SIGAP_PROMETHEUS_URL)",
    },
    "prometheus_unreachable": {
        "id": "Prometheus tidak dapat dihubungi",
        "en": "Prometheus could not be asked",
    },
    "csv_summary": {"id": "CSV ringkasan", "en": "Summary CSV"},
    "csv_incidents": {"id": "CSV insiden", "en": "Incidents CSV"},
    "monthly_note": {
        "id": "Ketersediaan: rata-rata bagian node SKPD yang menjawab ping, dari data "
        "pemantauan Prometheus pada bulan ini. Gangguan: insiden yang dibuka pada bulan ini, "
        "tanpa yang dibatalkan. Waktu henti: di dalam bulan ini saja, menurut pihak yang "
        "bertanggung jawab (SOP langkah 4) dan menurut penyebab pada form F-04.",
        "en": "Availability: the mean share of the SKPD's nodes answering ping, from "
        "Prometheus' monitoring data of the month. Outages: incidents opened in the month, "
        "cancelled ones left out. Downtime: within the month only, by the responsible side "
        "(SOP step 4) and by the cause on form F-04.",
    },
    "stage_confirm": {"id": "Konfirmasi (F-01)", "en": "Confirm (F-01)"},
    "stage_dispatch": {"id": "Penugasan", "en": "Dispatch"},
    "stage_estimate": {"id": "Estimasi", "en": "Estimate"},
    "stage_repair": {"id": "Perbaikan (F-04)", "en": "Repair (F-04)"},
    "stage_close": {"id": "Selesai", "en": "Closed"},
    "responsibility_diskominfo": {"id": "Diskominfo", "en": "Diskominfo"},
    "responsibility_skpd": {"id": "SKPD", "en": "SKPD"},
    "responsibility_unknown": {"id": "Belum ditetapkan", "en": "Not set"},
    "seconds": {"id": "detik", "en": "seconds"},
    "open": {"id": "terbuka", "en": "open"},
    # the SOP stages (webhook.core.workflow.State), as people name them
    "state_opened": {"id": "Dibuka", "en": "Opened"},
    "state_ping_checked": {"id": "Sudah dicek ping", "en": "Ping-checked"},
    "state_confirmed": {"id": "Terkonfirmasi (F-01)", "en": "Confirmed (F-01)"},
    "state_reported": {"id": "Dilaporkan", "en": "Reported"},
    "state_dispatched": {"id": "Staf ditugaskan", "en": "Staff dispatched"},
    "state_estimated": {"id": "Estimasi dicatat", "en": "Estimated"},
    "state_forwarded": {"id": "Estimasi diteruskan", "en": "Estimate forwarded"},
    "state_repair_ordered": {"id": "Perbaikan diperintahkan", "en": "Repair ordered"},
    "state_repaired": {"id": "Diperbaiki (F-04)", "en": "Repaired (F-04)"},
    "state_closed": {"id": "Ditutup", "en": "Closed"},
    "state_transient": {"id": "Gangguan sesaat", "en": "Transient"},
    "state_cancelled": {"id": "Dibatalkan", "en": "Cancelled"},
    # timeline entries that are not workflow moves (those use the transition's own label)
    "event_opened": {"id": "Insiden dibuka", "en": "Incident opened"},
    "event_alert_firing": {"id": "Alert menyala", "en": "Alert firing"},
    "event_alert_resolved": {"id": "Alert selesai", "en": "Alert resolved"},
    "event_recovered": {"id": "Koneksi pulih", "en": "Connection recovered"},
    "event_report": {"id": "Laporan tambahan", "en": "Further report"},
    "event_escalate": {"id": "Terlambat: dieskalasi", "en": "Overdue: escalated"},
    "replies": {"id": "balasan", "en": "replies"},
    "mean": {"id": "rata-rata", "en": "mean"},
    "no_reply": {"id": "tidak menjawab", "en": "no reply"},
    # the causes of an outage (F-04, webhook.core.forms.Cause)
    "cause": {"id": "Penyebab gangguan", "en": "Cause"},
    "cause_pln_power": {"id": "Listrik PLN padam", "en": "PLN power outage"},
    "cause_fibre_cut": {"id": "Kabel fiber optik putus", "en": "Fibre cut"},
    "cause_device_failure": {"id": "Kerusakan perangkat", "en": "Device failure"},
    "cause_configuration": {"id": "Kesalahan konfigurasi", "en": "Configuration"},
    "cause_upstream_provider": {"id": "Gangguan penyedia layanan", "en": "Upstream provider"},
    "cause_other": {"id": "Lainnya", "en": "Other"},
    "cause_unknown": {"id": "Belum diisi", "en": "Not given"},
    "choose": {"id": "— pilih —", "en": "— choose —"},
    # the monthly report's charts
    "chart_availability": {"id": "Ketersediaan per SKPD", "en": "Availability per SKPD"},
    "chart_causes": {"id": "Waktu henti menurut penyebab", "en": "Downtime by cause"},
    "chart_responsibility": {
        "id": "Waktu henti menurut tanggung jawab",
        "en": "Downtime by responsibility",
    },
    "hours": {"id": "jam", "en": "hours"},
    # the forms as documents (webhook.core.documents)
    "document_number": {"id": "Nomor", "en": "Number"},
    "nodes_affected": {"id": "Node terdampak", "en": "Affected nodes"},
    "node": {"id": "Node", "en": "Node"},
    "node_name": {"id": "Nama node", "en": "Node name"},
    "ip_address": {"id": "Alamat IP", "en": "IP address"},
    "location": {"id": "Lokasi", "en": "Location"},
    "owner_diskominfo": {"id": "Diskominfo", "en": "Diskominfo"},
    "owner_skpd": {"id": "SKPD", "en": "SKPD"},
    "signed_staff": {"id": "Staf Admin Jaringan Kominfo", "en": "Diskominfo network staff"},
    "signed_skpd_admin": {"id": "Admin SKPD", "en": "SKPD admin"},
    "signed_reporter": {"id": "Pelapor", "en": "Reporter"},
    "nip": {"id": "NIP", "en": "NIP"},
    "full_name": {"id": "Nama lengkap", "en": "Full name"},
    "acknowledged_by": {"id": "Diterima oleh admin SKPD", "en": "Received by the SKPD admin"},
    # the roles (webhook.core.workflow.Role)
    "role_staff": {"id": "staf jaringan", "en": "network staff"},
    "role_coordinator": {"id": "koordinator jaringan", "en": "network coordinator"},
    "role_skpd_admin": {"id": "admin SKPD", "en": "SKPD admin"},
    "role_viewer": {"id": "pemantau", "en": "viewer"},
    "role_system": {"id": "sistem", "en": "system"},
}

MONTH_NAMES = {
    "id": [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}

FIELDS: dict[str, dict[str, str]] = {
    "reporter": {"id": "Pelapor", "en": "Reporter"},
    "contact_confirmed_with": {"id": "Dikonfirmasi dengan", "en": "Confirmed with"},
    "complaint": {"id": "Aduan", "en": "Complaint"},
    "affected_service": {"id": "Layanan terdampak", "en": "Affected service"},
    "reported_at": {"id": "Waktu aduan", "en": "Time of complaint"},
    "responsibility": {"id": "Tanggung jawab", "en": "Responsibility"},
    "assignee": {"id": "Staf yang ditugaskan", "en": "Staff to dispatch"},
    "findings": {"id": "Temuan", "en": "Findings"},
    "estimated_recovery_at": {"id": "Estimasi pulih", "en": "Estimated recovery"},
    "actions_taken": {"id": "Tindakan", "en": "Actions taken"},
    "parts_replaced": {"id": "Perangkat diganti", "en": "Parts replaced"},
    "repair_started_at": {"id": "Mulai perbaikan", "en": "Repair started"},
    "repair_ended_at": {"id": "Selesai perbaikan", "en": "Repair ended"},
    "result": {"id": "Hasil", "en": "Result"},
    "reason": {"id": "Alasan", "en": "Reason"},
    "cause": {"id": "Penyebab gangguan", "en": "Cause"},
    "staff": {"id": "Staf", "en": "Staff"},
}


def word(key: str, lang: str) -> str:
    entry = WORDS.get(key) or FIELDS.get(key)
    return entry.get(lang, entry["id"]) if entry else key
