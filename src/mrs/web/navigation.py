"""The site navigation: one list, so later pages (registration, approvals, sessions,
monitoring) slot in by adding an item here."""

from __future__ import annotations

from dataclasses import dataclass

from mrs.accounts.service import AuthenticatedUser
from mrs.web.i18n import N_


@dataclass(frozen=True)
class NavItem:
    label: str  # an English msgid, translated in the template
    href: str
    admin_only: bool = False


MAIN_NAV: tuple[NavItem, ...] = (
    NavItem(N_("Rooms"), "/rooms"),
    NavItem(N_("My reservations"), "/reservations"),
)
ADMIN_NAV: tuple[NavItem, ...] = (NavItem(N_("Manage rooms"), "/admin/rooms", admin_only=True),)


def nav_for(user: AuthenticatedUser | None) -> list[NavItem]:
    """The links a visitor sees: none before login, admin links only for admins."""
    if user is None:
        return []
    return [item for item in (*MAIN_NAV, *ADMIN_NAV) if not item.admin_only or user.is_admin]
