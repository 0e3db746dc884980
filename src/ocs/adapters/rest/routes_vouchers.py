"""Vouchers and credit transfers: voucher types, batches, voucher lookup and states, voucher
recharges, the failed-recharge blacklist, credit transfer definitions and transfers.

Voucher secrets appear in exactly one response: the batch creation. PINs and secrets are
request fields only and never part of a response or a problem detail.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ocs.core.vouchers import TransferDefinition, Voucher, VoucherBalanceInput, VoucherType
from ocs.service.actor import Actor
from ocs.service.credit_transfers import (
    CreditTransferService,
    TransferDefinitionInput,
    TransferRequest,
    TransferResult,
)
from ocs.service.vouchers import (
    BatchCreated,
    BatchInput,
    BatchView,
    BlacklistView,
    RechargeRequest,
    RechargeResult,
    VoucherService,
    VoucherTypeInput,
)

from .auth import current_actor


class Body(BaseModel):
    # Lax only so that ISO date-time strings parse; every other field is declared strict.
    model_config = ConfigDict(extra="forbid", strict=False)


class VoucherBalanceBody(Body):
    balance_type: StrictStr
    value: StrictInt = Field(description="Minor units of the balance type's unit, > 0")
    expiry: StrictStr = Field("NONE", description="NONE, VALIDITY or EXTEND")
    validity_days: StrictInt | None = Field(None, description="Required with VALIDITY/EXTEND")


class VoucherTypeBody(Body):
    code: StrictStr
    name: StrictStr
    service_provider: StrictStr
    balances: list[VoucherBalanceBody]
    description: StrictStr | None = None
    wallet_expiry_extension_days: StrictInt | None = None
    product_type_swap: StrictStr | None = None
    allowed_product_types: list[StrictStr] = Field(
        default_factory=list, description="Empty: every product type"
    )


class BatchBody(Body):
    voucher_type: StrictStr
    size: StrictInt = Field(description="Number of vouchers to generate")
    expires_at: datetime
    description: StrictStr | None = None


class StateBody(Body):
    state: StrictStr


class RechargeBody(Body):
    voucher_number: StrictStr
    secret: StrictStr
    subscriber_id: StrictInt | None = None
    msisdn: StrictStr | None = None
    serial_number: StrictStr | None = Field(None, description="Required when blacklisted")
    wallet_type: StrictStr = "PRIMARY"


class DefinitionBody(Body):
    code: StrictStr
    name: StrictStr
    transfer_type: StrictStr = Field(description="PEER_TO_PEER or SERVICE_BUNDLE")
    service_provider: StrictStr
    charge_balance_type: StrictStr
    charge_amount: StrictInt
    voucher_type: StrictStr
    pin_required: StrictBool = False
    allowed_product_types: list[StrictStr] = Field(default_factory=list)
    description: StrictStr | None = None


class TransferBody(Body):
    purchaser_id: StrictInt
    definition: StrictStr
    recipient_msisdn: StrictStr | None = Field(None, description="Blank: the purchaser")
    purchaser_wallet_type: StrictStr = "PRIMARY"
    recipient_wallet_type: StrictStr = "PRIMARY"
    pin: StrictStr | None = None


def _vouchers(request: Request) -> VoucherService:
    return request.app.state.services.vouchers  # type: ignore[no-any-return]


def _transfers(request: Request) -> CreditTransferService:
    return request.app.state.services.credit_transfers  # type: ignore[no-any-return]


def _type_input(body: VoucherTypeBody) -> VoucherTypeInput:
    balances = [VoucherBalanceInput(**b.model_dump()) for b in body.balances]
    return VoucherTypeInput(**{**body.model_dump(exclude={"balances"}), "balances": balances})


router = APIRouter(tags=["vouchers"])


# -- voucher types ----------------------------------------------------------------------------


@router.get("/voucher-types")
def list_voucher_types(
    request: Request, actor: Actor = Depends(current_actor)
) -> list[VoucherType]:
    return _vouchers(request).list_types(actor)


@router.post("/voucher-types", status_code=201)
def create_voucher_type(
    request: Request, body: VoucherTypeBody, actor: Actor = Depends(current_actor)
) -> VoucherType:
    return _vouchers(request).create_type(actor, _type_input(body))


@router.get("/voucher-types/{code}")
def get_voucher_type(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> VoucherType:
    return _vouchers(request).get_type(actor, code)


@router.put("/voucher-types/{code}", summary="Replace a voucher type (code and provider fixed)")
def update_voucher_type(
    request: Request, code: str, body: VoucherTypeBody, actor: Actor = Depends(current_actor)
) -> VoucherType:
    return _vouchers(request).update_type(actor, code, _type_input(body))


@router.delete("/voucher-types/{code}", status_code=204)
def delete_voucher_type(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> Response:
    _vouchers(request).delete_type(actor, code)
    return Response(status_code=204)


# -- batches and vouchers ---------------------------------------------------------------------


@router.post(
    "/voucher-batches",
    status_code=201,
    summary="Generate a batch of vouchers: the only response that carries their secrets",
)
def create_batch(
    request: Request, body: BatchBody, actor: Actor = Depends(current_actor)
) -> BatchCreated:
    return _vouchers(request).create_batch(actor, BatchInput(**body.model_dump()))


@router.get("/voucher-batches")
def list_batches(
    request: Request, voucher_type: str | None = None, actor: Actor = Depends(current_actor)
) -> list[BatchView]:
    return _vouchers(request).list_batches(actor, voucher_type)


@router.get("/voucher-batches/{batch_id}")
def get_batch(request: Request, batch_id: int, actor: Actor = Depends(current_actor)) -> BatchView:
    return _vouchers(request).get_batch(actor, batch_id)


@router.post("/voucher-batches/{batch_id}/state", summary="Activate or freeze a batch")
def change_batch_state(
    request: Request, batch_id: int, body: StateBody, actor: Actor = Depends(current_actor)
) -> BatchView:
    return _vouchers(request).change_batch_state(actor, batch_id, body.state)


@router.get("/vouchers/{number}", summary="Look a voucher up (never shows its secret)")
def get_voucher(request: Request, number: str, actor: Actor = Depends(current_actor)) -> Voucher:
    return _vouchers(request).get_voucher(actor, number)


@router.post("/vouchers/{number}/state", summary="Freeze a voucher or make it AVAILABLE again")
def change_voucher_state(
    request: Request, number: str, body: StateBody, actor: Actor = Depends(current_actor)
) -> Voucher:
    return _vouchers(request).change_voucher_state(actor, number, body.state)


@router.post("/voucher-recharges", status_code=201, summary="Recharge a wallet with a voucher")
def recharge(
    request: Request, body: RechargeBody, actor: Actor = Depends(current_actor)
) -> RechargeResult:
    return _vouchers(request).recharge(actor, RechargeRequest(**body.model_dump()))


@router.get("/subscribers/{subscriber_id}/voucher-blacklist")
def get_blacklist(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> BlacklistView:
    return _vouchers(request).blacklist(actor, subscriber_id)


@router.delete(
    "/subscribers/{subscriber_id}/voucher-blacklist",
    summary="Take the subscriber off the blacklist and reset the failure count",
)
def clear_blacklist(
    request: Request, subscriber_id: int, actor: Actor = Depends(current_actor)
) -> BlacklistView:
    return _vouchers(request).clear_blacklist(actor, subscriber_id)


# -- credit transfers -------------------------------------------------------------------------


def _definition_input(body: DefinitionBody) -> TransferDefinitionInput:
    return TransferDefinitionInput(**body.model_dump())


@router.get("/credit-transfer-definitions", tags=["credit transfers"])
def list_definitions(
    request: Request, actor: Actor = Depends(current_actor)
) -> list[TransferDefinition]:
    return _transfers(request).list_definitions(actor)


@router.post("/credit-transfer-definitions", status_code=201, tags=["credit transfers"])
def create_definition(
    request: Request, body: DefinitionBody, actor: Actor = Depends(current_actor)
) -> TransferDefinition:
    return _transfers(request).create_definition(actor, _definition_input(body))


@router.get("/credit-transfer-definitions/{code}", tags=["credit transfers"])
def get_definition(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> TransferDefinition:
    return _transfers(request).get_definition(actor, code)


@router.put("/credit-transfer-definitions/{code}", tags=["credit transfers"])
def update_definition(
    request: Request, code: str, body: DefinitionBody, actor: Actor = Depends(current_actor)
) -> TransferDefinition:
    return _transfers(request).update_definition(actor, code, _definition_input(body))


@router.delete("/credit-transfer-definitions/{code}", status_code=204, tags=["credit transfers"])
def delete_definition(
    request: Request, code: str, actor: Actor = Depends(current_actor)
) -> Response:
    _transfers(request).delete_definition(actor, code)
    return Response(status_code=204)


@router.post(
    "/credit-transfers",
    status_code=201,
    tags=["credit transfers"],
    summary="Perform a credit transfer: debit the purchaser, credit the recipient",
)
def perform_transfer(
    request: Request, body: TransferBody, actor: Actor = Depends(current_actor)
) -> TransferResult:
    return _transfers(request).perform(actor, TransferRequest(**body.model_dump()))
