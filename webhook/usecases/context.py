"""What an operation runs against, and who asks for it."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from exporter.clock import Clock, system_clock
from exporter.inventory import Inventory
from webhook.core.workflow import Role
from webhook.services.pingcheck import PingChecker
from webhook.services.silences import Silences
from webhook.settings import Settings
from webhook.store.database import Database
from webhook.store.models import User


@dataclass(frozen=True, slots=True)
class Resources:
    """The service's parts an operation may use; the CLI has no ping checker."""

    database: Database
    settings: Settings
    inventory: Inventory | None
    silences: Silences
    clock: Clock = system_clock
    ping_checker: PingChecker | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


@dataclass(frozen=True, slots=True)
class Actor:
    """The person an operation is made for: a logged-in user, a token's, a link's, or the
    operator at the server's shell (`operator`), who may do what a coordinator may."""

    name: str
    role: Role
    skpds: tuple[str, ...] | None
    """The SKPDs this person may see and act on; None for all."""

    @classmethod
    def of(cls, user: User) -> Actor:
        role = Role(user.role)
        return cls(user.name, role, tuple(user.skpds) if role is Role.SKPD_ADMIN else None)

    @classmethod
    def operator(cls, name: str = "cli") -> Actor:
        return cls(name, Role.COORDINATOR, None)

    def sees(self, skpd: str) -> bool:
        return self.skpds is None or skpd in self.skpds
