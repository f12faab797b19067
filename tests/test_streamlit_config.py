"""The production settings Streamlit runs the app with, wherever it starts from the repository (the demo,
the image, the tests): read back from Streamlit itself, as `streamlit run` would load them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

EXPECTED = {
    "showErrorDetails": '"none"',  # no error details or traceback in the browser
    "toolbarMode": '"viewer"',  # no Deploy, Rerun, Clear cache
    "disableDataExport": "true",  # no grid CSV download bypassing the export's formula escaping
    "enableXsrfProtection": "true",
    "maxUploadSize": "25",
    "gatherUsageStats": "false",
}


def test_streamlit_runs_the_app_with_the_production_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    shown = subprocess.run(
        [sys.executable, "-m", "streamlit", "config", "show"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    found = dict(re.findall(r"^(\w+) = (.+)$", shown, flags=re.MULTILINE))
    assert {name: found.get(name) for name in EXPECTED} == EXPECTED
