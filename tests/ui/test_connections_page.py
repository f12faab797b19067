"""The Connections page: each service's state in words, and the offer to create a missing librenms_id field."""

from __future__ import annotations

import uuid

import pytest
from streamlit.testing.v1 import AppTest

from core import defaults
from tests.conftest import SIM_TOKEN
from tests.helpers import signed_in_app

PAGE = "pages/connections.py"


def open_connections() -> AppTest:
    at = signed_in_app(60)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_every_service_is_up_with_its_version_and_no_token_shows(env: dict, stack_env: dict) -> None:
    at = open_connections()
    text = " ".join(m.value for m in at.markdown)
    assert "🟢 LibreNMS** 26.6.0" in text and "🟢 NetBox** 4.7.3" in text and "🟢 Redis**" in text
    everything = text + " ".join(c.value for c in at.caption) + at.dataframe[0].value.to_string()
    assert SIM_TOKEN not in everything and stack_env["NETBOX_TOKEN"] not in everything


def test_netbox_down_is_red_with_the_reason(env: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETBOX_URL", "http://127.0.0.1:9")
    at = open_connections()
    assert "🔴 NetBox**" in " ".join(m.value for m in at.markdown)
    assert any("cannot be reached" in c.value for c in at.caption)


@pytest.fixture
def scratch_field(nb, monkeypatch: pytest.MonkeyPatch):
    """The page looks for a custom field nobody has yet (the shared librenms_id field stays untouched)."""
    name = f"librenms_id_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(defaults, "LIBRENMS_ID_FIELD", name)
    yield name
    for field in nb.extras.custom_fields.filter(name=name):
        field.delete()


def test_missing_field_is_explained_and_created_on_request(env: dict, nb, scratch_field: str) -> None:
    at = open_connections()
    assert any("no 'librenms_id' custom field" in c.value for c in at.caption)
    next(b for b in at.button if b.label.startswith("Create the librenms_id field")).click().run()
    assert not at.exception
    (created,) = nb.extras.custom_fields.filter(name=scratch_field)
    assert created.type.value == "integer"
    assert set(created.object_types) == {"dcim.device", "virtualization.virtualmachine"}
    assert "🟢 NetBox**" in " ".join(m.value for m in at.markdown)
