"""The composition root: the one place that builds engines, Redis, jobs, live events, the channel
adapter registry and the table of event → handlers.

The API process (``app.py``), the RQ worker and the CLIs call :func:`build_runtime`; jobs reach the
result through the one accessor :func:`config.runtime.get_runtime`. Nothing connects at import
time, and no package imports this module (tests/unit/test_import_graph.py checks it): dependencies
point ``config, crm.messaging ← crm ← {channels, routing, knowledge} ← bootstrap ← app``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from channels.email.imap import poll_job as poll_email_imap
from channels.jobs import sweep as sweep_inbound
from channels.registry import AdapterRegistry, adapter_factories
from channels.voice.jobs import follow_call
from config.jobs import InProcessJobs, Jobs, PeriodicJob, RQJobs
from config.live import LocalBroadcaster, RedisBroadcaster
from config.runtime import EventHandler, Runtime, get_runtime
from config.runtime import set_runtime as _install_runtime
from config.settings import Settings
from crm import events
from crm.accident_checks import escalate_stale_checks_job, set_possible_detector
from crm.accident_escalation import escalate_overdue_job
from crm.alerts import alert_overdue_accident, alert_serious_accident, alert_stale_check
from crm.backlog import backlog_counts
from crm.claim_port import set_claimer
from crm.db import make_engine
from crm.delivery import deliver_on_reply, retry_due_outbox
from crm.intake import set_accident_detector
from crm.knowledge_port import set_knowledge_port
from crm.retention import retention_job
from knowledge.accident import detect_check_needed, detect_serious_accident
from knowledge.privacy import KnowledgePrivacy
from knowledge.self_help import self_help_job
from knowledge.wiring import embed_pending_job, index_resolved_ticket_job
from routing import jobs as routing_jobs
from routing.claim import claim_for_reply

__all__ = ["HANDLERS", "Runtime", "build_runtime", "get_runtime", "set_runtime"]

log = logging.getLogger(__name__)

# Which jobs run when an event commits. Keys are the event classes, so a misspelt event or handler
# fails at import (start-up), not silently at run time.
HANDLERS: dict[type[events.DomainEvent], tuple[EventHandler, ...]] = {
    events.ReplyQueued: (deliver_on_reply,),
    events.SeriousAccidentSuspected: (alert_serious_accident,),
    events.AccidentNotificationOverdue: (alert_overdue_accident,),
    events.AccidentCheckOverdue: (alert_stale_check,),
    events.MessageReceived: (routing_jobs.route_on_message,),
    events.TicketResolved: (routing_jobs.release_on_resolve, index_resolved_ticket_job),
    events.CallEnded: (routing_jobs.on_call_ended,),  # a caller who hung up while waiting leaves the queue
    events.RoutingEvent: (
        routing_jobs.on_routing_event,
        follow_call,
        self_help_job,
    ),  # follow_call: a voice ticket's call
}

PERIODIC: tuple[tuple[Callable[[], Any], float], ...] = (
    (retry_due_outbox, 30),
    (sweep_inbound, 5),  # with a 2 s grace: work a Redis outage lost resumes within 10 s (test_faults)
    (routing_jobs.expire_offers, 5),
    (routing_jobs.end_wrap_ups, 5),  # after-call work over: available again (routing.acd)
    (routing_jobs.sweep_heartbeats, 15),
    (routing_jobs.overflow_and_dispatch, 30),
    (routing_jobs.sweep_new_tickets, 10),
    (poll_email_imap, 60),  # email accounts with IMAP settings (channels/email/imap.py)
    (escalate_overdue_job, 60),  # 重大事故等 drafts not notified in time (crm.accident_escalation)
    (escalate_stale_checks_job, 60),  # 要確認 nobody judged in time (crm.accident_checks)
    (embed_pending_job, 2),  # vectors for hybrid search, in the background (knowledge.wiring)
    (retention_job, 3600),  # APPI retention (crm.retention): purges what is due today in JST
)


def build_runtime(settings: Settings) -> Runtime:
    """Build (but do not start) everything the process needs, and make it the current runtime."""
    engine = make_engine(settings.database_url, durable=settings.env != "test")
    redis = None
    jobs: Jobs
    live: LocalBroadcaster
    if settings.redis_url:
        from redis import Redis

        redis = Redis.from_url(settings.redis_url)
        jobs = RQJobs(redis, settings.queue_name)
        live = RedisBroadcaster(redis)
    else:
        jobs = InProcessJobs()
        live = LocalBroadcaster()
    runtime = Runtime(settings=settings, engine=engine, jobs=jobs, live=live, redis=redis)
    runtime.handlers = {kind: list(handlers) for kind, handlers in HANDLERS.items()}
    runtime.periodic = [PeriodicJob(fn, every_seconds=every) for fn, every in PERIODIC]
    runtime.backlog_counts = lambda: backlog_counts(engine)
    set_accident_detector(detect_serious_accident)
    set_possible_detector(detect_check_needed)
    set_knowledge_port(KnowledgePrivacy())
    set_claimer(claim_for_reply)
    runtime.adapters = AdapterRegistry(engine, settings, factories=adapter_factories(settings, redis))
    ensure_env_accounts_safely(runtime)
    set_runtime(runtime)
    return runtime


def ensure_env_accounts_safely(runtime: Runtime) -> None:
    """The ``MADOGUCHI_LINE_*`` shortcut: create or update its account (skipped before migrations)."""
    from crm.channel_accounts import ensure_env_accounts

    try:
        ensure_env_accounts(runtime.engine, runtime.settings)
    except Exception as exc:  # no tables yet (before `madoguchi migrate`): the webhook answers 404
        log.warning("could not create the MADOGUCHI_LINE_* channel account: %s", exc)


def set_runtime(runtime: Runtime | None) -> None:
    """Install ``runtime`` for this process: jobs find it, committed events go through it."""
    _install_runtime(runtime)
    events.set_dispatcher(runtime.dispatch if runtime is not None else None)
