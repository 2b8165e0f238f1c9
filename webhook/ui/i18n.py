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
}


def word(key: str, lang: str) -> str:
    entry = WORDS.get(key) or FIELDS.get(key)
    return entry.get(lang, entry["id"]) if entry else key
