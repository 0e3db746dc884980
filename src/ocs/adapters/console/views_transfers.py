"""Credit transfers from the subscriber screen (seed 002 "Perform Credit Transfers"): the
operator picks one of the service provider's transfer definitions and the recipient's MSISDN
(empty: the subscriber itself), reviews what will be charged and what credited, chooses the
wallet types and enters the purchaser's PIN where the definition asks for one, then performs
the transfer. The result page shows both sides' new balances from the transfer's two EDRs.

The PIN is never written back into a page: a refused transfer shows the confirmation again
with the PIN field empty."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import Subscriber
from ocs.core.edr import Edr, EdrType
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege
from ocs.core.vouchers import TransferDefinition, VoucherType
from ocs.core.wallets import WalletType
from ocs.service.credit_transfers import TransferRequest

from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_subscriber_features import render_option
from .views_wallets import WALLET_TABS, visible_subscriber, wallet_of

router = APIRouter()

OPTION = "credit-transfers"
HEADING = "Credit transfer"
CHOOSE_FIELDS = ("definition", "recipient_msisdn")
CONFIRM_FIELDS = ("definition", "purchaser_wallet_type", "recipient_wallet_type", "pin")
# The voucher type's product type refusal is about the recipient's wallet. (A wallet state
# refusal can be either side's, so it stays above the form with its own wording.)
CONFIRM_ALIASES = {"product_type": "recipient_wallet_type"}
# Never echoed back into a page, nor kept in hidden fields between the steps.
NOT_ECHOED = ("pin", "csrf_token", "change_reason")


@dataclass(frozen=True)
class WalletLine:
    """One wallet of a side of the transfer, with the balances the transfer touches now."""

    wallet_type: WalletType
    reference: str
    product_type: str
    values: Mapping[str, int]


@dataclass(frozen=True)
class Side:
    subscriber: Subscriber
    wallets: list[WalletLine]

    @property
    def wallet_types(self) -> list[tuple[str, str]]:
        return [(w.wallet_type.value, w.wallet_type.value.capitalize()) for w in self.wallets]


@dataclass(frozen=True)
class Offer:
    """A transfer definition with the voucher type it applies, as the screens list it."""

    definition: TransferDefinition
    voucher_type: VoucherType | None

    @property
    def label(self) -> str:
        d = self.definition
        return f"{d.name} ({d.code}): {d.charge_amount} {d.charge_balance_type}"


@dataclass(frozen=True)
class Review:
    offer: Offer
    purchaser: Side
    recipient: Side


def kept(form: Form) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in NOT_ECHOED}


def _offers(page: Page, subscriber: Subscriber) -> list[Offer]:
    """The transfer definitions of the subscriber's service provider."""
    actor = page.operator
    types = {t.code: t for t in page.services.vouchers.list_types(actor)}
    return [
        Offer(d, types.get(d.voucher_type))
        for d in page.services.credit_transfers.list_definitions(actor)
        if d.service_provider == subscriber.service_provider
    ]


def _offer(offers: Sequence[Offer], code: str) -> Offer:
    for offer in offers:
        if offer.definition.code == code:
            return offer
    if not code:
        raise DomainError(ProblemKind.MISSING_FIELD, "choose a transfer definition", "definition")
    raise DomainError(
        ProblemKind.NOT_FOUND, f"credit transfer definition {code!r} does not exist", "definition"
    )


def _recipient(page: Page, purchaser: Subscriber, msisdn: str) -> Subscriber:
    """The subscriber with this MSISDN (subscriber ID) at the purchaser's service provider,
    as the transfer service finds it; the purchaser when none is given."""
    number = msisdn.strip()
    if not number:
        return purchaser
    found = page.services.casm.search_subscribers(
        page.operator, purchaser.service_provider, "subscriber_id", number, exact=True
    )
    if not found:
        raise DomainError(
            ProblemKind.NOT_FOUND, f"no subscriber has MSISDN {number!r}", "recipient_msisdn"
        )
    return found[0]


def _side(page: Page, subscriber: Subscriber, balance_types: Sequence[str]) -> Side:
    wallets = []
    for wallet_type in WALLET_TABS:
        view = wallet_of(page, subscriber.id, wallet_type)
        if view is not None:
            totals = {b.balance_type: b.total_value for b in view.balances}
            values = {code: totals.get(code, 0) for code in balance_types}
            wallets.append(
                WalletLine(wallet_type, view.wallet.reference, view.wallet.product_type, values)
            )
    return Side(subscriber, wallets)


def _review(page: Page, subscriber: Subscriber, form: Form) -> Review:
    offer = _offer(_offers(page, subscriber), form.get("definition", "").strip())
    recipient = _recipient(page, subscriber, form.get("recipient_msisdn", ""))
    credited = [] if offer.voucher_type is None else offer.voucher_type.balances
    purchaser_side = _side(page, subscriber, [offer.definition.charge_balance_type])
    if not purchaser_side.wallets:
        raise DomainError(
            ProblemKind.NOT_FOUND,
            f"subscriber {subscriber.subscriber_id} has no wallet to pay from",
            "definition",
        )
    recipient_side = _side(page, recipient, [b.balance_type for b in credited])
    if not recipient_side.wallets:
        raise DomainError(
            ProblemKind.NOT_FOUND,
            f"subscriber {recipient.subscriber_id} has no wallet to credit",
            "recipient_msisdn",
        )
    return Review(offer, purchaser_side, recipient_side)


def _choose_page(
    page: Page, subscriber_id: int, form: FormState, status_code: int = 200
) -> Response:
    subscriber = visible_subscriber(page, subscriber_id)
    offers = _offers(page, subscriber)
    return render_option(
        page,
        subscriber_id,
        "recharge/transfer_form.html",
        OPTION,
        HEADING,
        {"transfer": form},
        status_code,
        offers=offers,
        definition_options=[(o.definition.code, o.label) for o in offers],
    )


def _confirm_page(
    page: Page, subscriber_id: int, review: Review, form: FormState, status_code: int = 200
) -> Response:
    return render_option(
        page,
        subscriber_id,
        "recharge/transfer_confirm.html",
        OPTION,
        HEADING,
        {"confirm": form},
        status_code,
        review=review,
    )


@router.get("/subscribers/{subscriber_id}/credit-transfers")
def transfer_form(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _choose_page(page, subscriber_id, FormState())


@router.post("/subscribers/{subscriber_id}/credit-transfers/review")
def transfer_review(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    """What the transfer will charge and credit; nothing changes yet."""
    subscriber = visible_subscriber(page, subscriber_id)
    try:
        review = _review(page, subscriber, form)
    except DomainError as exc:
        state = page.refused(exc, kept(form), CHOOSE_FIELDS)
        return _choose_page(page, subscriber_id, state, state.status)
    values = {
        "definition": review.offer.definition.code,
        "recipient_msisdn": form.get("recipient_msisdn", "").strip(),
        "purchaser_wallet_type": review.purchaser.wallets[0].wallet_type.value,
        "recipient_wallet_type": review.recipient.wallets[0].wallet_type.value,
    }
    return _confirm_page(page, subscriber_id, review, FormState(values))


@router.post("/subscribers/{subscriber_id}/credit-transfers")
def transfer(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    subscriber = visible_subscriber(page, subscriber_id)
    try:
        review = _review(page, subscriber, form)
    except DomainError as exc:
        state = page.refused(exc, kept(form), CHOOSE_FIELDS)
        return _choose_page(page, subscriber_id, state, state.status)
    request = TransferRequest(
        purchaser_id=subscriber.id,
        definition=review.offer.definition.code,
        recipient_msisdn=form.get("recipient_msisdn", "").strip() or None,
        purchaser_wallet_type=form.get("purchaser_wallet_type", WalletType.PRIMARY.value),
        recipient_wallet_type=form.get("recipient_wallet_type", WalletType.PRIMARY.value),
        pin=form.get("pin") or None,
    )
    try:
        result = page.services.credit_transfers.perform(page.acting(form), request)
    except DomainError as exc:
        if exc.field == "recipient_msisdn":
            state = page.refused(exc, kept(form), CHOOSE_FIELDS)
            return _choose_page(page, subscriber_id, state, state.status)
        state = page.refused(exc, kept(form), CONFIRM_FIELDS, CONFIRM_ALIASES)
        return _confirm_page(page, subscriber_id, review, state, state.status)
    # Redirect so that reloading the result cannot perform the transfer twice.
    return page.redirect(
        f"/subscribers/{subscriber_id}/credit-transfers/result",
        purchaser_edr=result.purchaser_edr.id,
        recipient_edr=result.recipient.edr.id,
    )


def _transfer_edr(page: Page, edr_id: int, role: str) -> Edr:
    edr = page.services.edrs.get(page.operator, edr_id)
    if edr.type is not EdrType.CREDIT_TRANSFER or dict(edr.tags).get("ROLE") != role:
        raise not_found("credit transfer EDR", edr_id)
    return edr


@router.get("/subscribers/{subscriber_id}/credit-transfers/result")
def transfer_result(
    subscriber_id: int,
    purchaser_edr: int,
    recipient_edr: int,
    page: Page = Depends(operator_page),
) -> Response:
    """Both sides of a performed transfer: the purchaser's debit and the recipient's credit,
    each with the balances before and after."""
    visible_subscriber(page, subscriber_id)
    paid = _transfer_edr(page, purchaser_edr, "PURCHASER")
    credited = _transfer_edr(page, recipient_edr, "RECIPIENT")
    transfer_code = dict(paid.tags).get("TRANSFER")
    same_transfer = (
        dict(credited.tags).get("TRANSFER") == transfer_code
        and credited.at == paid.at
        and paid.detail.get("recipient") == credited.subscriber_id
    )
    if paid.subscriber_id != subscriber_id or not same_transfer:
        raise not_found("credit transfer EDR", recipient_edr)
    assert credited.subscriber_id is not None
    recipient = page.services.casm.get_subscriber(page.operator, credited.subscriber_id)
    return render_option(
        page,
        subscriber_id,
        "recharge/transfer_result.html",
        OPTION,
        HEADING,
        paid=paid,
        credited=credited,
        transfer_code=transfer_code,
        recipient=recipient.subscriber,
        may_transfer=page.can(Privilege.MODIFY),
    )
