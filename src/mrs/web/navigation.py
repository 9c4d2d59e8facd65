"""The site navigation: one list, so later pages (registration, approvals, sessions,
monitoring) slot in by adding an item here."""

from __future__ import annotations

from dataclasses import dataclass

from mrs.accounts.sessions import AuthenticatedUser
from mrs.web.i18n import N_


@dataclass(frozen=True)
class NavItem:
    label: str  # an English msgid, translated in the template
    href: str
    admin_only: bool = False
    # For administrators and room managers (who decide on bookings in approval rooms).
    approver_only: bool = False


MAIN_NAV: tuple[NavItem, ...] = (
    NavItem(N_("Rooms"), "/rooms"),
    NavItem(N_("Timeline"), "/timeline"),
    NavItem(N_("Find a room"), "/search"),
    NavItem(N_("My week"), "/my/week"),
    NavItem(N_("My reservations"), "/reservations"),
    NavItem(N_("Mail and reminders"), "/account/mail"),
    NavItem(N_("Calendar subscription"), "/account/calendar"),
    NavItem(N_("Delegates"), "/account/delegates"),
    NavItem(N_("My sessions"), "/account/sessions"),
    NavItem(N_("Change password"), "/account/password"),
)
ADMIN_NAV: tuple[NavItem, ...] = (
    NavItem(N_("Manage rooms"), "/admin/rooms", admin_only=True),
    NavItem(N_("Equipment"), "/admin/equipment", admin_only=True),
    NavItem(N_("Closure days"), "/admin/closure-days", admin_only=True),
    NavItem(N_("Registrations"), "/admin/registrations", admin_only=True),
    NavItem(N_("Approvals"), "/admin/approvals", approver_only=True),
    NavItem(N_("Users"), "/admin/users", admin_only=True),
    NavItem(N_("Groups"), "/admin/groups", admin_only=True),
    NavItem(N_("Quotas"), "/admin/quotas", admin_only=True),
    NavItem(N_("Mail"), "/admin/mail", admin_only=True),
    NavItem(N_("Reports"), "/admin/reports", admin_only=True),
    NavItem(N_("Audit log"), "/admin/audit", admin_only=True),
    # Served by the monitoring package; only linked from here.
    NavItem(N_("Monitoring"), "/admin/monitoring", admin_only=True),
)


def nav_for(user: AuthenticatedUser | None, *, approver: bool = False) -> list[NavItem]:
    """The links a visitor sees: none before login, admin links only for admins, the
    approvals link for admins and room managers (`approver`)."""
    if user is None:
        return []
    return [
        item
        for item in (*MAIN_NAV, *ADMIN_NAV)
        if (not item.admin_only or user.is_admin)
        and (not item.approver_only or user.is_admin or approver)
    ]
