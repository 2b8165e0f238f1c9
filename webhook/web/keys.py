"""Typed keys of the aiohttp application: what `create_app` puts in the app for handlers."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from exporter.clock import Clock
from exporter.inventory import Inventory
from webhook.services.delivery import Delivery
from webhook.services.leadership import Leadership
from webhook.services.metrics import WebhookMetrics
from webhook.services.pingcheck import PingChecker
from webhook.services.telegram import Telegram
from webhook.services.whatsapp import WhatsApp
from webhook.settings import Settings
from webhook.store.database import Database
from webhook.usecases.context import Resources

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
"""The time for every handler and background service of the app (tests pass their own)."""
DATABASE = web.AppKey("database", Database)
METRICS = web.AppKey("metrics", WebhookMetrics)
REGISTRY = web.AppKey("registry", CollectorRegistry)
"""The registry /metrics serves: each area registers its collectors on it."""
PING_CHECKER = web.AppKey("ping_checker", PingChecker)
INVENTORY = web.AppKey("inventory", Inventory)
"""Present only when an inventory is configured."""
DELIVERY = web.AppKey("delivery", Delivery)
"""The outbox's delivery worker (`.nudge()` it to look for owed notices now)."""
LEADERSHIP = web.AppKey("leadership", Leadership)
"""Whether this replica runs the background loops: `is_leader`, `await elected()`."""
RESOURCES = web.AppKey("resources", Resources)
"""What the use cases (`webhook.usecases`) run against: every handler calls them with it."""
TELEGRAM = web.AppKey("telegram", Telegram)
"""The installation's Telegram bot; present only when `SIGAP_TELEGRAM_BOT_TOKEN` is set."""
WHATSAPP = web.AppKey("whatsapp", WhatsApp)
"""WhatsApp's Cloud API; present only when `SIGAP_WHATSAPP_*` are set."""
