"""Registers crm's event handlers and periodic jobs with the runtime."""

from __future__ import annotations

from config.jobs import PeriodicJob
from config.wiring import Runtime, register_extension
from crm.alerts import alert_serious_accident
from crm.delivery import deliver_on_reply, retry_due_outbox


@register_extension
def wire_crm(runtime: Runtime) -> None:
    runtime.on("ReplyQueued", deliver_on_reply)
    runtime.on("SeriousAccidentSuspected", alert_serious_accident)
    runtime.periodic.append(PeriodicJob(retry_due_outbox, every_seconds=30))
