"""Use cases for subscriber zones and their shapes, with the manual's privilege rules: adding
the first shape creates the zone and deleting the last one removes it, both create/delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ocs.core.errors import not_found
from ocs.core.security import Privilege
from ocs.core.zones import (
    Shape,
    Zone,
    check_room_for_shape,
    check_room_for_zone,
    check_zone_name,
    parse_shape,
    privilege_to_add_shape,
    privilege_to_delete_shape,
    shape_view,
)
from ocs.service.actor import Actor
from ocs.service.feature_access import FeatureService, locked_subscriber, visible_subscriber
from ocs.service.ports import UnitOfWork


class ZoneService(FeatureService):
    def list_zones(self, actor: Actor, subscriber_id: int) -> list[Zone]:
        actor.require(Privilege.READ)
        with self.store.transaction() as uow:
            visible_subscriber(uow, actor, subscriber_id)
            return uow.features.list_zones(subscriber_id)

    def add_shape(
        self, actor: Actor, subscriber_id: int, zone_name: str, payload: Mapping[str, object]
    ) -> Zone:
        name = check_zone_name(zone_name)
        shape = parse_shape(payload)
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            zones = uow.features.list_zones(subscriber_id)
            zone = _find(zones, name)
            actor.require(privilege_to_add_shape(zone is not None))
            if zone is None:
                check_room_for_zone(len(zones))
                zone_id = uow.features.insert_zone(subscriber_id, name)
            else:
                check_room_for_shape(len(zone.shapes))
                zone_id = zone.id
            shape_id = uow.features.insert_shape(zone_id, shape)
            detail = {"zone": name, "shape": shape_id, **shape_view(shape)}
            self._audit(uow, actor, "create", "zone-shape", subscriber_id, detail)
            return _zone(uow, subscriber_id, name)

    def update_shape(
        self,
        actor: Actor,
        subscriber_id: int,
        zone_name: str,
        shape_id: int,
        payload: Mapping[str, object],
    ) -> Zone:
        actor.require(Privilege.MODIFY)
        shape = parse_shape(payload)
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            _shape_of(_zone(uow, subscriber_id, zone_name), shape_id)
            uow.features.update_shape(shape_id, shape)
            detail = {"zone": zone_name, "shape": shape_id, **shape_view(shape)}
            self._audit(uow, actor, "update", "zone-shape", subscriber_id, detail)
            return _zone(uow, subscriber_id, zone_name)

    def delete_shape(
        self, actor: Actor, subscriber_id: int, zone_name: str, shape_id: int
    ) -> Zone | None:
        """Delete one shape; the zone goes with its last shape (None is returned then)."""
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            zone = _zone(uow, subscriber_id, zone_name)
            _shape_of(zone, shape_id)
            actor.require(privilege_to_delete_shape(len(zone.shapes)))
            uow.features.delete_shape(shape_id)
            detail = {"zone": zone_name, "shape": shape_id}
            self._audit(uow, actor, "delete", "zone-shape", subscriber_id, detail)
            if len(zone.shapes) == 1:
                uow.features.delete_zone(zone.id)
                return None
            return _zone(uow, subscriber_id, zone_name)

    def delete_zone(self, actor: Actor, subscriber_id: int, zone_name: str) -> None:
        actor.require(Privilege.CREATE_DELETE)
        with self.store.transaction() as uow:
            locked_subscriber(uow, actor, subscriber_id)
            zone = _zone(uow, subscriber_id, zone_name)
            uow.features.delete_zone(zone.id)
            self._audit(uow, actor, "delete", "zone", subscriber_id, {"zone": zone_name})


def replace_zone_shapes(
    uow: UnitOfWork, subscriber_id: int, name: str, shapes: Sequence[Shape]
) -> None:
    """Make the named zone hold exactly `shapes` (no shapes: no zone). For ZONE profile
    fields, whose value is the zone named after their tag."""
    zones = uow.features.list_zones(subscriber_id)
    zone = _find(zones, name)
    if zone is not None:
        uow.features.delete_zone(zone.id)
    elif shapes:
        check_room_for_zone(len(zones))
    if shapes:
        zone_id = uow.features.insert_zone(subscriber_id, name)
        for shape in shapes:
            uow.features.insert_shape(zone_id, shape)


def _find(zones: Sequence[Zone], name: str) -> Zone | None:
    return next((z for z in zones if z.name == name), None)


def _zone(uow: UnitOfWork, subscriber_id: int, name: str) -> Zone:
    zone = _find(uow.features.list_zones(subscriber_id), name)
    if zone is None:
        raise not_found("zone", name)
    return zone


def _shape_of(zone: Zone, shape_id: int) -> None:
    if shape_id not in {s.id for s in zone.shapes}:
        raise not_found(f"shape of zone {zone.name!r}", shape_id)
