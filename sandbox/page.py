"""The sandbox's page: what each API holds now, for people watching a demo or a test.

It opens with the people: who is out (their out-of-office events, whoever made them) and what
their Slack status says; then each API's own view, then the requests.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from sandbox.apis.google import wall_time

if TYPE_CHECKING:
    from sandbox.core import Sandbox

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 24px}header a{color:#9cc2ff}
nav{padding:8px 24px;background:#e9ecf2}nav a{margin-right:14px}
section{background:#fff;margin:16px 24px;padding:12px 18px;border-radius:8px;box-shadow:0 1px 2px #0002}
h2{margin:4px 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}
td,th{border-bottom:1px solid #e3e6ec;padding:4px 6px;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;font-size:12px;max-height:420px;overflow:auto}
.muted{color:#6b7385}
"""


def render_page(sandbox: Sandbox) -> str:
    with sandbox.lock:
        people = _people(sandbox)
        sections = [
            f'<section id="{api.name}"><h2>{html.escape(api.title)}</h2>{api.render()}</section>'
            for api in sandbox.apis.values()
        ]
        rows = "".join(
            f"<tr><td>{html.escape(r['at'])}</td><td>{r['api']}</td><td>{r['method']}</td>"
            f"<td>{html.escape(r['path'])}</td>"
            f"<td>{r['status']}{' · fault ' + r['fault'] if r.get('fault') else ''}</td></tr>"
            for r in reversed(sandbox.requests)
        )
    nav = "<a href='#people'>people</a>" + "".join(f'<a href="#{name}">{name}</a>' for name in sandbox.apis)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>ooo-pipelines sandbox</title>"
        "<meta http-equiv='refresh' content='10'>"
        f"<style>{_STYLE}</style></head><body>"
        f"<header><b>ooo-pipelines sandbox</b> · {html.escape(sandbox.team.company)} · "
        f"seeded around {sandbox.anchor} · <a href='/_sandbox/state'>state as JSON</a></header>"
        f"<nav>{nav}<a href='#requests'>requests</a></nav>{people}{''.join(sections)}"
        f"<section id='requests'><h2>Requests</h2>{_faults(sandbox)}<table><tr><th>at</th><th>api</th><th>method</th>"
        f"<th>path</th><th>status</th></tr>{rows}</table></section></body></html>"
    )


def _people(sandbox: Sandbox) -> str:
    """Each person's out-of-office events (links to the Google section) and Slack status."""
    google, slack = sandbox.apis.get("google"), sandbox.apis.get("slack")
    rows = []
    for person in sandbox.team.people:
        away = []
        for e in google.out_of_office(person.email) if google else []:
            start, end = (wall_time(e[side]) for side in ("start", "end"))
            repeats = " (repeats)" if e.get("recurrence") else ""
            away.append(f"<a href='#google-ooo-{html.escape(e['id'])}'>{html.escape(f'{start} to {end}')}</a>{repeats}")
        user_id = slack.user_id(person.email) if slack else None
        status = slack.status(user_id) if user_id else {}
        shown = f"{status.get('emoji', '')} {status.get('text', '')}".strip()
        rows.append(f"<tr><td>{html.escape(person.name)}</td><td>{html.escape(person.role)}</td>"
                    f"<td>{'<br>'.join(away)}</td><td>{html.escape(shown)}</td></tr>")
    return ("<section id='people'><h2>People</h2><table><tr><th>name</th><th>role</th><th>out of office "
            f"(Calendar)</th><th>Slack status</th></tr>{''.join(rows)}</table></section>")


def _faults(sandbox: Sandbox) -> str:
    """A line on the faults injected so far, when there were any."""
    injected = sandbox.fault_report()["injected"]
    if not injected:
        return ""
    parts = [f"{api}: " + ", ".join(f"{kind} {n}" for kind, n in kinds.items()) for api, kinds in injected.items()]
    return f"<p class='muted'>Faults injected: {html.escape('; '.join(parts))}</p>"
