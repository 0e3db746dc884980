"""Merge wallets, reached from the subscriber's Wallets option: the subscriber on screen is
the target; the operator names the source subscriber, the wallet types and the expiry and
bucket policies, reviews both wallets side by side, then confirms the merge."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.casm import Subscriber
from ocs.core.errors import DomainError, ProblemKind, invalid
from ocs.core.wallets import BucketPolicy, ExpiryPolicy, WalletType
from ocs.service.wallets import MergeRequest

from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_subscriber_features import render_option
from .views_wallets import visible_subscriber, wallet_of

router = APIRouter()

MERGE_FIELDS = (
    "source_subscriber",
    "source_wallet_type",
    "target_wallet_type",
    "expiry_policy",
    "bucket_policy",
)
# The service names the subscribers by their internal ids; the form names the source by CLI.
MERGE_ALIASES = {
    "source_subscriber_id": "source_subscriber",
    "target_subscriber_id": "source_subscriber",
}
WALLET_TYPES: tuple[Option, ...] = (
    (WalletType.PRIMARY.value, "Primary"),
    (WalletType.SECONDARY.value, "Secondary"),
)
EXPIRY_POLICIES: tuple[Option, ...] = (
    (ExpiryPolicy.BEST.value, "Best: the target wallet takes the later expiry date"),
    (ExpiryPolicy.IGNORE.value, "Ignore: the target wallet keeps its expiry date"),
)
BUCKET_POLICIES: tuple[Option, ...] = (
    (BucketPolicy.MERGE.value, "Merge: dated buckets join a target bucket of the same type"),
    (BucketPolicy.MOVE.value, "Move: dated buckets move over unchanged"),
)
DEFAULTS = {
    "source_wallet_type": WalletType.PRIMARY.value,
    "target_wallet_type": WalletType.PRIMARY.value,
    "expiry_policy": ExpiryPolicy.BEST.value,
    "bucket_policy": BucketPolicy.MERGE.value,
}


def _form_page(page: Page, subscriber_id: int, form: FormState, status_code: int = 200) -> Response:
    return render_option(
        page,
        subscriber_id,
        "merge/form.html",
        "wallets",
        "Merge wallets",
        {"merge": form},
        status_code,
        wallet_types=WALLET_TYPES,
        expiry_policies=EXPIRY_POLICIES,
        bucket_policies=BUCKET_POLICIES,
    )


@router.get("/subscribers/{subscriber_id}/merge")
def merge_form(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _form_page(page, subscriber_id, FormState(DEFAULTS))


def _source(page: Page, form: Form) -> Subscriber:
    """The source subscriber named by its subscriber ID (CLI) in the operator's provider."""
    cli = form.get("source_subscriber", "").strip()
    if not cli:
        raise DomainError(
            ProblemKind.MISSING_FIELD, "enter the source subscriber ID", "source_subscriber"
        )
    found = page.services.casm.search_subscribers(
        page.operator, page.require_provider(), "subscriber_id", cli, exact=True
    )
    if not found:
        raise DomainError(
            ProblemKind.NOT_FOUND, f"no subscriber has the ID {cli!r}", "source_subscriber"
        )
    return found[0]


def _wallet_type(form: Form, name: str) -> WalletType:
    try:
        return WalletType(form.get(name, ""))
    except ValueError:
        raise invalid(name, "choose PRIMARY or SECONDARY") from None


@router.post("/subscribers/{subscriber_id}/merge/review")
def merge_review(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    """Both wallets as they are now, for the operator to confirm; nothing changes yet."""
    target = visible_subscriber(page, subscriber_id)
    try:
        source = _source(page, form)
        source_type = _wallet_type(form, "source_wallet_type")
        target_type = _wallet_type(form, "target_wallet_type")
        for name, options in (
            ("expiry_policy", EXPIRY_POLICIES),
            ("bucket_policy", BUCKET_POLICIES),
        ):
            if form.get(name) not in dict(options):
                raise invalid(name, f"choose one of {', '.join(dict(options))}")
        source_view = wallet_of(page, source.id, source_type)
        if source_view is None:
            raise DomainError(
                ProblemKind.NOT_FOUND,
                f"subscriber {source.subscriber_id} has no {source_type.value} wallet",
                "source_wallet_type",
            )
        target_view = wallet_of(page, subscriber_id, target_type)
        if target_view is not None and target_view.wallet.id == source_view.wallet.id:
            raise invalid("source_wallet_type", "source and target are the same wallet")
    except DomainError as exc:
        state = page.refused(exc, form, MERGE_FIELDS, MERGE_ALIASES)
        return _form_page(page, subscriber_id, state, state.status)
    return render_option(
        page,
        subscriber_id,
        "merge/confirm.html",
        "wallets",
        "Merge wallets",
        source=source,
        target=target,
        source_type=source_type,
        target_type=target_type,
        source_view=source_view,
        target_view=target_view,
        values={name: form.get(name, "") for name in MERGE_FIELDS},
        expiry_label=dict(EXPIRY_POLICIES)[form["expiry_policy"]],
        bucket_label=dict(BUCKET_POLICIES)[form["bucket_policy"]],
    )


@router.post("/subscribers/{subscriber_id}/merge")
def merge(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    visible_subscriber(page, subscriber_id)
    try:
        source = _source(page, form)
        request = MergeRequest(
            source_subscriber_id=source.id,
            target_subscriber_id=subscriber_id,
            source_wallet_type=form.get("source_wallet_type", ""),
            target_wallet_type=form.get("target_wallet_type", ""),
            expiry_policy=form.get("expiry_policy", ""),
            bucket_policy=form.get("bucket_policy", ""),
        )
        page.services.wallets.merge(page.acting(form), request)
    except DomainError as exc:
        state = page.refused(exc, form, MERGE_FIELDS, MERGE_ALIASES)
        return _form_page(page, subscriber_id, state, state.status)
    path = f"/subscribers/{subscriber_id}/wallets"
    return page.redirect(path, notice="merged", type=request.target_wallet_type)
