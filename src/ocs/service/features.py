"""The subscriber feature use cases, built together for the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from ocs.service.comments import CommentService
from ocs.service.cugs import CugService
from ocs.service.ports import Clock, PasswordHasher, Store
from ocs.service.profiles import ProfileService
from ocs.service.provider_lists import ProviderListService
from ocs.service.subscriber_features import SubscriberFeatureService
from ocs.service.zones import ZoneService


@dataclass(frozen=True)
class FeatureServices:
    subscribers: SubscriberFeatureService
    provider_lists: ProviderListService
    cugs: CugService
    zones: ZoneService
    comments: CommentService
    profiles: ProfileService


def build_feature_services(store: Store, clock: Clock, hasher: PasswordHasher) -> FeatureServices:
    return FeatureServices(
        subscribers=SubscriberFeatureService(store, clock, hasher),
        provider_lists=ProviderListService(store, clock),
        cugs=CugService(store, clock),
        zones=ZoneService(store, clock),
        comments=CommentService(store, clock),
        profiles=ProfileService(store, clock),
    )
