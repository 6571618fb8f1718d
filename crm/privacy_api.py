"""Routes for a consumer's disclosure (開示請求) and erasure (利用停止・消去) requests; thin.

Access: a supervisor of a center handling the contact, or an admin (crm.disclosure explains the rule).
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Response
from pydantic import Field

from config.clock import today_jst
from crm import disclosure
from crm.deps import RuntimeDep, SessionDep, SupervisorUser
from crm.schemas import Strict

router = APIRouter(prefix="/api", tags=["privacy"])
ContactId = Path(ge=1, le=2**63 - 1, description="the contact's id")


class ErasureRequest(Strict):
    reason: str = Field(
        min_length=1,
        max_length=1000,
        description="why the data is erased, e.g. 本人からの利用停止・消去請求 (stored PII-masked)",
    )


@router.get(
    "/contacts/{contact_id}/disclosure",
    response_model=disclosure.Disclosure,
    responses={
        403: {"description": "not a supervisor of the handling center"},
        404: {"description": "no such contact"},
    },
)
def get_disclosure(
    session: SessionDep,
    user: SupervisorUser,
    response: Response,
    contact_id: int = ContactId,
    download: bool = Query(default=False, description="answer as a file to hand to the consumer"),
) -> disclosure.Disclosure:
    """Everything held about the contact (保有個人データの開示, 個人情報保護法 第33条); audited."""
    result = disclosure.disclose(session, contact_id=contact_id, user=user)
    response.headers["Cache-Control"] = "no-store"
    if download:
        filename = f"madoguchi-disclosure-contact-{contact_id}-{today_jst().isoformat()}.json"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return result


@router.post(
    "/contacts/{contact_id}/erasure",
    response_model=disclosure.ErasureResult,
    responses={
        403: {"description": "not allowed for this contact"},
        404: {"description": "no such contact"},
        409: {"description": "an open ticket, an un-notified 重大事故等 report or pending messages"},
    },
)
def post_erasure(
    body: ErasureRequest,
    session: SessionDep,
    user: SupervisorUser,
    runtime: RuntimeDep,
    contact_id: int = ContactId,
) -> disclosure.ErasureResult:
    """Erase the contact's identifying data, keep the tickets anonymized (第35条); idempotent, audited."""
    return disclosure.erase(
        session, contact_id=contact_id, user=user, reason=body.reason, data_dir=runtime.settings.data_dir
    )
