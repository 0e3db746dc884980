from __future__ import annotations

from ocs.core.call_barring import BarringListType, BarringOutcome, CallBarring
from ocs.core.cug import ClosedUserGroup, CugCallKind
from ocs.core.friends import Friends, FriendsMatch, FriendsService
from ocs.core.number_translation import ShortCode, TranslationLevel
from ocs.core.screening import SubscriberFeatures, screen_call

GROUP = ClosedUserGroup(1, "SP1", "Office", "CUG_PLAN", ("31600000001", "31600000002"))


def features(**overrides: object) -> SubscriberFeatures:
    values: dict[str, object] = {
        "calling": "+31 600000001",
        "short_codes": {
            TranslationLevel.SUBSCRIBER: [ShortCode("11", "31600000002")],
            TranslationLevel.SYSTEM: [ShortCode("*900#", "0900123"), ShortCode("11", "0")],
        },
        "barring": CallBarring(BarringListType.BARRED, False, ("0900",)),
        "friends": Friends(FriendsService.FRIENDS_AND_FAMILY, ff_numbers=("31622222222",)),
        "groups": [GROUP],
    }
    values.update(overrides)
    return SubscriberFeatures(**values)  # type: ignore[arg-type]


def test_a_short_code_to_a_group_member_is_a_cug_call() -> None:
    screening = screen_call(features(), "11")
    assert (screening.called, screening.translation_level) == (
        "31600000002", TranslationLevel.SUBSCRIBER,
    )  # fmt: skip
    assert screening.barring.outcome is BarringOutcome.ALLOWED
    assert screening.cug is not None
    assert (screening.cug.tariff_plan, screening.cug.kind) == ("CUG_PLAN", CugCallKind.MEMBER)
    assert screening.friends is FriendsMatch.NONE


def test_barring_judges_the_translated_number() -> None:
    screening = screen_call(features(), "*900#")
    assert (screening.dialled, screening.called) == ("*900#", "0900123")
    assert screening.translation_level is TranslationLevel.SYSTEM
    assert screening.barring.outcome is BarringOutcome.BARRED
    assert screening.barring.matched == "0900"


def test_a_friend_outside_any_group() -> None:
    screening = screen_call(features(), "+31 622 222 222")
    assert screening.translation_level is None
    assert screening.called == "31622222222"
    assert screening.friends is FriendsMatch.FRIENDS_AND_FAMILY
    assert screening.cug is None


def test_no_features_leave_the_call_alone() -> None:
    empty = features(short_codes={}, barring=CallBarring(), friends=Friends(), groups=[])
    screening = screen_call(empty, "31655")
    assert (screening.called, screening.barring.outcome, screening.cug, screening.friends) == (
        "31655", BarringOutcome.ALLOWED, None, FriendsMatch.NONE,
    )  # fmt: skip
