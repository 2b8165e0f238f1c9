"""The server-rendered web UI, by concern: `rendering` (templates, language), `login` (sessions,
CSRF, throttle), `incidents` (the board, an incident, its forms, the manual report), `users`,
`roster` (/piket) and `monthly` (/laporan). Works without JavaScript."""
