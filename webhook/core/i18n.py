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
    "age": {"id": "Terbuka sejak", "en": "Open for"},
    "responsibility": {"id": "Tanggung jawab", "en": "Responsibility"},
    "holder": {"id": "Ditangani", "en": "Held by"},
    "overdue": {"id": "TERLAMBAT", "en": "OVERDUE"},
    "alerts": {"id": "Alarm", "en": "Alarms"},
    "timeline": {"id": "Linimasa", "en": "Timeline"},
    "actions": {"id": "Tindakan", "en": "Actions"},
    "notifications": {"id": "Notifikasi", "en": "Notifications"},
    "report": {"id": "Laporkan gangguan", "en": "Report an outage"},
    "description": {"id": "Uraian", "en": "Description"},
    "send": {"id": "Kirim", "en": "Send"},
    "print": {"id": "Cetak", "en": "Print"},
    "pdf": {"id": "Unduh PDF", "en": "Download PDF"},
    "users": {"id": "Pengguna", "en": "Users"},
    "add_user": {"id": "Tambah atau ubah pengguna", "en": "Add or change a user"},
    "add_user_hint": {
        "id": "Nama yang sudah ada mengubah pengguna itu; kata sandi baru mengakhiri sesinya.",
        "en": "A name that exists changes that user; a new password ends their sessions.",
    },
    "report_nodes": {
        "id": "Perangkat yang terganggu (opsional, pisahkan dengan koma)",
        "en": "Affected devices (optional, comma separated)",
    },
    "disable_user": {"id": "Nonaktifkan", "en": "Disable"},
    "enable_user": {"id": "Aktifkan", "en": "Enable"},
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
    "availability_connection": {
        "id": "Ketersediaan koneksi Diskominfo",
        "en": "Availability of Diskominfo's connection",
    },
    "availability_internal": {
        "id": "Ketersediaan jaringan internal",
        "en": "Internal network availability",
    },
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
    "stage_acknowledge": {"id": "Ditangani", "en": "Acknowledged"},
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
    "action_opened": {"id": "Insiden dibuka", "en": "Incident opened"},
    "action_alert_firing": {"id": "Alarm aktif", "en": "Alarm active"},
    "action_alert_resolved": {"id": "Alarm selesai", "en": "Alarm resolved"},
    "action_recovered": {"id": "Koneksi pulih", "en": "Connection recovered"},
    "action_report": {"id": "Laporan tambahan", "en": "Further report"},
    "action_escalate": {"id": "Terlambat: dieskalasi", "en": "Overdue: escalated"},
    "replies": {"id": "balasan", "en": "replies"},
    "mean": {"id": "rata-rata", "en": "mean"},
    "no_reply": {"id": "tidak menjawab", "en": "no reply"},
    # maintenance windows (webhook.web.maintenance)
    "maintenance": {"id": "Pemeliharaan", "en": "Maintenance"},
    "maintenance_current": {
        "id": "Pemeliharaan berjalan dan mendatang",
        "en": "Current and upcoming maintenance",
    },
    "maintenance_active": {"id": "Pemeliharaan berjalan", "en": "Maintenance in progress"},
    "maintenance_none": {"id": "Tidak ada pemeliharaan terjadwal", "en": "No maintenance planned"},
    "maintenance_new": {"id": "Jadwalkan pemeliharaan", "en": "Plan maintenance"},
    "maintenance_edit": {"id": "Ubah", "en": "Change"},
    "maintenance_cancel": {"id": "Batalkan", "en": "Cancel"},
    "maintenance_save": {"id": "Simpan", "en": "Save"},
    "maintenance_nodes": {"id": "Node", "en": "Nodes"},
    "maintenance_nodes_hint": {
        "id": "Node (pisahkan dengan koma; kosong = seluruh SKPD)",
        "en": "Nodes (comma-separated; empty = the whole SKPD)",
    },
    "maintenance_whole": {"id": "seluruh SKPD", "en": "the whole SKPD"},
    "maintenance_start": {"id": "Mulai", "en": "Start"},
    "maintenance_end": {"id": "Selesai", "en": "End"},
    "maintenance_sync": {"id": "Pembungkaman di Alertmanager", "en": "Alertmanager silence"},
    "maintenance_until": {"id": "sampai", "en": "until"},
    "maintenance_note": {
        "id": "Selama pemeliharaan, alarm SKPD/node tersebut dibungkam di Alertmanager sehingga "
        "tidak membuka insiden; insiden yang tetap terbuka di dalam jendela ditandai terencana "
        "dan waktu hentinya dihitung terpisah di laporan bulanan.",
        "en": "During maintenance the SKPD's (or nodes') alerts are silenced in Alertmanager, so "
        "they open no incident; an incident opened inside a window anyway is marked planned and "
        "its downtime is counted apart in the monthly report.",
    },
    "sync_synced": {"id": "terpasang", "en": "in place"},
    "sync_pending": {"id": "menunggu", "en": "pending"},
    "sync_failed": {"id": "gagal, dicoba lagi", "en": "failed, retrying"},
    "sync_none": {"id": "tanpa Alertmanager", "en": "no Alertmanager"},
    "planned": {"id": "Terencana (pemeliharaan)", "en": "Planned (maintenance)"},
    "downtime_planned": {"id": "Waktu henti terencana", "en": "Planned downtime"},
    "downtime_unplanned": {"id": "Waktu henti tak terencana", "en": "Unplanned downtime"},
    "availability_sla": {
        "id": "Ketersediaan (tanpa pemeliharaan)",
        "en": "Availability (excl. maintenance)",
    },
    # the duty roster (jadwal piket) and paging
    "roster": {"id": "Jadwal piket", "en": "Duty roster"},
    "on_duty": {"id": "Petugas piket", "en": "On duty"},
    "on_duty_now": {"id": "Piket sekarang", "en": "On duty now"},
    "on_duty_next": {"id": "Piket berikutnya", "en": "On duty next"},
    "nobody": {"id": "belum ada (atur jadwal piket)", "en": "nobody (set the roster)"},
    "from": {"id": "Mulai", "en": "From"},
    "until": {"id": "Sampai", "en": "Until"},
    "roster_zone": {"id": "Zona waktu", "en": "Time zone"},
    "my_feed": {"id": "Kalender piket saya", "en": "My duty calendar"},
    "subscribe": {"id": "Langganan (iCalendar)", "en": "Subscribe (iCalendar)"},
    "feed_help": {
        "id": "Tambahkan alamat ini di kalender ponsel (langganan kalender lewat URL).",
        "en": "Add this address to your phone's calendar (subscribe by URL).",
    },
    "upcoming_shifts": {"id": "Jadwal 14 hari ke depan", "en": "The next 14 days"},
    "no_roster": {"id": "Jadwal piket belum diatur", "en": "No roster is set"},
    "overrides": {"id": "Tukar jaga dan cuti", "en": "Swaps and leave"},
    "no_overrides": {"id": "Tidak ada", "en": "None"},
    "reason_swap": {"id": "tukar jaga (menggantikan)", "en": "swap (covers)"},
    "reason_leave": {"id": "cuti / izin", "en": "leave"},
    "remove": {"id": "Hapus", "en": "Remove"},
    "set_rotation": {"id": "Atur rotasi piket", "en": "Set the rotation"},
    "rotation_people": {
        "id": "Urutan petugas (satu nama per baris)",
        "en": "People in order (one name a line)",
    },
    "staff_list": {"id": "Staf dan koordinator", "en": "Staff and coordinators"},
    "shift": {"id": "Lama giliran", "en": "Shift length"},
    "shift_daily": {"id": "harian (24 jam)", "en": "daily (24 hours)"},
    "shift_weekly": {"id": "mingguan", "en": "weekly"},
    "handover": {"id": "Jam serah terima", "en": "Handover time"},
    "starts_on": {"id": "Giliran pertama mulai tanggal", "en": "First shift starts on"},
    "save": {"id": "Simpan", "en": "Save"},
    "add_override": {"id": "Tambah tukar jaga / cuti", "en": "Add a swap / leave"},
    "person": {"id": "Petugas", "en": "Person"},
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
    "signed_staff": {"id": "Staf Admin Jaringan Diskominfo", "en": "Diskominfo network staff"},
    "signed_skpd_admin": {"id": "Admin SKPD", "en": "SKPD admin"},
    "signed_reporter": {"id": "Pelapor", "en": "Reporter"},
    "nip": {"id": "NIP", "en": "NIP"},
    "full_name": {"id": "Nama lengkap", "en": "Full name"},
    "acknowledged_by": {"id": "Diterima oleh admin SKPD", "en": "Received by the SKPD admin"},
    # the messages to people (webhook.core.messages); a link's label is its move's own
    "action_incident": {"id": "Halaman insiden", "en": "Incident page"},
    "subject_report": {"id": "Gangguan dilaporkan", "en": "Outage reported"},
    "subject_answer": {"id": "Jawaban konfirmasi SKPD", "en": "The SKPD's confirmation"},
    "subject_question": {"id": "Konfirmasi gangguan", "en": "Please confirm the outage"},
    "subject_dispatch": {"id": "Anda ditugaskan", "en": "You are dispatched"},
    "subject_estimate": {"id": "Estimasi pemulihan", "en": "Recovery estimate"},
    "subject_forward": {
        "id": "Estimasi pemulihan dari Diskominfo",
        "en": "Recovery estimate from Diskominfo",
    },
    "subject_order_repair": {"id": "Perintah perbaikan", "en": "Repair ordered"},
    "subject_repair": {"id": "Form tindakan F-04", "en": "Action form F-04"},
    "subject_escalate": {"id": "Terlambat: perlu tindakan", "en": "Overdue: action needed"},
    "subject_opened": {
        "id": "Gangguan baru, mohon ditangani",
        "en": "New outage, please acknowledge",
    },
    "subject_page": {
        "id": "Belum ditangani, mohon ditangani",
        "en": "Not acknowledged yet, please acknowledge",
    },
    # the incident page: the next step first, the rest folded away
    "menu": {"id": "Menu", "en": "Menu"},
    "unit_hour": {"id": "jam", "en": "h"},
    "unit_minute": {"id": "menit", "en": "min"},
    "your_next_step": {"id": "Langkah Anda berikutnya", "en": "Your next step"},
    "waiting": {"id": "Menunggu pihak lain", "en": "Waiting on someone else"},
    "waiting_on": {"id": "Insiden ini menunggu", "en": "This incident waits on"},
    "other_moves": {"id": "Tindakan lain", "en": "Other moves"},
    "confirm_cancel": {
        "id": "Membatalkan insiden menutupnya tanpa perbaikan (alarm palsu atau duplikat). "
        "Tulis alasannya, lalu tekan tombol merah.",
        "en": "Cancelling closes the incident without a repair (a false alarm or a duplicate). "
        "Give the reason, then press the red button.",
    },
    "confirm_close": {
        "id": "Menutup insiden berarti F-04 sudah Anda terima dan perbaikan selesai.",
        "en": "Closing means you have received F-04 and the repair is done.",
    },
    "close_despite_alarm": {
        "id": "Alarm masih aktif; saya tetap menutup insiden ini",
        "en": "The alarm is still active; I close this incident anyway",
    },
    "closed_despite_alarm": {
        "id": "Ditutup saat alarm masih aktif",
        "en": "Closed while the alarm was still active",
    },
    "not_blank": {"id": "Isi dengan teks, bukan hanya spasi", "en": "Type text, not only spaces"},
    "end_after_start": {
        "id": "Selesai perbaikan harus sesudah mulai perbaikan.",
        "en": "The repair must end after it started.",
    },
    "service_internet": {"id": "Internet", "en": "Internet"},
    "service_intranet": {"id": "Intranet", "en": "Intranet"},
    "service_internet+intranet": {"id": "Internet dan intranet", "en": "Internet and intranet"},
    "alert_firing": {"id": "alarm aktif", "en": "alarm active"},
    "alert_resolved": {"id": "pulih", "en": "recovered"},
    "since": {"id": "sejak", "en": "since"},
    "sent_sent": {"id": "Terkirim", "en": "Sent"},
    "sent_failed": {"id": "Gagal terkirim", "en": "Not delivered"},
    "sent_pending": {"id": "Menunggu dikirim", "en": "Waiting to be sent"},
    "channel_email": {"id": "email", "en": "e-mail"},
    "channel_telegram": {"id": "Telegram", "en": "Telegram"},
    "channel_whatsapp": {"id": "WhatsApp", "en": "WhatsApp"},
    "delivery_error": {
        "id": "Pengiriman gagal; detailnya ada di log SIGAP.",
        "en": "Delivery failed; the details are in SIGAP's log.",
    },
    "technical_detail": {"id": "Detail teknis", "en": "Technical detail"},
    "ping_running": {
        "id": "Cek ping sedang berjalan; halaman ini diperbarui sendiri.",
        "en": "The ping check is running; this page updates itself.",
    },
    "ping_failed": {
        "id": "Cek ping tidak dapat dijalankan.",
        "en": "The ping check could not run.",
    },
    "now_state": {"id": "tahap sekarang:", "en": "now:"},
    "form_missing": {
        "id": "Insiden ini belum punya {kind}.",
        "en": "This incident has no {kind} yet.",
    },
    # error pages (webhook.web.ui.errors)
    "error_404": {
        "id": "Halaman ini tidak ada, atau bukan untuk Anda.",
        "en": "This page does not exist, or is not yours to see.",
    },
    "error_405": {
        "id": "Alamat ini hanya untuk tombol di halaman SIGAP; buka halamannya lalu tekan "
        "tombolnya.",
        "en": "This address is for a button on a SIGAP page; open the page and press the button.",
    },
    "error_403": {"id": "Ini bukan untuk peran Anda.", "en": "This is not for your role."},
    "error_409": {"id": "Tindakan ini tidak dapat dilakukan sekarang.", "en": "Not possible now."},
    "error_422": {"id": "Isian tidak sah.", "en": "The input is not valid."},
    "error_500": {
        "id": "Terjadi kesalahan di SIGAP; sudah dicatat. Coba lagi sebentar lagi.",
        "en": "SIGAP ran into an error; it has been logged. Try again in a moment.",
    },
    "error_503": {
        "id": "Basis data SIGAP sedang tidak dapat dihubungi. Coba lagi sebentar lagi; "
        "gangguan jaringan tetap dicatat oleh pemantau.",
        "en": "SIGAP's database cannot be reached right now. Try again in a moment; the "
        "monitoring still records network outages.",
    },
    "error_other": {
        "id": "Permintaan tidak dapat dilayani.",
        "en": "The request cannot be served.",
    },
    "error_title": {"id": "Tidak dapat ditampilkan", "en": "Cannot be shown"},
    "back_board": {"id": "Kembali ke papan insiden", "en": "Back to the incident board"},
    "back_incident": {"id": "Kembali ke insiden", "en": "Back to the incident"},
    # refusals (webhook.core.refusals.Refused.say: `refused_<key>`, filled with its params)
    "refused_unknown_action": {
        "id": "Tindakan ini tidak dikenal.",
        "en": "This move is not known.",
    },
    "refused_wrong_state": {
        "id": "«{move}» tidak dapat dilakukan: insiden sedang pada tahap {state}. "
        "Muat ulang halaman untuk melihat langkah berikutnya.",
        "en": "«{move}» is not possible: the incident is at the stage {state}. "
        "Reload the page to see the next step.",
    },
    "refused_wrong_role": {
        "id": "«{move}» bukan untuk {role}; ini untuk {roles}.",
        "en": "«{move}» is not for a {role}; it is for {roles}.",
    },
    "refused_missing": {
        "id": "«{move}» memerlukan: {fields}.",
        "en": "«{move}» needs: {fields}.",
    },
    "refused_required": {"id": "{label} wajib diisi.", "en": "{label} is required."},
    "refused_too_long": {
        "id": "{label} terlalu panjang (paling banyak {max} karakter).",
        "en": "{label} is too long (at most {max} characters).",
    },
    "refused_choose_one": {
        "id": "Pilih salah satu pilihan {label}.",
        "en": "Choose one of the {label} options.",
    },
    "refused_invalid": {"id": "Isian {label} tidak sah.", "en": "{label} is not valid."},
    "refused_bad_time": {
        "id": "{label}: isi tanggal dan jam yang lengkap.",
        "en": "{label}: give a full date and time.",
    },
    "refused_unknown_field": {
        "id": "Isian {label} tidak dikenal oleh formulir ini.",
        "en": "{label} is not a field of this form.",
    },
    "refused_end_before_start": {
        "id": "{label} harus sesudah {start}.",
        "en": "{label} must be after {start}.",
    },
    "refused_not_ahead": {
        "id": "{label} harus di masa depan (sesudah saat ini).",
        "en": "{label} must lie ahead (after now).",
    },
    "refused_start_too_early": {
        "id": "{label} paling awal {minutes} menit yang lalu.",
        "en": "{label} may be at most {minutes} minutes ago.",
    },
    "refused_window_too_long": {
        "id": "Pemeliharaan paling lama {days} hari.",
        "en": "A maintenance window lasts at most {days} days.",
    },
    "refused_node_twice": {
        "id": "Ada perangkat yang disebut dua kali.",
        "en": "A device is named twice.",
    },
    "maintenance_cancel_confirm": {
        "id": "Ya, batalkan pemeliharaan ini",
        "en": "Yes, cancel this maintenance",
    },
    "refused_not_staff": {
        "id": "{name} bukan staf jaringan yang aktif; pilih dari daftar.",
        "en": "{name} is not an active member of the network staff; choose from the list.",
    },
    "refused_skpd_open": {
        "id": "SKPD {skpd} sudah punya insiden terbuka.",
        "en": "SKPD {skpd} already has an open incident.",
    },
    "refused_no_incident": {
        "id": "Insiden #{id} tidak ada, atau bukan untuk Anda.",
        "en": "Incident #{id} does not exist, or is not yours to see.",
    },
    "refused_cannot_report": {
        "id": "Peran {role} tidak dapat melaporkan gangguan.",
        "en": "A {role} cannot report an outage.",
    },
    "refused_report_only_for": {
        "id": "Anda hanya dapat melaporkan untuk SKPD {skpds}.",
        "en": "You report only for SKPD {skpds}.",
    },
    "refused_unknown_skpd": {
        "id": "SKPD yang dipilih tidak dikenal.",
        "en": "The chosen SKPD is not known.",
    },
    "refused_unknown_node": {
        "id": "{node} bukan perangkat SKPD ini.",
        "en": "{node} is not a device of this SKPD.",
    },
    "refused_link_forged": {
        "id": "Tautan ini tidak sah: isinya diubah, atau bukan dari SIGAP.",
        "en": "This link is not valid: it was changed, or it is not from SIGAP.",
    },
    "refused_link_expired": {
        "id": "Tautan ini sudah kedaluwarsa. Buka insidennya di SIGAP.",
        "en": "This link has expired. Open the incident in SIGAP.",
    },
    "refused_link_used": {
        "id": "Tautan ini sudah pernah dipakai; setiap tautan hanya berlaku sekali.",
        "en": "This link has been used already; each link works once.",
    },
    "refused_link_nobody": {
        "id": "Tautan ini bukan untuk orang yang masih boleh bertindak atas insiden ini.",
        "en": "This link is not for anyone who may still act on this incident.",
    },
    "refused_link_other_person": {
        "id": "Tautan ini dikirim untuk {person}, sedangkan Anda masuk sebagai {user}.",
        "en": "This link was sent to {person}, and you are logged in as {user}.",
    },
    "refused_link_gone": {
        "id": "Insiden ini tidak ada lagi.",
        "en": "This incident is gone.",
    },
    "refused_alert_firing": {
        "id": "Alarm insiden ini masih aktif. Untuk tetap menutupnya, centang konfirmasinya di "
        "halaman insiden.",
        "en": "This incident's alarm is still active. To close it anyway, tick the "
        "confirmation on the incident's page.",
    },
    "refused_coordinator_only": {
        "id": "Hanya koordinator jaringan yang dapat melakukan ini.",
        "en": "Only a network coordinator may do this.",
    },
    "refused_plan_over": {
        "id": "Pemeliharaan #{id} sudah selesai atau dibatalkan.",
        "en": "Maintenance #{id} is over or cancelled.",
    },
    "refused_no_plan": {
        "id": "Pemeliharaan #{id} tidak ada.",
        "en": "Maintenance #{id} does not exist.",
    },
    # an inventory's contact roles (`contacts: [{role: …}]`)
    "contact_admin": {"id": "admin", "en": "admin"},
    "contact_penanggung_jawab": {"id": "penanggung jawab", "en": "person in charge"},
    # the roles (webhook.core.workflow.Role)
    "role_staff": {"id": "staf jaringan", "en": "network staff"},
    "role_coordinator": {"id": "koordinator jaringan", "en": "network coordinator"},
    "role_skpd_admin": {"id": "admin SKPD", "en": "SKPD admin"},
    # the SKPD's confirmation in the chat (SOP 3, webhook.core.confirmation)
    "skpd_question": {
        "id": "Apakah internet/intranet di kantor Anda terputus?",
        "en": "Is the internet/intranet at your office down?",
    },
    "answer_down": {"id": "Ya, terputus", "en": "Yes, it is down"},
    "answer_up": {"id": "Tidak", "en": "No"},
    "answer_slow": {"id": "Hanya lambat", "en": "Only slow"},
    "role_viewer": {"id": "pemantau", "en": "viewer"},
    "role_system": {"id": "sistem", "en": "system"},
    # Reports for Excel, the letterhead, F-04 as evidence (issue 24)
    "yes": {"id": "ya", "en": "yes"},
    "no": {"id": "tidak", "en": "no"},
    "hours_minutes": {"id": "jam:menit", "en": "hours:minutes"},
    "summary": {"id": "Ringkasan", "en": "Summary"},
    "incidents": {"id": "Insiden", "en": "Incidents"},
    "incidents_of_month": {"id": "Insiden bulan ini", "en": "Incidents of the month"},
    "xlsx_report": {"id": "Excel (.xlsx)", "en": "Excel (.xlsx)"},
    "csv_for_programs": {"id": "CSV untuk program", "en": "CSV for programs"},
    "outage_started_at": {"id": "Gangguan mulai", "en": "Outage started"},
    "outage_recovered_at": {"id": "Pulih", "en": "Recovered"},
    "not_recovered": {"id": "belum pulih", "en": "not recovered yet"},
    "outage_duration": {"id": "Lama gangguan", "en": "Outage duration"},
    "ping_check_result": {"id": "Hasil cek ping", "en": "Ping check result"},
    "ping_not_checked": {"id": "belum dicek", "en": "not checked"},
    "repair_photos": {"id": "Foto perbaikan", "en": "Repair photos"},
    "attach_photo": {"id": "Lampirkan foto", "en": "Attach a photo"},
    "photo_hint": {
        "id": "JPEG atau PNG, paling banyak {count} foto, masing-masing paling besar {size} MB. "
        "Lokasi GPS dihapus dari foto.",
        "en": "JPEG or PNG, at most {count} photos of at most {size} MB each. "
        "The GPS location is removed from the photo.",
    },
    "remove_photo": {"id": "Hapus foto", "en": "Remove photo"},
    "no_photos": {"id": "Belum ada foto", "en": "No photos yet"},
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
    "alertname": {"id": "Alarm", "en": "Alarm"},
    "nodes": {"id": "Node", "en": "Nodes"},
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
    "skpd": {"id": "SKPD", "en": "SKPD"},
    "starts_at": {"id": "Mulai", "en": "Start"},
    "ends_at": {"id": "Selesai", "en": "End"},
    "description": {"id": "Uraian", "en": "Description"},
    "answer": {"id": "Jawaban SKPD", "en": "SKPD's answer"},
    "skpd_answer": {"id": "Jawaban SKPD", "en": "SKPD's answer"},
    "confirmed_at": {"id": "Waktu konfirmasi", "en": "Confirmed at"},
}


def word(key: str, lang: str) -> str:
    entry = WORDS.get(key) or FIELDS.get(key)
    return entry.get(lang, entry["id"]) if entry else key
