"""AppTest fixtures: the app run through app.py's navigation frame against the real test NetBox (demo
reference data), the LibreNMS simulator and a temporary copy of the demo mapping file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pynetbox
import pytest
import streamlit as st

from tests.conftest import DEMO_MAPPINGS, ROOT, SIM_TOKEN
from tests.helpers import Lab, running_lab


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Settings and clients are st.cache_resource, page loads st.cache_data: fresh for every test."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mappings.yaml"
    path.write_text(DEMO_MAPPINGS.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, stack_env, sim, reference_data, mapping_file: Path) -> dict:
    values = {
        "LIBRENMS_URL": sim.url,
        "LIBRENMS_TOKEN": SIM_TOKEN,
        "NETBOX_URL": stack_env["NETBOX_URL"],
        "NETBOX_TOKEN": stack_env["NETBOX_TOKEN"],
        "REDIS_URL": stack_env["REDIS_URL"],
        "MAPPING_FILE": str(mapping_file),
        "QUEUE_NAME": "lnbi-ui-tests",  # no worker listens: imports run in the app
    }
    monkeypatch.chdir(ROOT)  # no .streamlit/secrets.toml of a developer's checkout in the way
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture(scope="module")
def lab(reference_data, nb: pynetbox.api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """This module's own LibreNMS (the fixture devices renamed for it): what its tests import, no other
    module imports; what was made in NetBox for the lab's devices is deleted afterwards, nothing else."""
    with running_lab(tmp_path_factory.mktemp("ui-lab"), nb=nb) as lab:
        yield lab


@pytest.fixture
def lab_env(env: dict, lab: Lab, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The app's settings with the module's lab as LibreNMS and a queue of its own (no worker listens)."""
    values = {**lab.env(), "QUEUE_NAME": f"lnbi-ui-{lab.run}-queue"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**env, **values}
