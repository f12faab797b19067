"""Who may do what in the app (NetBox itself decides what each analyst may write). Admin actions (create the
librenms_id custom field, edit the mapping tables, act on another analyst's run) need a NetBox superuser or
a member of the ADMIN_GROUP group; a search or a run belongs to its analyst: others may look, not act."""

from __future__ import annotations

from core.auth.analyst import Analyst


def may_administer(analyst: Analyst | None) -> bool:
    return analyst is not None and analyst.is_admin


def may_act_on(analyst: Analyst | None, owner: str) -> bool:
    """Whether the analyst may cancel, resume or undo a run (or job) started by `owner` ("" for a run made
    without sign-in, from the command line or with AUTH=none: an admin's)."""
    if analyst is None:
        return False
    return analyst.is_admin or (bool(owner) and owner == analyst.username)
