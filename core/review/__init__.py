"""The review: validation rules, the one matcher for existing objects, per-field validators and a short
orchestrator, claims, the Review of a search and the one builder that makes it."""

from core.review.builder import build_review
from core.review.claims import Claim, NameClaim, ObjectClaim, claims_of
from core.review.differences import differences_of, planned_updates, polled_status
from core.review.kind import detect_kind
from core.review.matcher import Match, find_existing
from core.review.names import Options, device_name, name_too_long, possible_names
from core.review.resolve import find_location, resolve, resolve_device_type
from core.review.review import Review
from core.review.row import Choice, Difference, Issue, Overrides, Ref, Row, parse_update, update_text
from core.review.rules import INPUT_FIELDS, NO_PLATFORM_OS
from core.review.validate import status_of, validate_device

__all__ = [
    "INPUT_FIELDS",
    "NO_PLATFORM_OS",
    "Choice",
    "Claim",
    "Difference",
    "Issue",
    "Match",
    "NameClaim",
    "ObjectClaim",
    "Options",
    "Overrides",
    "Ref",
    "Review",
    "Row",
    "build_review",
    "claims_of",
    "detect_kind",
    "device_name",
    "differences_of",
    "find_existing",
    "find_location",
    "name_too_long",
    "parse_update",
    "planned_updates",
    "polled_status",
    "possible_names",
    "resolve",
    "resolve_device_type",
    "status_of",
    "update_text",
    "validate_device",
]
