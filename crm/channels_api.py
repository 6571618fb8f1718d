"""HTTP routes for channel accounts (admins change; supervisors read their center's). Secrets are
write-only: no response carries one; ``inbound_token`` is in the creation response only."""

from __future__ import annotations

from fastapi import APIRouter, Response

from crm import channel_accounts as accounts
from crm.admin_schemas import ChannelCreate, ChannelCreated, ChannelPublic, ChannelUpdate, InboundToken
from crm.channel_access import access_account, visible_accounts
from crm.deps import AdminUser, CurrentUser, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/channels", tags=["channels"])


@router.get("", response_model=list[ChannelPublic])
def list_channels(
    session: SessionDep,
    runtime: RuntimeDep,
    user: CurrentUser,
    kind: str | None = None,
    center_id: int | None = None,
) -> list[ChannelPublic]:
    infos = visible_accounts(
        session, user, keys=runtime.settings.encryption_keys, kind=kind, center_id=center_id
    )
    return [ChannelPublic.from_info(i, runtime.settings.public_base_url) for i in infos]


@router.get("/{account_id}", response_model=ChannelPublic)
def get_channel(
    account_id: int, session: SessionDep, runtime: RuntimeDep, user: CurrentUser
) -> ChannelPublic:
    info = access_account(session, user, account_id=account_id, keys=runtime.settings.encryption_keys)
    return ChannelPublic.from_info(info, runtime.settings.public_base_url)


@router.post("", response_model=ChannelCreated, status_code=201)
def create_channel(
    body: ChannelCreate, session: SessionDep, runtime: RuntimeDep, user: AdminUser
) -> ChannelCreated:
    info, token = accounts.create_account(
        session, keys=runtime.settings.encryption_keys, actor_id=user.id, **body.model_dump()
    )
    public = ChannelPublic.from_info(info, runtime.settings.public_base_url)
    return ChannelCreated(**public.model_dump(), inbound_token=token)


@router.patch("/{account_id}", response_model=ChannelPublic)
def update_channel(
    account_id: int, body: ChannelUpdate, session: SessionDep, runtime: RuntimeDep, user: AdminUser
) -> ChannelPublic:
    info = accounts.update_account(
        session,
        account_id=account_id,
        keys=runtime.settings.encryption_keys,
        actor_id=user.id,
        **body.model_dump(exclude_unset=True),
    )
    return ChannelPublic.from_info(info, runtime.settings.public_base_url)


@router.post("/{account_id}/inbound-token", response_model=InboundToken)
def rotate_inbound_token(
    account_id: int, session: SessionDep, runtime: RuntimeDep, user: AdminUser
) -> InboundToken:
    """Replace an email/voice account's inbound token; the new one is shown this once."""
    token = accounts.rotate_inbound_token(
        session, account_id=account_id, keys=runtime.settings.encryption_keys, actor_id=user.id
    )
    return InboundToken(inbound_token=token)


@router.delete("/{account_id}", status_code=204)
def delete_channel(account_id: int, session: SessionDep, user: AdminUser) -> Response:
    """Delete an unused account (409 once consultations refer to it: disable it instead)."""
    accounts.delete_account(session, account_id=account_id, actor_id=user.id)
    return Response(status_code=204)
