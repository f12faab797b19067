"""core.keys: every Redis key the product writes, and its documentation table."""

from __future__ import annotations

import fnmatch

from core import keys


def test_every_key_has_the_prefix_is_distinct_and_is_documented() -> None:
    made = {
        "job": keys.job("<id>"),
        "job_results": keys.job_results("<id>"),
        "job_cancel": keys.job_cancel("<id>"),
        "job_alive": keys.job_alive("<id>"),
        "job_locks": keys.job_locks("<id>"),
        "job_objects": keys.job_objects("<id>"),
        "job_plan": keys.job_plan("<id>"),
        "job_items": keys.job_items("<id>"),
        "jobs_index": keys.jobs_index(),
        "lock": keys.lock("<server>", 7),
        "locks_pattern": keys.locks_pattern(),
        "search_result": keys.search_result("<id>"),
        "recent_searches": keys.recent_searches(),
        "inventory": keys.inventory("<server>", 7, "<discovered>"),
        "inventories_pattern": keys.inventories_pattern("<server>"),
    }
    public = {name for name in vars(keys) if callable(getattr(keys, name)) and not name.startswith("_")}
    assert public == set(made), "a key helper without a test line here"
    assert len(set(made.values())) == len(made)
    assert fnmatch.fnmatch(keys.lock("dc1", 42), keys.locks_pattern())
    assert fnmatch.fnmatch(
        keys.inventory("ab12", 42, "2026-12-01 04:00:00"), keys.inventories_pattern("ab12")
    )
    assert not fnmatch.fnmatch(keys.inventory("ab12", 42, "x"), keys.inventories_pattern("cd34"))
    for key in made.values():
        assert key.startswith(keys.PREFIX) and key.startswith("lnbi:")
        assert key.split("<")[0].rstrip(":7*") in keys.__doc__
    assert keys.lock("dc1", 42) == "lnbi:lock:dc1:42"


def test_the_table_says_stored_searches_are_json() -> None:
    (line,) = [line for line in keys.__doc__.splitlines() if line.startswith("| `lnbi:search:<id>`")]
    assert "string JSON" in line
    assert "pickle" not in keys.__doc__.replace("Nothing under either is a pickle", "")
    assert "JSON" in (keys.search_result.__doc__ or "")
