"""SIGAP webhook: Alertmanager notifications become SOP incidents."""
