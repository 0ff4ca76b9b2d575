"""The run note: what ops read in the runs list, from the plan and the steps' records."""

from __future__ import annotations

import pendulum

from ooo.absence import parse_absence
from ooo.plan import Plan
from ooo.records import ApprovalAnswer, Records
from ooo.run_note import NOTE_MAX_CHARS, approval_state, run_note
from ooo.timeline import plan_timeline

NOW = pendulum.datetime(2026, 11, 23, 16, 0, tz="UTC")
MAYA = {"employee": "maya.patel@yellowstonelocal.com", "start_date": "2026-12-07", "end_date": "2026-12-11",
        "kind": "planned", "reachable": False}


def planned(team, **params):
    absence = parse_absence({**MAYA, **params}, team, NOW, filed_by="hr-integration")
    return absence, plan_timeline(absence, team, NOW)


def answer(**given) -> ApprovalAnswer:
    return ApprovalAnswer.from_dict(given)


def test_the_approval_as_ops_read_it(team):
    absence, timeline = planned(team)
    plan = Plan(absence, timeline)
    assert approval_state(plan, None, waiting=True) == "waiting for Allison Reed until Mon Dec 7, 12:00 AM MST"
    by_login = {"id": "7", "name": "allison.reed@yellowstonelocal.com"}  # FAB: a numeric id, the login as name
    approved = answer(chosen_options=["Approve"], responded_by_user=by_login)
    assert approval_state(plan, approved, team=team) == "approved by Allison Reed"  # the roster name, not a login
    rejected = answer(chosen_options=["Reject"], params_input={"reason": "Busy week"}, responded_by_user=by_login)
    assert approval_state(plan, rejected, team=team) == "rejected by Allison Reed: Busy week"
    unanswered = answer(chosen_options=["Reject"], params_input={"reason": ""}, responded_by_user=None, timedout=True)
    assert approval_state(plan, unanswered) == "not approved: no answer from Allison Reed by the start"
    recorded, _ = planned(team, approved_by="allison.reed@yellowstonelocal.com")
    assert approval_state(Plan(recorded, timeline), None) == "approved by Allison Reed (recorded when filed)"
    sick, _ = planned(team, kind="unexpected")
    assert approval_state(Plan(sick, timeline), None) == "not needed (unexpected absence)"
    deputy = Plan(absence, timeline, approver=team.person("casey.morgan@yellowstonelocal.com"),
                  approver_why="Allison Reed is out until 2026-12-04")
    assert approval_state(deputy, None, waiting=True) == (
        "waiting for Casey Morgan (Allison Reed is out until 2026-12-04, so their deputy answers) until "
        "Mon Dec 7, 12:00 AM MST")


def test_the_first_line_says_where_the_absence_stands(team):
    from ooo.plan import Change

    absence, timeline = planned(team)
    plan = Plan(absence, timeline)
    first = lambda *args, **kw: run_note(*args, **kw, team=team).splitlines()[0]  # noqa: E731
    assert first(plan, None, Records(), waiting=True) == \
        "**Maya Patel · Dec 7–11 · waiting for Allison Reed's approval until Dec 7**"
    allison = {"id": "7", "name": "allison.reed@yellowstonelocal.com"}
    approved = answer(chosen_options=["Approve"], responded_by_user=allison)
    assert first(plan, approved, Records()) == "**Maya Patel · Dec 7–11 · approved · team told Dec 4**"
    notice = Records.from_xcoms({"team_notice": {"ts": "1.2"}})
    assert first(plan, approved, notice) == "**Maya Patel · Dec 7–11 · announced · auto-reply on Dec 7**"
    out = Records.from_xcoms({"team_notice": {"ts": "1.2"}, "auto_reply_on": {"enabled": True}})
    assert first(plan, approved, out) == "**Maya Patel · Dec 7–11 · out · back Dec 14**"
    done = Records.from_xcoms({"auto_reply_off": {"verified": True}, "return_digest": {"message_id": "<m>"}})
    assert first(plan, approved, done) == "**Maya Patel · Dec 7–11 · back Dec 14 · digest sent**"
    rejected = answer(chosen_options=["Reject"], responded_by_user=allison)
    assert first(plan, rejected, Records()) == "**Maya Patel · Dec 7–11 · rejected by Allison Reed**"
    cancelled = plan.with_change(Change("cancelled by ops on Tue Dec 1", by="ops", at="2026-12-01T18:00:00+00:00",
                                        kind="cancelled"))
    assert first(cancelled, approved, notice) == "**Maya Patel · Dec 7–11 · cancelled by ops on Dec 1**"


def test_the_note_says_who_when_buddy_and_what_was_done(team):
    absence, timeline = planned(team)
    records = Records.from_xcoms({"calendar_cleanup": {"ooo_event_id": "x", "declined": [{}, {}],
                                                       "reschedule_emails": [{}]},
                                  "team_notice": {"ts": "1.2"}, "auto_reply_on": {"enabled": True}},
                                 [{"day": "2026-12-07", "raised": [{}, {}]}])
    approved = answer(chosen_options=["Approve"], responded_by_user={"id": "a", "name": "Allison Reed"})
    note = run_note(Plan(absence, timeline), approved, records).replace("\\", "")
    assert ("Maya Patel (planned) out Mon Dec 7 – Fri Dec 11, back Mon Dec 14 · buddy Jordan Reyes · filed by "
            "hr-integration") in note
    assert "Approval: approved by Allison Reed" in note
    assert ("Done: out-of-office block, 2 meetings declined, 1 reschedule note · team notice · auto-reply on · "
            "SMS reviews 1/6 (2 texts raised)") in note

    told = {"told": [{"address": "a@x.example", "company_ids": ["1"]}, {"address": "b@x.example",
                                                                        "company_ids": ["1", "2"]}],
            "cc": {"ts": "3.4"}}
    with_customers = Records.from_xcoms({"team_notice": {"ts": "1.2"}, "customer_notice": told,
                                         "buddy_handover": {"ts": "1.3"}})
    note = run_note(Plan(absence, timeline), approved, with_customers)
    assert "Done: team notice · customers told: 2 contacts at 2 companies · CC told · buddy handover" in note
    nobody = Records.from_xcoms({"customer_notice": {"skipped": "the roster has no team.customer_notice"}})
    assert "Done: nothing yet" in run_note(Plan(absence, timeline), approved, nobody)


def test_the_note_says_what_became_of_the_slack_status(team):
    absence, timeline = planned(team)
    ours = {"text": "Out of office", "emoji": ":palm_tree:"}

    def done(**records) -> str:
        note = run_note(Plan(absence, timeline), None, Records.from_xcoms(records))
        return next(line for line in note.splitlines() if line.startswith("Done:"))

    assert done(slack_status_on={"skipped": "no ooo_slack_user connection"}) == "Done: nothing yet"
    assert done(slack_status_on={"status": ours}) == "Done: Slack status set"
    assert done(slack_status_on={"status": ours}, slack_status_off={"put_back": True}) == \
        "Done: Slack status set · Slack status back as before"
    assert done(slack_status_on={"status": ours}, slack_status_off={"changed_meanwhile": True, "left_alone": "x"}) \
        == "Done: Slack status set · Slack status left as they changed it"
    assert done(slack_status_on={"skipped": "x"}, slack_status_off={"skipped": "x"}) == "Done: nothing yet"


def test_a_long_note_is_cut_to_what_airflow_keeps(team):
    absence, timeline = planned(team, note="")
    warnings = [f"warning {i}: " + "x" * 80 for i in range(20)]
    note = run_note(Plan(absence, timeline, warnings=tuple(warnings)), None, Records(), waiting=True)
    assert len(note) == NOTE_MAX_CHARS and note.endswith("…")


def test_what_people_typed_cannot_become_markup_in_the_note(team):
    absence, timeline = planned(team)
    typed = "[urgent](https://evil.example) <img src=x onerror=alert(1)> **now** `rm`"
    rejected = answer(chosen_options=["Reject"], params_input={"reason": typed},
                      responded_by_user={"id": "a", "name": "Allison Reed"})
    note = run_note(Plan(absence, timeline), rejected, Records())
    assert "\\[urgent\\](https://evil.example) \\<img src=x onerror=alert(1)\\> \\*\\*now\\*\\* \\`rm\\`" in note
    assert "back Mon Dec 14 ·" in note  # plain punctuation stays as it is
