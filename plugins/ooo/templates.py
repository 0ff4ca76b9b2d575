"""Every text a person reads: the templates in ``include/templates/``, rendered, and the helpers
that shape values for them (dates and times as people read them, user content made plain text).

Four kinds of template, told apart by their ending:

* ``*.html``: autoescaped HTML (note bodies and free text are user content);
* ``*.slack``: Slack mrkdwn; every value is escaped for Slack (``&``, ``<``, ``>``) unless it is a
  :class:`Mrkdwn` (a mention like ``<@U123>`` or a link the code built);
* ``*.md``: Markdown for the Airflow UI; every value has Markdown and HTML characters escaped;
* ``*.txt``: plain text, left as it is.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)

TEMPLATES_DIR = Path(os.environ.get("OOO_TEMPLATES_DIR")
                     or Path(__file__).resolve().parents[2] / "include" / "templates")


class Mrkdwn(str):
    """Text that is already Slack markup (a mention, a link): not escaped again."""


def slack_escape(value: Any) -> str:
    if isinstance(value, Mrkdwn):
        return value
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: What can turn text into markup inline: emphasis, code, links and images (all need ``[``), HTML,
#: headings, tables, strikethrough. Plain punctuation (``(``, ``-``, ``.``) stays readable.
_MARKDOWN_SPECIAL = "\\`*_[]<>#|~"


def markdown_escape(value: Any) -> str:
    text = "" if value is None else str(value)
    return "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)


def long_date(value: dt.date | dt.datetime | str) -> str:
    """``Tuesday, December 1, 2026``: how the procedure writes dates to people."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value:%A, %B} {value.day}, {value.year}"


def short_date(value: dt.date | dt.datetime | str) -> str:
    """``Tue Dec 1``."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value:%a %b} {value.day}"


def month_day(value: dt.date | dt.datetime | str) -> str:
    """``Dec 7``."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value:%b} {value.day}"


def day_range(start: dt.date, end: dt.date) -> str:
    """``Dec 7–11``, ``Nov 30–Dec 4``, ``Dec 7``; with the years when they differ (``Dec 28, 2026–Jan 4, 2027``)."""
    if start == end:
        return month_day(start)
    if start.year != end.year:
        return f"{month_day(start)}, {start.year}–{month_day(end)}, {end.year}"
    if start.month == end.month:
        return f"{month_day(start)}–{end.day}"
    return f"{month_day(start)}–{month_day(end)}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 meeting``, ``2 meetings``: a count that agrees with its noun."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def https_link(url: object) -> str | None:
    """``url`` if it is a plain https link; None for anything else (``javascript:``, ``http:``, markup), which is
    then shown as text: links built from what a vendor sent never run code or leave TLS."""
    if not isinstance(url, str):
        return None
    link = url.strip()
    if not link.lower().startswith("https://") or any(c.isspace() or c in '<>"\'|`' for c in link):
        return None
    return link


def local_time(value: dt.datetime | str, tz: str | None = None) -> str:
    """``Tue Dec 1, 4:05 PM MST`` in ``tz`` (the employee's zone)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if tz:
        from zoneinfo import ZoneInfo

        value = value.astimezone(ZoneInfo(tz))
    hour = value.hour % 12 or 12
    return f"{value:%a %b} {value.day}, {hour}:{value:%M %p %Z}".strip()


def clock(value: dt.datetime) -> str:
    """``12:00``: a local time as the roster writes it (the short forms ops read)."""
    return f"{value:%H:%M}"


def clock_with_zone(value: dt.datetime) -> str:
    """``12:00 PM MST``: a local time as people read it in a message."""
    return f"{value.hour % 12 or 12}:{value:%M %p %Z}".strip()


def day_count(days: float) -> str:
    """``5 days``, ``4½ days``, ``½ day``: an absence's length, half days counted as halves."""
    whole, half = int(days), days % 1 >= 0.5
    number = (str(whole) if whole else "") + ("½" if half else "") or "0"
    return f"{number} day{'' if days <= 1 else 's'}"


@dataclass(frozen=True)
class DaysOut:
    """An absence's days as people read them: whole days, or out from / back at the team's split time.

    Whole days read as they always have (``from Monday, December 7, 2026 to Friday, December 11,
    2026``, back ``Monday, December 14, 2026``), so a text that is compared again later (the
    auto-reply, the decline message) is the same for an absence filed before half days.
    """

    start: dt.date
    end: dt.date
    out_from: dt.datetime  # local: the split time on an afternoon off
    back_at: dt.datetime  # local: the split time on a last morning off
    return_day: dt.date
    afternoon: bool  # out from the split on the first day
    morning: bool  # back at the split on the last day

    @classmethod
    def of(cls, absence: Any, timeline: Any) -> DaysOut:
        """From an :class:`~ooo.absence.Absence` and its :class:`~ooo.timeline.Timeline`."""
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(timeline.timezone)
        return cls(start=absence.start, end=absence.end, out_from=timeline.out_from.astimezone(zone),
                   back_at=timeline.back_at.astimezone(zone), return_day=timeline.return_day,
                   afternoon=absence.starts_afternoon, morning=absence.ends_morning)

    @property
    def halves(self) -> bool:
        return self.afternoon or self.morning

    def span(self, through: str = "to") -> str:
        """``from <first day> to <last day>``, halves said: ``from 12:00 PM MST on Monday, December 7,
        2026 to the morning of Friday, December 11, 2026``; one half day: ``on the morning of ...``."""
        if self.start == self.end and self.morning:
            return f"on the morning of {long_date(self.start)} (until {clock_with_zone(self.back_at)})"
        if self.start == self.end and self.afternoon:
            return f"on the afternoon of {long_date(self.start)} (from {clock_with_zone(self.out_from)})"
        last = ("the morning of " if self.morning else "") + long_date(self.end)
        return f"from {self.first} {through} {last}"

    @property
    def first(self) -> str:
        """The first moment out: ``Monday, December 7, 2026``, or ``12:00 PM MST on Monday, ...``."""
        return (f"{clock_with_zone(self.out_from)} on " if self.afternoon else "") + long_date(self.start)

    @property
    def back(self) -> str:
        """The return: ``Monday, December 14, 2026``, or ``Friday, December 11, 2026 at 12:00 PM MST``."""
        if self.morning:
            return f"{long_date(self.return_day)} at {clock_with_zone(self.back_at)}"
        return long_date(self.return_day)

    @property
    def short_span(self) -> str:
        """``Mon Dec 7 – Fri Dec 11``; ``Mon Dec 7 from 12:00 – Fri Dec 11``; ``Mon Dec 7 morning``."""
        first = short_date(self.start) + (f" from {clock(self.out_from)}" if self.afternoon else "")
        if self.start == self.end and self.halves:
            return first if self.afternoon else f"{short_date(self.start)} morning"
        return f"{first} – {short_date(self.end)}{' morning' if self.morning else ''}"

    @property
    def short_back(self) -> str:
        """``Mon Dec 14``, or ``Fri Dec 11 at 12:00``."""
        return short_date(self.return_day) + (f" at {clock(self.back_at)}" if self.morning else "")


def days_out(absence: Any, timeline: Any) -> DaysOut:
    """:meth:`DaysOut.of`, as templates call it."""
    return DaysOut.of(absence, timeline)


def compiled_templates(kind: str, directory: str | None = None) -> BytecodeCache | None:
    """Where templates of ``kind`` are kept compiled for the next process: each task renders its texts
    and its run note afresh, and compiling a template costs it more than rendering it. Jinja's own
    place by default (a directory of this user's alone, under the system's temp directory), one file
    name pattern per kind (each compiles differently); a template changed since is compiled again.
    None when no such directory can be had: then every process compiles."""
    try:
        return FileSystemBytecodeCache(directory, pattern=f"__ooo_{kind}_%s.cache")
    except (OSError, RuntimeError):
        return None


def _environment(kind: str, finalize: Any = None, autoescape: Any = False) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        bytecode_cache=compiled_templates(kind),
        autoescape=autoescape,  # noqa: S701 - only HTML is autoescaped; the other kinds escape in finalize
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=finalize,
    )
    env.filters.update(long_date=long_date, short_date=short_date, local_time=local_time, month_day=month_day,
                       day_count=day_count, clock=clock)
    env.globals.update(counted=counted, day_range=day_range, days_out=days_out)
    return env


@cache
def _environments() -> dict[str, Environment]:
    return {
        "html": _environment("html", autoescape=select_autoescape(["html"], default=False)),
        "slack": _environment("slack", finalize=slack_escape),
        "md": _environment("md", finalize=markdown_escape),
        "txt": _environment("txt"),
    }


def render(name: str, **context: Any) -> str:
    """Render ``include/templates/<name>`` with ``context``; the ending picks the escaping."""
    kind = name.rsplit(".", 1)[-1]
    env = _environments().get(kind, _environments()["txt"])
    return env.get_template(name).render(**context).strip() + "\n"


def split_subject(text: str) -> tuple[str, str]:
    """A rendered template whose first line is ``Subject: ...``: the subject, and the body after
    the blank line (emails, calendar events: the subject stays in the template with its text)."""
    head, _, body = text.partition("\n\n")
    return head.removeprefix("Subject:").strip(), body.strip() + "\n"


# -- user content --------------------------------------------------------------------------------
class _Text(HTMLParser):
    """HTML -> text: tags dropped, <script>/<style> content dropped, blocks become lines."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(body: str | None) -> str:
    """``body`` (HTML or plain text) as plain text: markup and scripts removed, blank lines dropped."""
    parser = _Text()
    parser.feed(body or "")
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)
