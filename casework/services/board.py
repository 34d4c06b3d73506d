"""The public board of a territory's services: what a citizen may read without signing in.

A territory's board is off until an administrator switches it on (`Territory.public_board`).
A board that is off answers exactly like a territory that does not exist, so whether a board
exists does not leak. The board shows only active services serving a comune of the territory
or of a territory below it, and only what a service publishes: never its referrals, the
people referred, its places or waiting list, or the name of the person to contact.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from casework.models import (
    Service,
    ServiceComune,
    ServiceMacroArea,
    ServiceType,
    Territory,
    TerritoryKind,
)
from casework.security import territory_and_below


@dataclass(frozen=True)
class Board:
    """A board that is on: its territory, the comuni it covers and the macro-areas to filter by."""

    territory: Territory
    comuni: list[Territory]  # the comuni of the territory and below, by name
    macro_areas: list[ServiceMacroArea]  # by position

    @property
    def territory_ids(self) -> list[int]:
        """The comuni whose services the board lists."""
        return [comune.id for comune in self.comuni]


def public_board(session: Session, territory_id: int) -> Board | None:
    """The territory's board, or None when the territory does not exist or its board is off."""
    territory = session.scalars(
        select(Territory).where(Territory.id == territory_id, Territory.public_board.is_(True))
    ).one_or_none()
    if territory is None:
        return None
    comuni = list(session.scalars(
        select(Territory).where(Territory.id.in_(territory_and_below(territory.id)),
                                Territory.kind == TerritoryKind.COMUNE)
        .order_by(Territory.name, Territory.id)
    ))
    macro_areas = list(session.scalars(select(ServiceMacroArea).order_by(ServiceMacroArea.position,
                                                                         ServiceMacroArea.code)))
    return Board(territory, comuni, macro_areas)


def board_service(session: Session, board: Board, service_id: int) -> Service | None:
    """An active service serving one of the board's comuni, with what the board shows of it; else None."""
    serves_board = select(ServiceComune.service_id).where(
        ServiceComune.service_id == service_id, ServiceComune.territory_id.in_(board.territory_ids))
    return session.scalars(
        select(Service)
        .where(Service.id == service_id, Service.active.is_(True), Service.id.in_(serves_board))
        .options(selectinload(Service.organisation), selectinload(Service.languages),
                 selectinload(Service.service_type).selectinload(ServiceType.macro_area),
                 selectinload(Service.comuni).selectinload(ServiceComune.territory))
    ).one_or_none()
