"""The absence step's wait, as it reads its moment from the run's plan."""

from __future__ import annotations

import dataclasses

from ooo.operators import AbsenceStep
from ooo.procedure import Step
from ooo.steps.slack_status import slack_status_on
from ooo.timeline import plan_timeline


def test_a_step_added_after_the_run_was_planned_skips_instead_of_failing(make_absence, team):
    # A run planned by a release without slack_status_on (design §8): its plan has no such moment.
    absence = make_absence(start="2026-12-07", end="2026-12-11")
    timeline = plan_timeline(absence, team, absence.requested_at)
    older = dataclasses.replace(timeline, moments={k: v for k, v in timeline.moments.items()
                                                   if k not in (Step.SLACK_STATUS_ON, Step.SLACK_STATUS_OFF)})
    step = AbsenceStep(task_id=Step.SLACK_STATUS_ON, action=slack_status_on)

    assert step._due(timeline) == (timeline[Step.SLACK_STATUS_ON].at, None)
    at, skip = step._due(older)
    assert skip == "not in this absence's plan: it was planned before slack_status_on existed"
