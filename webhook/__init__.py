"""SIGAP webhook: Alertmanager notifications become SOP incidents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sigap")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
