"""core.cli.output: every configured secret is masked in what the commands print and log."""

from __future__ import annotations

import logging

import pytest

from core.cli.output import RedactingFilter, Redactor, err, out, redact
from core.settings import load_settings


def test_secrets_from_the_environment_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_API_TOKEN", "tok-1234567")
    monkeypatch.setenv("DB_PASSWORD", "pw-7654321")
    monkeypatch.setenv("SHORT_TOKEN", "abc")  # too short to mask: it would hide ordinary words
    masked = Redactor()("tok-1234567 pw-7654321 abc")
    assert masked == "******** ******** abc"


def test_secrets_from_the_settings_are_masked_longest_first(tmp_path) -> None:
    settings = load_settings(
        {
            "LIBRENMS_URL": "http://nms.example",
            "LIBRENMS_TOKEN": "secret-librenms",
            "NETBOX_URL": "http://nb.example",
            "NETBOX_TOKEN": "secret-librenms-and-more",
        },
        secrets_file=tmp_path / "none.toml",
    )
    redactor = Redactor()
    redactor.add(settings)
    assert redactor("a secret-librenms-and-more b secret-librenms") == "a ******** b ********"


def test_out_err_and_log_records_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    redact.secrets.add("s3cr3t-value")
    try:
        out("stdout s3cr3t-value")
        err("stderr s3cr3t-value")
        record = logging.LogRecord("core", logging.INFO, __file__, 1, "token %s", ("s3cr3t-value",), None)
        assert RedactingFilter().filter(record)
        assert record.getMessage() == "token ********"
    finally:
        redact.secrets.discard("s3cr3t-value")
    captured = capsys.readouterr()
    assert captured.out == "stdout ********\n" and captured.err == "stderr ********\n"
