"""LibreNMS-provided text is shown as text: `ui.text.literal` against hostile strings; the Import page
(through app.py and AppTest, with an in-memory review: no NetBox, Redis or LibreNMS behind it) showing
hostile devices in its warnings, row details, issues, confirm dialog, progress box, results and background
search; and the Mappings page (an in-memory NetBox index and device list) showing hostile values, example
hostnames, suggested NetBox names, tooltips and its save report — never as a link, an image or markup.

No Markdown renderer runs here (Streamlit renders in the browser). `read()` resolves what CommonMark resolves
in escaped text (backslash escapes, numeric character references) and keeps apart what stays unescaped, where
markup alone could come from; the Streamlit-specific patterns are those of its 1.67 frontend
(StreamlitMarkdown): they are checked on the source and on the resolved text as the frontend checks them."""

from __future__ import annotations

import copy
import re
import socket
import string
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs, sources
from core.choices import JobMode, JobState
from core.health import ServiceState
from core.jobs import JobStatus
from core.librenms import DeviceFilter, LibreDevice
from core.mapping import load_mappings
from core.netbox import Obj
from core.review import Review, build_review
from core.search import SearchResult
from tests.conftest import DEMO_MAPPINGS, ROOT
from tests.helpers import RAW_DEVICES, demo_index, signed_in_app
from ui import context
from ui import review as ui_review
from ui.review import STATE, PageState
from ui.text import WORD_JOINER, literal

HOSTILE = [
    "[click](http://evil.example)",
    "![img](http://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "**bold**",
    "`code`",
    ":red[alert]",
    "$x^2$",
    ":material/warning:",
    ":material_warning:",
    ":streamlit:",
    ":smile: :+1: :-1: :100:",
    ":blue-badge[new] :small[x] :help[tip] ::leaf :::container",
    "$$\\int_0^1 x$$",
    "<http://evil.example> http://evil.example https://evil.example www.evil.example WWW.EVIL.EXAMPLE",
    "mail@evil.example mailto:mail@evil.example",
    "[ref]: http://evil.example",
    "[^1] [ ] [x]",
    "~~struck~~ ~one~",
    "| a | b |",
    "# heading",
    "> quote",
    "- item",
    "+ item",
    "* item",
    "1. item",
    "2) item",
    "---",
    "===",
    "__under__ _em_ snake_case_",
    "&lt;b&gt; &#58; &amp;",
    "\\*escaped\\* trailing\\",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "line one\n\n    indented code\n# heading\r\n> quote",
    "<!-- comment --> <script>alert(1)</script>",
    "javascript:alert(1)",
]
ESCAPABLE = frozenset(string.punctuation)  # CommonMark escapes ASCII punctuation, and only that
BLANK = "\0"  # in place of an escaped character in what `read` leaves unescaped
MARKUP = frozenset("\\`*[]<>&$:~|#@")  # characters that open or close markup wherever they stand

# Streamlit 1.67's frontend (StreamlitMarkdown): when it loads the emoji plugin, what it turns into icons
# and a logo in the rendered text, and the typographic replacements.
EMOJI_NEEDED = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:", re.ASCII)
ICONS = re.compile(r":material_(\w+):|:streamlit:", re.ASCII)
TYPOGRAPHY = re.compile(r"(?:^|\s)(?:<->|->|<-|--|>=|<=|~=)(?:\s|$)")


def read(source: str) -> tuple[str, str]:
    """(the text CommonMark shows for `source` when nothing in it is markup, the characters it leaves
    unescaped in place, escaped ones and references blanked): markup could only come from the second."""
    text, bare = [], []
    i = 0
    while i < len(source):
        ref = re.match(r"&#(\d+);", source[i:])
        if source[i] == "\\" and i + 1 < len(source) and source[i + 1] in ESCAPABLE:
            text.append(source[i + 1])
            bare.append(BLANK)
            i += 2
        elif ref:
            text.append(chr(int(ref[1])))
            bare.append(BLANK * len(ref[0]))
            i += len(ref[0])
        else:
            text.append(source[i])
            bare.append(source[i])
            i += 1
    return "".join(text), "".join(bare)


def inert(source: str) -> list[str]:
    """What in this Markdown source could render as anything but its text; [] when nothing."""
    text, bare = read(source)
    found = [f"unescaped {ch!r}" for ch in sorted(MARKUP & set(bare))]
    found += [
        f"a '_' that may flank, at {i}" for i, ch in enumerate(bare) if ch == "_" and not _inner(bare, i)
    ]
    if "www." in bare.casefold():
        found.append("a www. autolink")
    if re.match(r"\s*(?:[-+=]|\d{1,9}[.)](?:\s|$))", bare):
        found.append("a block marker at the start")
    if "\n" in source or "  " in source or source != source.strip():
        found.append("line breaks or runs of white space")
    if ":material/" in source:
        found.append(":material/ (Streamlit rewrites it to an icon)")
    if EMOJI_NEEDED.search(source):
        found.append("an emoji shortcode in the source (Streamlit loads its emoji plugin)")
    if "$" in re.sub(r"\\[\\$`]", "_", source):
        found.append("an unescaped $ (Streamlit loads KaTeX)")
    found += [f"{m[0]!r} becomes an icon" for m in ICONS.finditer(text)]
    found += [f"{m[0]!r} becomes an arrow" for m in TYPOGRAPHY.finditer(text)]
    return found


def _inner(bare: str, i: int) -> bool:
    """The `_` at `i` stands between two letters or digits as written: it neither opens nor closes emphasis."""
    return 0 < i < len(bare) - 1 and bare[i - 1].isalnum() and bare[i + 1].isalnum()


def shown(source: str) -> str:
    """The text a reader sees (the word joiners are invisible)."""
    return read(source)[0].replace(WORD_JOINER, "")


# ------------------------------------------------------------------ literal()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_escaped_and_reads_as_written(hostile: str) -> None:
    source = literal(hostile)
    assert inert(source) == [], source
    assert shown(source) == " ".join(hostile.split())


def test_the_briefs_examples_lose_their_links_images_html_and_markup() -> None:
    assert literal("[click](http://evil.example)") == "\\[click\\](http\\://evil.example)"
    assert literal("![img](http://evil.example/x.png)") == "!\\[img\\](http\\://evil.example/x.png)"
    assert literal("<img src=x onerror=alert(1)>") == "\\<img src=x onerror=alert(1)\\>"
    assert literal("**bold**") == "\\*\\*bold\\*\\*"
    assert literal("`code`") == "\\`code\\`"
    assert literal("$x^2$") == "\\$x^2\\$"
    assert literal(":red[alert]") == "\\:&#114;ed\\[alert\\]"  # no directive, no emoji shortcode
    assert literal(":material/warning:") == "\\:&#109;aterial/warning\\:"  # no :material/ to rewrite
    assert literal(":material_warning:") == f"\\:{WORD_JOINER}material_warning\\:"  # no icon in the text


@pytest.mark.parametrize("left", HOSTILE)
def test_escaped_text_stays_inert_next_to_the_pages_own_words(left: str) -> None:
    """What pages write around it (a colon, bold, a list dash, another value) forms nothing with it:
    no emoji shortcode in the source, no icon, logo or arrow in the text."""
    for right in (":streamlit:", "streamlit", "material_warning", "smile", ":smile", "->"):
        a, b = literal(left), literal(right)
        for source in (
            f"{a}: {b}",
            f"{a}:{b}",
            f"{b}:{a}",
            f"{a} {b}",
            f"**{a}** · 2 devices",
            f"- {a} → {b}",
        ):
            text = read(source)[0]
            assert not EMOJI_NEEDED.search(source) and ":material/" not in source, source
            assert not ICONS.search(text) and not TYPOGRAPHY.search(text), source


@pytest.mark.parametrize(
    "plain",
    [
        "acc-sw-f3-01.hq.example.net",
        "Branch Lyon - Rue de la République 42",
        "HQ Building 2, Floor 3, IDF-3B",
        "WS-C2960X-48FPD-L",
        "26.6.0",
        "no 'librenms_id' custom field",
        "東京オフィス 3F サーバー室",
        "Dell Inc. PowerEdge R650 (1.13.2)",
    ],
)
def test_ordinary_values_are_left_as_they_are(plain: str) -> None:
    assert literal(plain) == plain


def test_blocks_cannot_form_and_white_space_is_one_space() -> None:
    assert literal("  line one\n\n    indented\tcode\r\n# h  ") == "line one indented code \\# h"
    for marker in ("- x", "+ x", "* x", "1. x", "2) x", "> x", "# x", "---", "===", "~~~", "```"):
        assert inert(literal(marker)) == [], marker
    assert literal("1.5 GB") == "1.5 GB"  # not a list


def test_a_non_string_is_shown_as_its_text() -> None:
    assert literal(42) == "42"
    assert literal(None) == "None"


# ------------------------------------------------------------------ the Import page, no services behind it

NAME = "**bold** [click](javascript:alert(1)) <b>x</b> `code` :red[alert] $x^2$ :material/warning:"
EVIL = (
    "[click](http://evil.example) ![img](http://evil.example/x.png) <img src=x onerror=alert(1)> "
    "**bold** `code` :red[alert] $x^2$ :material/warning: :streamlit:"
)
FRAGMENTS = (  # markup of the hostile values; none may stand unescaped in a Markdown source
    "[click](",
    "![img](",
    "<img",
    "<b>",
    "**bold**",
    "`code`",
    ":red[",
    "$x^2$",
    ":material/",
    ":streamlit:",
    "http://",
    "javascript:",
)
MARKDOWN_VALUES = ("markdown", "caption", "error", "warning", "info", "success", "toast", "exception")


def markdown_sources(at: AppTest) -> list[str]:
    """Every string on the page that Streamlit renders as Markdown: texts, alerts, captions, toasts,
    progress texts, and the labels and tooltips of widgets, expanders and status boxes."""
    sources = []
    for node in at:
        if node.type in MARKDOWN_VALUES:
            sources.append(str(node.value))
        if node.type == "progress":
            sources.append(node.text)
        for attribute in ("label", "help"):
            with_value = getattr(node, attribute, None)
            if isinstance(with_value, str) and with_value:
                sources.append(with_value)
    return sources


def assert_shown_as_text(at: AppTest) -> list[str]:
    assert not at.exception, at.exception
    sources = markdown_sources(at)
    for source in sources:
        text, bare = read(source)
        assert not [f for f in FRAGMENTS if f in bare], source
        assert "](" not in bare and "<" not in bare and "$" not in bare, source  # (a page's own `code` is)
        assert not EMOJI_NEEDED.search(source) and ":material/" not in source, source
        assert not ICONS.search(text), source
    return sources


def closed_port() -> int:
    with socket.socket() as sock:  # a port nothing listens on: every service is refused at once
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, mapping_file) -> None:
    """Settings for a LibreNMS, NetBox and Redis that refuse connections; the LibreNMS locations of the
    filter (hostile too) and the sidebar's service states come from here, without the clients' retries."""
    port = closed_port()
    values = {
        "LIBRENMS_URL": f"http://127.0.0.1:{port}",
        "LIBRENMS_TOKEN": "offline-token",
        "NETBOX_URL": f"http://127.0.0.1:{port}",
        "NETBOX_TOKEN": "offline-token",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "MAPPING_FILE": str(mapping_file),
        "QUEUE_NAME": "lnbi-ui-text-tests",
    }
    monkeypatch.chdir(ROOT)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(ui_review, "locations", lambda server_key: [f"loc {EVIL}"])
    # app.py's sidebar (outside this test's subject) lists the services: said here, without asking them
    monkeypatch.setattr(context, "service_states", lambda: [ServiceState("LibreNMS", False, "offline")])


def hostile_review() -> Review:
    """Fixture devices given hostile LibreNMS text: esx01 (named NAME: too long a name, so it needs
    input), backup01 (hostile name, location, serial, hardware), web01 (a VM whose virtual hardware, quoted
    in its kind reason, is hostile: the one ready row) and core-sw01, whose inventory LibreNMS answered
    with hostile words (quoted in its stack issue)."""
    raw = {d["device_id"]: copy.deepcopy(d) for d in RAW_DEVICES}
    raw[111].update(sysName=NAME, hostname=NAME)
    raw[102].update(sysName=f"bk {NAME}", location=f"loc {EVIL}", serial=EVIL, hardware=f"hw {EVIL}")
    raw[201].update(parent_id=None, hardware=f"VMware Virtual Platform {EVIL}")
    devices = [LibreDevice.from_api(raw[i]) for i in (111, 102, 201, 12)]
    errors = {devices[-1].key: f"LibreNMS answered {EVIL}"}  # core-sw01's inventory: its stack is unknown
    return build_review(devices, demo_index(), load_mappings(DEMO_MAPPINGS), stack_errors=errors)


@pytest.fixture
def open_page(offline) -> Callable[..., AppTest]:
    def run(**page: object) -> AppTest:
        review = hostile_review()
        search = SearchResult(
            review, DeviceFilter(), "default", found=len(review), excluded_existing=0, warnings=[f"w {EVIL}"]
        )
        at = signed_in_app(30)  # its default page: Import
        at.session_state[STATE] = PageState(search=search, **page)
        at.run()
        assert not at.exception, at.exception
        return at

    return run


def job(monkeypatch: pytest.MonkeyPatch, status: JobStatus) -> None:
    monkeypatch.setattr(jobs, "job_status", lambda *args, **kwargs: status)


def device_choice(at: AppTest, device_id: int) -> AppTest:
    next(s for s in at.selectbox if s.label == "Device").set_value(("default", device_id)).run()
    return at


def test_the_review_shows_hostile_devices_as_text(open_page) -> None:
    at = open_page()
    sources = assert_shown_as_text(at)
    assert literal(f"w {EVIL}") in sources  # the search's warning, escaped
    (grid,) = [e for e in at.data_editor if e.key and e.key.startswith("grid-")]
    assert NAME in grid.value["name"].tolist()  # the grid: plain cells, as LibreNMS has it

    at = device_choice(at, 102)  # row details: its status, kind, issues
    assert_shown_as_text(at)
    details = next(d.value for d in at.dataframe if "field" in d.value.columns)
    assert f"loc {EVIL}" in details["value"].tolist()  # the details table: plain

    at = device_choice(at, 201)
    sources = assert_shown_as_text(at)
    assert any(literal(f"VMware Virtual Platform {EVIL}") in s for s in sources)  # the kind reason

    at = device_choice(at, 12)
    assert_shown_as_text(at)
    issues = [e.value for e in at.error]
    assert any(literal(f"LibreNMS answered {EVIL}") in i for i in issues), issues  # the stack issue


def test_the_confirm_dialog_shows_the_rows_as_text(open_page) -> None:
    at = open_page()
    next(b for b in at.button if b.label.startswith("Import 1 ready rows")).click().run()
    assert_shown_as_text(at)
    plan = next(d.value for d in at.dataframe if "object" in d.value.columns)
    assert list(plan["row"].unique()) == ["web01"]


def test_the_progress_box_shows_the_current_device_as_text(open_page, monkeypatch) -> None:
    running = JobStatus(
        "job-hostile", JobState.RUNNING, done=1, total=3, current=NAME, mode=JobMode.IN_PROCESS.value
    )
    job(monkeypatch, running)
    at = open_page(job_id=running.job_id, job_note=f"note {EVIL}")
    sources = assert_shown_as_text(at)
    assert literal(f"note {EVIL}") in sources
    assert any(s.label == "Importing… 1 / 3" for s in at.status)
    assert any(t.value.startswith(f"Now: {NAME} — created 0") for t in at.text)  # plain text


def test_the_results_show_the_error_and_rows_as_text(open_page, monkeypatch) -> None:
    results = [
        {"outcome": "failed", "name": NAME, "kind": "device", "message": EVIL, "extra": [EVIL], "url": ""}
    ]
    failed = JobStatus(
        "job-hostile", JobState.FAILED, done=3, total=3, error=f"{NAME} failed: {EVIL}", results=results
    )
    job(monkeypatch, failed)
    at = open_page(job_id=failed.job_id, refreshed_for=failed.job_id)
    sources = assert_shown_as_text(at)
    assert literal(f"{NAME} failed: {EVIL}") in sources
    table = next(d.value for d in at.dataframe if "outcome" in d.value.columns)
    assert table["name"].tolist() == [NAME] and table["message"].tolist() == [EVIL]  # plain cells


def test_a_background_search_shows_its_progress_as_text(open_page, monkeypatch) -> None:
    searching = JobStatus("search-hostile", JobState.RUNNING, done=40, total=100, current=f"Reading {NAME}")
    job(monkeypatch, searching)
    at = open_page(search_job_id=searching.job_id, search_note=f"note {EVIL}")
    sources = assert_shown_as_text(at)
    assert f"Searching in the background… {literal(f'Reading {NAME}')}" in [s.label for s in at.status]
    assert literal(f"note {EVIL}") in sources


def test_a_failed_background_search_says_why_as_text(open_page, monkeypatch) -> None:
    failed = JobStatus("search-hostile", JobState.FAILED, error=f"LibreNMS answered {EVIL}")
    job(monkeypatch, failed)
    at = open_page(search_job_id=failed.job_id)
    assert_shown_as_text(at)
    assert literal(f"LibreNMS answered {EVIL}") in [e.value for e in at.error]


# ------------------------------------------------------------------ the Mappings page, no services behind it

EVIL_SITE = "Lyon **bold** [click](http://evil.example) :red[x]"  # a NetBox site, suggested for a location


@pytest.fixture
def mappings_page(offline, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The Mappings page on an in-memory NetBox (the demo data and a hostile site) and LibreNMS devices
    with hostile locations, hardware and os, none of which a mapping matches."""
    index = demo_index()
    index.sites.add(Obj(9001, EVIL_SITE, "evil-lyon"))
    raw = [copy.deepcopy(d) for d in RAW_DEVICES if d["device_id"] in (102, 201)]
    raw[0].update(location=f"{EVIL_SITE}, floor 2", hardware=f"hw {EVIL}", os=f"os-{NAME}", hostname=NAME)
    raw[1].update(location=f"Lyon {EVIL}", hostname=f"h {EVIL}")
    devices = [LibreDevice.from_api(d) for d in raw]
    monkeypatch.setattr(sources, "reference_index", lambda settings: index)
    monkeypatch.setattr(sources, "all_devices", lambda settings: devices)
    at = signed_in_app(30)
    at.switch_page("pages/mappings.py").run()
    assert not at.exception, at.exception
    return at


def test_the_mappings_page_shows_unmatched_values_and_suggestions_as_text(mappings_page: AppTest) -> None:
    at = mappings_page
    sources_shown = assert_shown_as_text(at)
    assert f"**{literal(f'Lyon {EVIL}')}** · 1 device" in sources_shown  # the value, the page's own bold
    assert any(literal(f"h {EVIL}") in s for s in sources_shown)  # the example hostnames
    assert any(literal(f"hw {EVIL}") in s for s in sources_shown)
    mapped = [b for b in at.button if b.label == f"Map to {literal(EVIL_SITE)}"]
    assert mapped and all(b.help == literal(f"{EVIL_SITE} (evil-lyon)") for b in mapped), [
        (b.label, b.help) for b in at.button
    ]


def test_a_one_click_mapping_reports_the_hostile_value_as_text(mappings_page: AppTest) -> None:
    at = mappings_page
    next(b for b in at.button if b.label == f"Map to {literal(EVIL_SITE)}").click().run()
    assert_shown_as_text(at)
    (saved,) = [s.value for s in at.success if s.value.startswith("Saved")]
    assert f"- {literal(f"added '{EVIL_SITE}, floor 2' → evil-lyon")}" in saved.splitlines()
