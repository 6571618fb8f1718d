"""Registers routing's event handlers and periodic jobs with the runtime."""

from __future__ import annotations

from config.jobs import PeriodicJob
from config.wiring import Runtime, register_extension
from routing import jobs


@register_extension
def wire_routing(runtime: Runtime) -> None:
    runtime.on("MessageReceived", jobs.route_on_message)
    runtime.on("TicketResolved", jobs.release_on_resolve)
    runtime.on("RoutingEvent", jobs.on_routing_event)
    runtime.periodic.append(PeriodicJob(jobs.expire_offers, every_seconds=5))
    runtime.periodic.append(PeriodicJob(jobs.sweep_heartbeats, every_seconds=15))
    runtime.periodic.append(PeriodicJob(jobs.overflow_and_dispatch, every_seconds=30))
    runtime.periodic.append(PeriodicJob(jobs.sweep_new_tickets, every_seconds=10))
