"""SIGAP probe exporter."""
