"""The procedure's steps: plain functions over a :class:`StepContext`, testable without Airflow.

Each step takes the context and returns its typed record (:mod:`ooo.records`) of what it did, with
the ids of what it created, so a cancelled absence can be undone. The record becomes the step's
XCom; later steps read it through :class:`ooo.records.Records`, where a missing record means
"nothing was done".

Layers inside: the helpers every step shares (:mod:`.context`, :mod:`.slack_posts`, :mod:`.mail`,
:mod:`.hubspot_log`, :mod:`.meetings`) import nothing from the steps; the steps (calendar, notices,
customer_notice, auto_reply, slack_status, sms_review, digest) import the helpers; undoing (cancel,
back_early) builds on the steps.
"""

from ooo.steps.context import StepContext

__all__ = ["StepContext"]
