"""Who is using the app: signing in with NetBox (a personal, expiring token, deleted at sign-out), with
one's own NetBox token, or through single sign-on (OIDC); who may do admin actions; and how an analyst's
token reaches the worker (sealed)."""

from core.auth.analyst import Analyst, local_user
from core.auth.rights import may_act_on, may_administer
from core.auth.sealed import SealError, actor_of, open_actor, seal, unseal
from core.auth.sessions import SessionTokens
from core.auth.signin import SignInRefused, netbox_admin, sign_in, sign_in_with_token, sign_out
from core.auth.sso import sso_analyst, username_of

__all__ = [
    "Analyst",
    "SealError",
    "SessionTokens",
    "SignInRefused",
    "actor_of",
    "local_user",
    "may_act_on",
    "may_administer",
    "netbox_admin",
    "open_actor",
    "seal",
    "sign_in",
    "sign_in_with_token",
    "sign_out",
    "sso_analyst",
    "unseal",
    "username_of",
]
