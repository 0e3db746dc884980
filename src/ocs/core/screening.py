"""What the subscriber features say about one call, before it is rated.

Translation runs first, so barring, closed user groups and friends all judge the number the
call is actually routed to (a short code for a barred number is barred).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ocs.core.call_barring import BarringDecision, CallBarring, decide_barring
from ocs.core.cug import ClosedUserGroup, CugMatch, cug_for_call
from ocs.core.friends import Friends, FriendsMatch, friends_match
from ocs.core.number_translation import ShortCode, TranslationLevel, translate
from ocs.core.rating import normalise_number


@dataclass(frozen=True)
class SubscriberFeatures:
    """Everything screening needs about the calling subscriber."""

    calling: str
    short_codes: Mapping[TranslationLevel, Sequence[ShortCode]]
    barring: CallBarring
    friends: Friends
    groups: Sequence[ClosedUserGroup]


@dataclass(frozen=True)
class CallScreening:
    dialled: str
    called: str
    translation_level: TranslationLevel | None
    barring: BarringDecision
    cug: CugMatch | None
    friends: FriendsMatch


def screen_call(features: SubscriberFeatures, dialled: str) -> CallScreening:
    text = dialled.strip()
    # A short code may hold * and #; anything else is compared as digits.
    translation = translate(text, features.short_codes)
    called = normalise_number(translation.number)
    calling = normalise_number(features.calling)
    return CallScreening(
        dialled=text,
        called=called,
        translation_level=translation.level,
        barring=decide_barring(features.barring, called),
        cug=cug_for_call(features.groups, calling, called),
        friends=friends_match(features.friends, called),
    )
