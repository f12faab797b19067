"""Benchmark: the Import page at scale. Prints figures; asserts nothing.

For each size N (LibreNMS simulator with N synthetic devices, the 'bench' NetBox with the demo data):
- in headless Chromium: time from pressing Search to the grid drawn and the app idle, and the app
  process's peak memory (resident) by then;
- with Streamlit's AppTest, the same page: the time of the rerun that applies one role edit made in the
  grid and redraws it (server side: re-validation + frame + editor), with all N rows in one grid and, when
  N is more than a page (core.defaults.GRID_PAGE_ROWS), with the page the Import page draws.

    .venv/bin/python bench/ui_grid.py [--sizes 1000 5000 20000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench import benchstack  # noqa: E402
from core import defaults  # noqa: E402
from devtools.appserver import serve_app  # noqa: E402
from devtools.librenms_sim import LibreNMSSimulator  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def peak_rss(port: str) -> int:
    """The peak resident memory (bytes) of the Streamlit process serving on `port`."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"streamlit" in cmdline and port.encode() in cmdline:
            status = (proc / "status").read_text()
            return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
    raise LookupError(f"no Streamlit process on port {port}")


def browser_search(url: str) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1200})
        page.goto(url)
        page.get_by_role("button", name="Search").wait_for()
        time.sleep(2)
        t0 = time.perf_counter()
        page.get_by_role("button", name="Search").click()
        page.get_by_text(re.compile(r"Found \d+ devices")).wait_for(timeout=300_000)
        page.locator("[data-testid='stDataFrameResizable'], [data-testid='stDataFrame']").first.wait_for()
        while page.locator('[data-testid="stStatusWidget"]').count():
            page.wait_for_timeout(50)
        seconds = time.perf_counter() - t0
        browser.close()
    return seconds


def apptest_edit(env: dict[str, str], page_rows: int) -> list[float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    defaults.GRID_PAGE_ROWS = page_rows
    os.environ.update(env)
    st.cache_resource.clear()  # settings and clients of the previous size point at another simulator
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    next(b for b in at.button if b.label.startswith("Search")).click().run()
    times = []
    for i, role in enumerate(["access-switch", "core-switch", "leaf", "spine", "router"]):
        editor = next(e for e in at.data_editor if e.key and e.key.startswith("grid-"))
        at.session_state[editor.key] = {
            "edited_rows": {i: {"role": role}},
            "added_rows": [],
            "deleted_rows": [],
        }
        t0 = time.perf_counter()
        at.run()  # applies the edit, re-validates the row, reruns to redraw the grid
        times.append(time.perf_counter() - t0)
    return times


def bench(size: int) -> None:
    stack_env = benchstack.fresh_netbox()
    with LibreNMSSimulator(tokens=["bench"], synthetic=size) as sim:
        app_env = {
            **stack_env,
            "LIBRENMS_URL": sim.url,
            "LIBRENMS_TOKEN": "bench",
            "QUEUE_NAME": "lnbi-bench-ui",
            "MAPPING_FILE": str(ROOT / "devtools" / "demo-mappings.yaml"),
            "AUTH": "none",  # one user on this machine: the page is measured, not the sign-in
        }
        with serve_app(app_env, timeout=120) as url:
            search_seconds = browser_search(url)
            memory = peak_rss(url.rsplit(":", 1)[1])
        page = defaults.GRID_PAGE_ROWS
        grids = {size: apptest_edit(app_env, size)}
        if size > page:
            grids[page] = apptest_edit(app_env, page)
        defaults.GRID_PAGE_ROWS = page
    print(f"\n== {size} devices")
    print(
        f"browser: Search pressed → grid drawn, app idle:   {search_seconds:6.2f} s (grid of {min(size, page)} rows)"
    )
    print(f"the app process's peak memory:                    {memory / 2**20:6.0f} MiB")
    for rows, times in grids.items():
        print(
            f"AppTest: rerun after one role edit, grid of {rows:>6} rows: median {statistics.median(times):.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} edits)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    for size in args.sizes:
        bench(size)
    benchstack.stop()


if __name__ == "__main__":
    main()
