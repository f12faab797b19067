"""Text from outside the app shown as text: a LibreNMS hostname, sysName, location, hardware, os or serial, a
NetBox name, an uploaded CSV's words, and every message that quotes them.

Almost everything Streamlit writes renders Markdown: st.markdown and st.write, st.caption, st.info / warning /
error / success, st.toast, st.status and st.progress texts, button, expander, tab and tooltip labels. Such text
goes through `literal()` there: the one escaping rule. Where no formatting is wanted, st.text and dataframe
cells show text as it is and need none of this (nor must they get it: they would show the backslashes).

What Streamlit 1.67 makes of a string (its frontend's StreamlitMarkdown), and how `literal` defeats each:

- CommonMark and GFM: links, images, autolinks (`<…>`, `http://…`, `www.…`, e-mail addresses), emphasis,
  code, strikethrough (`~` and `~~`), tables, footnotes, task lists, headings, quotes, lists, rules, raw HTML
  and character references. Every character that opens or closes one of them wherever it stands is
  backslash-escaped (ALWAYS); so is `_` unless it sits between two letters or digits as written (where it
  opens and closes nothing: `librenms_id` stays readable), the dot of `www.`, and a list marker that starts
  the text. Line breaks and runs of white space become one space: an inline value has no blocks (no
  indented code, no setext heading, no hard break).
- LaTeX between `$`: `$` is escaped, and Streamlit only loads KaTeX for an unescaped one.
- Directives (`:red[…]`, `:small[…]`, `:help[…]`, `:blue-badge[…]`, `::leaf`, `:::container`): `:` is escaped.
- Emoji shortcodes (`:smile:`): Streamlit converts them only when the source holds an unescaped `:name:`. A
  colon here is escaped and the character after it, when a name could start with it, is written as a
  numeric character reference (`\\:&#115;mile`): the source never holds `:name`, even when the caller's
  own text goes on with a colon, and it still reads `:smile`.
- `:material/icon:`: Streamlit rewrites every `:material/` of the source to `:material_`; after the
  character reference there is none. `:material_icon:` and `:streamlit:` become an icon and a logo in the
  rendered text itself, after escapes are resolved: an invisible WORD JOINER (U+2060) follows such a colon
  (and starts text that begins with such a name), so the pattern never forms. Only hostile text has these.
- Typographic arrows between spaces (` -> `, ` <- `, ` <-> `, ` -- `, ` >= `, ` <= `, ` ~= ` become → ← ↔ — ≥ ≤
  ≈): a WORD JOINER inside the pair keeps them as written.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"  # invisible, zero-width, not white space to Streamlit's (JavaScript) patterns
ALWAYS = frozenset("\\`*[]<>&$:~|#@")  # escaped wherever they stand
LEADING = frozenset("-+=")  # escaped at the start: list markers, a setext underline
NAME_START = re.compile(r"[A-Za-z0-9_+-]")  # what may follow the first colon of an emoji shortcode
_TYPOGRAPHY = re.compile(r"(?<!\S)(?:<->|->|<-|--|>=|<=|~=)(?!\S)")
_ICON_NAME = re.compile(r"(?<=:)(?=material_|streamlit)|^(?=material_|streamlit)")
_ORDERED = re.compile(r"\d{1,9}(?=[.)](?: |$))")  # "1. " or "1)" starting the text: an ordered list


def literal(text: object) -> str:
    """`text` for Streamlit's Markdown, so that it renders as exactly these characters and nothing else."""
    plain = " ".join(str(text).split())
    plain = _TYPOGRAPHY.sub(lambda m: m[0][0] + WORD_JOINER + m[0][1:], plain)
    plain = _ICON_NAME.sub(WORD_JOINER, plain)
    ordered = _ORDERED.match(plain)
    marker = ordered.end() if ordered else -1
    out: list[str] = []
    for i, ch in enumerate(plain):
        before = plain[i - 1] if i else ""
        after = plain[i + 1] if i + 1 < len(plain) else ""
        if before == ":" and NAME_START.fullmatch(ch):
            out.append(f"&#{ord(ch)};")
        elif (
            ch in ALWAYS
            or (ch == "_" and not (out and out[-1].isalnum() and after.isalnum()))
            or (ch == "." and plain[max(0, i - 3) : i].casefold() == "www")
            or (i == 0 and ch in LEADING)
            or i == marker
        ):
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)
