"""A "next release" of dags/, plugins/ and include/, made from a copy of the checkout by text edits.

What a release may change while absences are in flight (README, "Releasing while absences are in
flight"), one of each:

* a template: the team notice's last line and the digest's subject read differently;
* a step inserted between two existing ones: ``support_heads_up``, between ``team_notice`` and
  ``buddy_handover``, tells the support channel who covers the absent person (one Slack post, keyed
  like every other, and a record). It waits for the team notice's moment, which every plan has, old
  or new; in a run that was past its place when the release came (the buddy already told) it posts
  nothing and says so;
* a field added to the plan, read with a default: ``support_channel``, where the heads-up goes as the
  roster said when the absence was planned; a plan from before the release lacks it and the roster's
  support channel now stands in;
* a retry setting: ``return_digest`` retries 5 times;
* the version: 0.2.0, which a run's plan (``code``) and its ``validate`` log name.

Each edit names the text it replaces and fails when that text is not found exactly once, so a change
in the checkout that the release no longer fits breaks the test loudly instead of releasing nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from devstack.stack import ROOT

VERSION = "0.2.0"
NEW_STEP = "support_heads_up"
#: The team notice's new last line, and the digest's new subject: what shows that a text was released.
NOTICE_LINE = "Questions while I'm out? Ask"
DIGEST_SUBJECT = "your catch-up for"
DIGEST_RETRIES = 5
#: The folders a release replaces (the roster and the settings stay the deployment's).
RELEASED = ("dags", "plugins", "include")


def copy_checkout(code: Path) -> Path:
    """The checkout's dags/, plugins/ and include/ in ``code``: the release the runs are filed under."""
    for folder in RELEASED:
        shutil.copytree(ROOT / folder, code / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return code


def next_release(staging: Path) -> Path:
    """The checkout's code with this module's changes, in ``staging`` (to be swapped in whole)."""
    copy_checkout(staging)
    for relative, edits in EDITS.items():
        path = staging / relative
        text = path.read_text()
        for old, new in edits:
            assert text.count(old) == 1, f"the next release no longer fits {relative}: {old!r}"
            text = text.replace(old, new)
        path.write_text(text)
    for relative, text in NEW_FILES.items():
        assert not (staging / relative).exists(), f"{relative} exists already in the checkout"
        (staging / relative).write_text(text)
    return staging


def swap_in(release: Path, code: Path) -> None:
    """Replace the deployed folders with the release's, each in one rename, as a deployment swaps a
    checkout or an image: a process never reads half of one release and half of the other file by file."""
    for folder in RELEASED:
        old = code / f".{folder}.previous"
        (code / folder).rename(old)
        (release / folder).rename(code / folder)
        shutil.rmtree(old)


EDITS: dict[str, list[tuple[str, str]]] = {
    "plugins/ooo/release.py": [('__version__ = "0.1.0"', f'__version__ = "{VERSION}"')],
    "plugins/ooo/procedure.py": [
        ('    TEAM_NOTICE = "team_notice"\n',
         f'    TEAM_NOTICE = "team_notice"\n    SUPPORT_HEADS_UP = "{NEW_STEP}"\n'),
        ('    Step.TEAM_NOTICE: "post the team notice",\n',
         '    Step.TEAM_NOTICE: "post the team notice",\n    Step.SUPPORT_HEADS_UP: "tell support who covers",\n'),
    ],
    "plugins/ooo/keys.py": [
        ('    TEAM_NOTICE = "ooo_team_notice"\n',
         '    TEAM_NOTICE = "ooo_team_notice"\n    SUPPORT_HEADS_UP = "ooo_support_heads_up"\n'),
    ],
    "plugins/ooo/records.py": [
        ("    Step.TEAM_NOTICE: TeamNotice,\n",
         "    Step.TEAM_NOTICE: TeamNotice,\n    Step.SUPPORT_HEADS_UP: SlackPost,\n"),
        ("    team_notice: TeamNotice | None = None\n",
         "    team_notice: TeamNotice | None = None\n    support_heads_up: SlackPost | None = None\n"),
    ],
    "plugins/ooo/plan.py": [
        ('    approver_why: str = ""  # why it is not the manager ("Allison Reed is out")\n',
         '    approver_why: str = ""  # why it is not the manager ("Allison Reed is out")\n'
         '    support_channel: str = ""  # where support hears of it (0.2.0; older plans: the roster\'s now)\n'),
        ('"code": self.code, "warnings": list(self.warnings)}\n',
         '"code": self.code, "warnings": list(self.warnings)}\n'
         '        if self.support_channel:\n'
         '            out["support_channel"] = self.support_channel\n'),
        ('            approver_why=str(raw.get("approver_why") or ""),\n',
         '            approver_why=str(raw.get("approver_why") or ""),\n'
         '            support_channel=str(raw.get("support_channel") or ""),\n'),
    ],
    "plugins/ooo/validate.py": [
        ("code=code_version(), approver=approver,\n                approver_why=approver_why)",
         "code=code_version(), approver=approver,\n                approver_why=approver_why, "
         'support_channel=team.channels["support"])'),
    ],
    "plugins/ooo/steps/context.py": [
        ("    review: Review | None = None  # the day an ``sms_review`` instance reviews\n",
         "    review: Review | None = None  # the day an ``sms_review`` instance reviews\n"
         '    support_channel: str = ""  # the plan\'s (0.2.0); "": the roster\'s\n'),
    ],
    "plugins/ooo/run.py": [
        ("review=review, log=logger, try_number=self.try_number)",
         "review=review, log=logger, try_number=self.try_number,\n"
         "                           support_channel=plan.support_channel)"),
    ],
    "dags/ooo_absence.py": [
        ("from ooo.steps.sms_review import sms_review\n",
         "from ooo.steps.sms_review import sms_review\nfrom ooo.steps.support import support_heads_up\n"),
        ("    handover = AbsenceStep(task_id=Step.BUDDY_HANDOVER, action=buddy_handover)\n",
         "    heads_up = AbsenceStep(task_id=Step.SUPPORT_HEADS_UP, action=support_heads_up, moment=Step.TEAM_NOTICE)\n"
         "    handover = AbsenceStep(task_id=Step.BUDDY_HANDOVER, action=buddy_handover)\n"),
        ("    digest = AbsenceStep(task_id=Step.RETURN_DIGEST, action=return_digest)\n",
         f"    digest = AbsenceStep(task_id=Step.RETURN_DIGEST, action=return_digest, retries={DIGEST_RETRIES})\n"),
        ("notice >> customers >> handover >>", "notice >> customers >> heads_up >> handover >>"),
    ],
    "include/templates/team_notice.slack": [
        ("Posted for {{ employee }} by ooo-pipelines._", NOTICE_LINE + " {{ buddy }}._"),
    ],
    "include/templates/digest_subject.txt": [
        ("what happened while you were out (", DIGEST_SUBJECT + " "),
        ("{{ absence.end | short_date }})", "{{ absence.end | short_date }}"),
    ],
}

NEW_FILES: dict[str, str] = {
    "plugins/ooo/steps/support.py": '''"""Support hears who covers an absent person (0.2.0): one post in its channel."""

from __future__ import annotations

from ooo.keys import SlackEvent
from ooo.records import SlackPost
from ooo.steps.context import StepContext
from ooo.steps.slack_posts import mention, post_once
from ooo.templates import render


def support_heads_up(ctx: StepContext) -> SlackPost:
    """Tell support, at the team notice's moment, who covers; not in a run whose buddy was told before 0.2.0."""
    if ctx.records.buddy_handover is not None:
        ctx.log.info("The buddy was told before this step was released: no heads-up this late")
        return SlackPost(skipped="released after this absence's notices went out")
    slack = ctx.services.slack
    channel = slack.channel_id(ctx.support_channel or ctx.team.channels["support"])
    text = render("support_heads_up.slack", absence=ctx.absence, return_day=ctx.timeline.return_day,
                  employee=mention(ctx, ctx.absence.employee), buddy=mention(ctx, ctx.absence.buddy))
    return post_once(ctx, channel, SlackEvent.SUPPORT_HEADS_UP, text, "support heads-up")
''',
    "include/templates/support_heads_up.slack": '''{# 0.2.0: support hears who covers an absent person. #}
:telephone_receiver: *Heads-up: {{ employee }} is out from {{ absence.start | long_date }}*
{{ buddy }} covers their clients until {{ return_day | long_date }}; texts to their JustCall number are reviewed daily.
''',
}
