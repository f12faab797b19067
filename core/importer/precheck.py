"""The permission pre-check of an import, asked of NetBox with the session's own token (the analyst's when
they signed in): what the plan adds and changes, which of that NetBox does not let them do, and how to say
so. The Import page asks before the button is pressed; the run asks again before it writes anything."""

from __future__ import annotations

import pynetbox

from core import netbox
from core.importer.plan import Plan
from core.settings import Settings


def missing_permissions(settings: Settings, plan: Plan, nb_api: pynetbox.api | None = None) -> list[str]:
    """Those of the plan's permissions ("add devices", "change IP addresses", …) NetBox refuses this
    session's token. Raises NetBoxError when NetBox cannot be asked."""
    needed = plan.permissions(primary_ip=settings.create_primary_ip)
    if not needed:
        return []
    return netbox.missing_permissions(nb_api or netbox.connect(settings), needed)


def refusal(settings: Settings, missing: list[str]) -> str:
    """What the missing permissions mean for the analyst, and who can change it."""
    who = settings.analyst or "the NetBox token's user"
    return (
        f"NetBox does not let {who} " + ", ".join(missing) + ". Nothing was imported: ask a NetBox admin to "
        f"grant these object permissions to {who}, then run the import again."
    )
