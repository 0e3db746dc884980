"""Subscriber options for calls: call barring, number translation, Friends and Family,
closed user group membership, and the comments operators leave on a subscriber.

Lists follow the manual's New number / Add and select / Delete steps: each Add or Delete
saves the whole list through the service at once, so every step is checked and audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ocs.core.call_barring import BarringListType
from ocs.core.comments import COMMENT_LENGTH_MAX, Comment, CommentAction, may_change_comment
from ocs.core.errors import DomainError, ProblemKind
from ocs.core.friends import Friends, FriendsService
from ocs.service.subscriber_features import FriendsInput

from . import forms as f
from .forms import FormState
from .page import Form, Page, operator_page, posted_form
from .views_config import Option
from .views_wallets import visible_subscriber

router = APIRouter()

LIST_TYPES: tuple[Option, ...] = (
    (BarringListType.BARRED.value, "Barred: the listed numbers may not be called"),
    (BarringListType.ALLOWED.value, "Allowed: only the listed numbers may be called"),
)
FRIENDS_SERVICES: tuple[Option, ...] = (
    (FriendsService.NONE.value, "None"),
    (FriendsService.FRIENDS_AND_FAMILY.value, "Friends and Family"),
    (FriendsService.FRIENDS_AND_DESTINATION.value, "Friends and Destination"),
)
FRIENDS_FIELDS = (
    "active_service",
    "fd_discount_prefix",
    "fd_change_count",
    "fd_changed_at",
    "ff_change_count",
    "ff_changed_at",
)
EMPTY = FormState()


def render_option(
    page: Page,
    subscriber_id: int,
    template: str,
    option: str,
    heading: str,
    forms: Mapping[str, FormState] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A subscriber option page: `forms` holds the state of its forms by name."""
    subscriber = visible_subscriber(page, subscriber_id)
    states = {"settings": EMPTY, "add": EMPTY, "remove": EMPTY, **(forms or {})}
    return page.render(
        template,
        status_code=status_code,
        title=f"Subscriber {subscriber.subscriber_id} · {heading}",
        section="subscribers",
        option=option,
        heading=heading,
        subscriber=subscriber,
        forms=states,
        empty_form=EMPTY,
        general=[],
        **context,
    )


def required_number(form: Form, name: str) -> str:
    value = f.text(form, name)
    if value is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "enter a number", name)
    return value


# -- call barring ----------------------------------------------------------------------------


def _barring_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    barring = page.services.features.subscribers.get_call_barring(page.operator, subscriber_id)
    return render_option(
        page,
        subscriber_id,
        "features/call_barring.html",
        "call-barring",
        "Call barring",
        forms,
        status,
        barring=barring,
        list_types=LIST_TYPES,
    )


@router.get("/subscribers/{subscriber_id}/call-barring")
def call_barring(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _barring_page(page, subscriber_id)


def _save_barring(
    page: Page,
    subscriber_id: int,
    form: Form,
    which: str,
    list_type: str,
    ignore: bool,
    numbers: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> Response:
    service = page.services.features.subscribers
    try:
        service.set_call_barring(page.acting(form), subscriber_id, list_type, ignore, numbers)
    except DomainError as exc:
        fields = ("list_type", "ignore", "new_number")
        state = page.refused(exc, form, fields, aliases)
        return _barring_page(page, subscriber_id, {which: state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/call-barring", notice="saved")


@router.post("/subscribers/{subscriber_id}/call-barring")
def call_barring_save(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    current = page.services.features.subscribers.get_call_barring(page.operator, subscriber_id)
    list_type = form.get("list_type", "")
    return _save_barring(
        page, subscriber_id, form, "settings", list_type, "ignore" in form, current.numbers
    )


@router.post("/subscribers/{subscriber_id}/call-barring/numbers")
def call_barring_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    current = page.services.features.subscribers.get_call_barring(page.operator, subscriber_id)
    try:
        numbers = [*current.numbers, required_number(form, "new_number")]
    except DomainError as exc:
        state = page.refused(exc, form, ("new_number",))
        return _barring_page(page, subscriber_id, {"add": state}, state.status)
    return _save_barring(
        page,
        subscriber_id,
        form,
        "add",
        current.list_type.value,
        current.ignore,
        numbers,
        {"numbers": "new_number"},
    )


@router.post("/subscribers/{subscriber_id}/call-barring/numbers/delete")
def call_barring_delete(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    current = page.services.features.subscribers.get_call_barring(page.operator, subscriber_id)
    numbers = [n for n in current.numbers if n != form.get("number")]
    return _save_barring(
        page, subscriber_id, form, "remove", current.list_type.value, current.ignore, numbers
    )


# -- number translation ----------------------------------------------------------------------


def _translation_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    service = page.services.features.subscribers
    codes = service.get_subscriber_short_codes(page.operator, subscriber_id)
    return render_option(
        page,
        subscriber_id,
        "features/number_translation.html",
        "number-translation",
        "Number translation",
        forms,
        status,
        codes=codes,
    )


@router.get("/subscribers/{subscriber_id}/number-translation")
def number_translation(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _translation_page(page, subscriber_id)


def _save_codes(
    page: Page, subscriber_id: int, form: Form, which: str, entries: list[tuple[str, str]]
) -> Response:
    service = page.services.features.subscribers
    try:
        service.set_subscriber_short_codes(page.acting(form), subscriber_id, entries)
    except DomainError as exc:
        state = page.refused(exc, form, ("short_code", "number"))
        return _translation_page(page, subscriber_id, {which: state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/number-translation", notice="saved")


@router.post("/subscribers/{subscriber_id}/number-translation")
def number_translation_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = page.services.features.subscribers
    current = service.get_subscriber_short_codes(page.operator, subscriber_id)
    entries = [(c.short_code, c.number) for c in current]
    entries.append((form.get("short_code", ""), form.get("number", "")))
    return _save_codes(page, subscriber_id, form, "add", entries)


@router.post("/subscribers/{subscriber_id}/number-translation/delete")
def number_translation_delete(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    service = page.services.features.subscribers
    current = service.get_subscriber_short_codes(page.operator, subscriber_id)
    gone = form.get("short_code")
    entries = [(c.short_code, c.number) for c in current if c.short_code != gone]
    return _save_codes(page, subscriber_id, form, "remove", entries)


# -- friends and family ----------------------------------------------------------------------


def _friends_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    friends = page.services.features.subscribers.get_friends(page.operator, subscriber_id)
    provider = visible_subscriber(page, subscriber_id).service_provider
    prefix_map = page.services.features.provider_lists.get_prefix_map(page.operator, provider)
    prefixes = tuple((e.prefix, f"{e.prefix} ({e.announcement_set})") for e in prefix_map)
    return render_option(
        page,
        subscriber_id,
        "features/friends.html",
        "friends",
        "Friends and family",
        forms,
        status,
        friends=friends,
        services_options=FRIENDS_SERVICES,
        prefixes=prefixes,
    )


@router.get("/subscribers/{subscriber_id}/friends")
def friends(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _friends_page(page, subscriber_id)


def _friends_input(current: Friends, numbers: Sequence[str]) -> FriendsInput:
    return FriendsInput(
        active_service=current.active_service.value,
        fd_discount_prefix=current.fd_discount_prefix,
        fd_change_count=current.fd_change_count,
        fd_changed_at=current.fd_changed_at,
        ff_change_count=current.ff_change_count,
        ff_changed_at=current.ff_changed_at,
        ff_numbers=tuple(numbers),
    )


def _save_friends(
    page: Page,
    subscriber_id: int,
    form: Form,
    which: str,
    build: Any,
    aliases: Mapping[str, str] | None = None,
) -> Response:
    """`build` makes the FriendsInput from the current settings (it may refuse the form)."""
    service = page.services.features.subscribers
    try:
        inp = build(service.get_friends(page.operator, subscriber_id))
        service.set_friends(page.acting(form), subscriber_id, inp)
    except DomainError as exc:
        state = page.refused(exc, form, (*FRIENDS_FIELDS, "new_number"), aliases)
        return _friends_page(page, subscriber_id, {which: state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/friends", notice="saved")


@router.post("/subscribers/{subscriber_id}/friends")
def friends_save(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    def build(current: Friends) -> FriendsInput:
        return FriendsInput(
            active_service=form.get("active_service", ""),
            fd_discount_prefix=f.text(form, "fd_discount_prefix"),
            fd_change_count=f.integer(form, "fd_change_count") or 0,
            fd_changed_at=f.utc_datetime(form, "fd_changed_at"),
            ff_change_count=f.integer(form, "ff_change_count") or 0,
            ff_changed_at=f.utc_datetime(form, "ff_changed_at"),
            ff_numbers=current.ff_numbers,
        )

    return _save_friends(page, subscriber_id, form, "settings", build)


@router.post("/subscribers/{subscriber_id}/friends/numbers")
def friends_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    def build(current: Friends) -> FriendsInput:
        number = required_number(form, "new_number")
        return _friends_input(current, [*current.ff_numbers, number])

    return _save_friends(page, subscriber_id, form, "add", build, {"ff_numbers": "new_number"})


@router.post("/subscribers/{subscriber_id}/friends/numbers/delete")
def friends_delete(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    def build(current: Friends) -> FriendsInput:
        gone = form.get("number")
        return _friends_input(current, [n for n in current.ff_numbers if n != gone])

    return _save_friends(page, subscriber_id, form, "remove", build)


# -- closed user groups of the subscriber ----------------------------------------------------


def _groups_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    cugs = page.services.features.cugs
    groups = cugs.groups_of_subscriber(page.operator, subscriber_id)
    provider = visible_subscriber(page, subscriber_id).service_provider
    member_of = {g.id for g in groups}
    available = tuple(
        (str(g.id), f"{g.name} ({g.tariff_plan})")
        for g in cugs.search(page.operator, provider)
        if g.id not in member_of
    )
    return render_option(
        page,
        subscriber_id,
        "features/groups.html",
        "closed-user-groups",
        "Closed user groups",
        forms,
        status,
        groups=groups,
        available=available,
    )


@router.get("/subscribers/{subscriber_id}/closed-user-groups")
def subscriber_groups(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _groups_page(page, subscriber_id)


def _save_groups(page: Page, subscriber_id: int, form: Form, which: str, change: Any) -> Response:
    cugs = page.services.features.cugs
    try:
        current = [g.id for g in cugs.groups_of_subscriber(page.operator, subscriber_id)]
        cugs.set_groups_of_subscriber(page.acting(form), subscriber_id, change(current))
    except DomainError as exc:
        aliases = {"closed_user_groups": "cug_id"}
        state = page.refused(exc, form, ("cug_id",), aliases)
        return _groups_page(page, subscriber_id, {which: state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/closed-user-groups", notice="saved")


def _chosen_group(form: Form) -> int:
    chosen = f.integer(form, "cug_id")
    if chosen is None:
        raise DomainError(ProblemKind.MISSING_FIELD, "choose a closed user group", "cug_id")
    return chosen


@router.post("/subscribers/{subscriber_id}/closed-user-groups")
def subscriber_group_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    return _save_groups(page, subscriber_id, form, "add", lambda ids: [*ids, _chosen_group(form)])


@router.post("/subscribers/{subscriber_id}/closed-user-groups/delete")
def subscriber_group_delete(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    return _save_groups(
        page,
        subscriber_id,
        form,
        "remove",
        lambda ids: [i for i in ids if i != _chosen_group(form)],
    )


# -- comments --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentRow:
    comment: Comment
    may_edit: bool
    may_delete: bool


def _comments_page(
    page: Page, subscriber_id: int, forms: Mapping[str, FormState] | None = None, status: int = 200
) -> Response:
    actor = page.operator
    comments = page.services.features.comments.list_comments(actor, subscriber_id)

    def may(action: CommentAction, author: str | None) -> bool:
        return may_change_comment(actor.privileges, actor.username, action, author)

    rows = [
        CommentRow(c, may(CommentAction.EDIT, c.author), may(CommentAction.DELETE, c.author))
        for c in comments
    ]
    return render_option(
        page,
        subscriber_id,
        "features/comments.html",
        "comments",
        "Comments",
        forms,
        status,
        rows=rows,
        may_add=may(CommentAction.CREATE, None),
        max_length=COMMENT_LENGTH_MAX,
    )


@router.get("/subscribers/{subscriber_id}/comments")
def comments(subscriber_id: int, page: Page = Depends(operator_page)) -> Response:
    return _comments_page(page, subscriber_id)


@router.post("/subscribers/{subscriber_id}/comments")
def comment_add(
    subscriber_id: int, page: Page = Depends(operator_page), form: Form = Depends(posted_form)
) -> Response:
    try:
        page.services.features.comments.add(page.acting(form), subscriber_id, form.get("text", ""))
    except DomainError as exc:
        state = page.refused(exc, form, ("text",))
        return _comments_page(page, subscriber_id, {"add": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/comments", notice="created")


@router.post("/subscribers/{subscriber_id}/comments/{comment_id}")
def comment_edit(
    subscriber_id: int,
    comment_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    service = page.services.features.comments
    try:
        service.edit(page.acting(form), subscriber_id, comment_id, form.get("text", ""))
    except DomainError as exc:
        state = page.refused(exc, form, ("text",))
        forms = {f"edit-{comment_id}": state}
        return _comments_page(page, subscriber_id, forms, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/comments", notice="saved")


@router.post("/subscribers/{subscriber_id}/comments/{comment_id}/delete")
def comment_delete(
    subscriber_id: int,
    comment_id: int,
    page: Page = Depends(operator_page),
    form: Form = Depends(posted_form),
) -> Response:
    try:
        page.services.features.comments.delete(page.acting(form), subscriber_id, comment_id)
    except DomainError as exc:
        state = page.refused(exc, form)
        return _comments_page(page, subscriber_id, {"remove": state}, state.status)
    return page.redirect(f"/subscribers/{subscriber_id}/comments", notice="deleted")
