"""Several OS processes route, dispatch and accept on the same tickets and counselors at once
(PostgreSQL only: SQLite serializes writers). No ticket may be offered or assigned twice and no
counselor may exceed their capacity."""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest
from sqlmodel import Session, select

from config.runtime import Runtime
from routing import jobs, service, store
from routing.hammer import check_invariants, seed_world, worker
from routing.models import Offer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("MADOGUCHI_DATABASE_URL", "").startswith("postgresql"),
        reason="needs MADOGUCHI_DATABASE_URL=postgresql+psycopg://... (SQLite serializes writers anyway)",
    ),
]


@pytest.mark.parametrize("mode", ["mixed", "batch"])
def test_four_processes_never_double_assign_or_overfill(
    runtime: Runtime, session: Session, mode: str
) -> None:
    center_id = seed_world(session, counselors=40, tickets=300, capacity=3)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(runtime.settings.database_url, center_id, seed, 60.0, mode, out))
        for seed in range(4)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    session.expire_all()
    inv = check_invariants(session)
    assert inv["double_assignments"] == 0
    assert inv["capacity_violations"] == 0
    assert inv["assigned"] == 40 * 3  # every seat filled, none twice
    assert sum(r.get("accepted", 0) for r in results) == 120
    assert all(r.get("offers", 0) + r.get("accepted", 0) > 0 for r in results)  # all four took part


def test_one_dispatcher_per_center_while_other_centers_dispatch(runtime: Runtime, session: Session) -> None:
    """The advisory lock: a second process skips a center being dispatched (and the job retries
    shortly), while another center dispatches in parallel; capacity is still respected after."""
    a = seed_world(session, counselors=2, tickets=3, capacity=1, code="center-a")
    b = seed_world(session, counselors=2, tickets=3, capacity=1, code="center-b")
    settings = runtime.settings
    with Session(runtime.engine) as holder:
        assert store.try_lock_center(holder, a)
        with Session(runtime.engine) as other:
            assert service.dispatch_center(other, center_id=a, settings=settings) == []
            assert len(service.dispatch_center(other, center_id=b, settings=settings)) == 2
            other.commit()
        jobs.dispatch(a)  # busy: nothing now, a retry is scheduled
        session.expire_all()
        assert session.exec(select(Offer).where(Offer.center_id == a)).all() == []
        holder.rollback()
    runtime.jobs.run_delayed_now()
    runtime.jobs.drain()
    session.expire_all()
    assert len(session.exec(select(Offer).where(Offer.center_id == a)).all()) == 2
    inv = check_invariants(session)
    assert inv["double_assignments"] == 0 and inv["capacity_violations"] == 0
