"""Card Details: the cards and accounts a client saved at the gateway, and what the customer may change.

The gateway holds the card; we keep its ids and what is shown (brand, last 4, expiry, holder and
billing address). Editing goes to the gateway first and is stored only when the gateway accepted it,
so what the portal shows is what the gateway will charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from models import Client, GatewayCustomer, SavedPaymentMethod
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.errors import NotFound
from services.gateways.base import BillingAddress, MethodInfo, MethodKind, MethodUpdate, PaymentGateway
from services.i18n import _
from services.principal import ActsForClient, Principal


@dataclass(frozen=True)
class SavedMethodView:
    public_id: str
    gateway_method_id: str
    kind: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    holder_name: str
    billing_address: BillingAddress
    is_default: bool

    @property
    def label(self) -> str:
        """ "Visa •••• 4242, expires 12/2030", in the reader's language."""
        if not (self.exp_month and self.exp_year):
            return f"{self.brand} •••• {self.last4}"
        return _("{brand} •••• {last4}, expires {expiry}").format(
            brand=self.brand, last4=self.last4, expiry=f"{self.exp_month:02d}/{self.exp_year}"
        )

    @property
    def is_card(self) -> bool:
        return self.kind == MethodKind.CARD


def list_saved_methods(db: Database, principal: Principal, gateway_name: str) -> tuple[SavedMethodView, ...]:
    """The client's saved cards and accounts at this gateway: the default first, then newest first."""
    with db.reading() as session:
        return saved_methods_in(session, principal, gateway_name)


def saved_methods_in(
    session: Session, principal: Principal, gateway_name: str
) -> tuple[SavedMethodView, ...]:
    """``list_saved_methods`` inside a transaction of the caller's."""
    rows = session.scalars(
        _active(principal.client_id, gateway_name).order_by(
            SavedPaymentMethod.is_default.desc(),
            SavedPaymentMethod.created_at.desc(),
            SavedPaymentMethod.id.desc(),
        )
    ).all()
    return tuple(_view(row) for row in rows)


@dataclass(frozen=True)
class KnownCustomer:
    customer_id: str  # "" until the client's first payment or card saved at this gateway
    name: str  # what the gateway's customer record is named when it is made


def known_customer(session: Session, client_id: int, gateway_name: str) -> KnownCustomer:
    """The client's customer id at the gateway if kept already, in a transaction of the caller's."""
    row = session.execute(
        select(Client.company_name, Client.display_name, GatewayCustomer.customer_id)
        .outerjoin(
            GatewayCustomer,
            (GatewayCustomer.client_id == Client.id) & (GatewayCustomer.gateway == gateway_name),
        )
        .where(Client.id == client_id)
    ).one_or_none()
    if row is None:
        raise NotFound("client", client_id)
    return KnownCustomer(row.customer_id or "", row.company_name or row.display_name)


def gateway_customer(
    db: Database, gateway: PaymentGateway, principal: ActsForClient, *, clock: Clock = utc_now
) -> str:
    """The client's customer id at the gateway, created there on first use and kept."""
    with db.reading() as session:
        known = known_customer(session, principal.client_id, gateway.name)
    return known.customer_id or new_gateway_customer(db, gateway, principal, known.name, clock=clock)


def new_gateway_customer(
    db: Database, gateway: PaymentGateway, principal: ActsForClient, name: str, *, clock: Clock = utc_now
) -> str:
    """Create the client's customer at the gateway and keep its id; if another tab kept one at the same
    moment, that one is used (the one made here stays unused at the gateway)."""
    customer_id = gateway.ensure_customer("", email=principal.email, name=name)
    with db.each_statement_committed() as connection:
        kept = insert_unless_present(
            connection,
            GatewayCustomer,
            ["client_id", "gateway"],
            client_id=principal.client_id,
            gateway=gateway.name,
            customer_id=customer_id,
            created_at=clock(),
        )
        return customer_id if kept else _customer_id(connection, principal.client_id, gateway.name)


def store_method(
    session: Session, client_id: int, gateway_name: str, method: MethodInfo, customer_id: str, now: datetime
) -> None:
    """Keep a method the gateway saved for the client; the first one becomes the default."""
    known = session.scalar(
        _active(client_id, gateway_name).where(
            SavedPaymentMethod.gateway_method_id == method.gateway_method_id
        )
    )
    if known is not None:
        return  # paying again with a saved method saves nothing new
    same = session.scalar(
        _active(client_id, gateway_name)
        .where(
            SavedPaymentMethod.kind == method.kind,
            SavedPaymentMethod.brand == method.brand,
            SavedPaymentMethod.last4 == method.last4,
            SavedPaymentMethod.exp_month == method.exp_month,
            SavedPaymentMethod.exp_year == method.exp_year,
        )
        .limit(1)
    )
    if same is not None:
        # The same card (or account) typed in again: the one saved keeps its place and default, with
        # the gateway's newest id for it and the name and address given this time.
        same.gateway_method_id = method.gateway_method_id
        same.holder_name = method.holder_name[:200] or same.holder_name
        if method.billing_address.line1 or method.billing_address.country:
            _set_address(same, method.billing_address)
        return
    customer_id = customer_id or _customer_id(session, client_id, gateway_name)
    has_default = session.scalar(
        _active(client_id, gateway_name).where(SavedPaymentMethod.is_default.is_(True)).limit(1)
    )
    row = SavedPaymentMethod(
        client_id=client_id,
        gateway=gateway_name,
        gateway_customer_id=customer_id,
        gateway_method_id=method.gateway_method_id,
        kind=method.kind,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        holder_name=method.holder_name[:200],
        is_default=has_default is None,
        created_at=now,
    )
    _set_address(row, method.billing_address)
    session.add(row)


def update_saved_card(
    db: Database,
    gateway: PaymentGateway,
    principal: Principal,
    public_id: str,
    change: MethodUpdate,
    *,
    clock: Clock = utc_now,
) -> SavedMethodView:
    """Edit Card Details: expiry, name and billing address, at the gateway first, then here."""
    with db.reading() as session:
        gateway_method_id = _owned(session, principal, gateway.name, public_id).gateway_method_id
    info = gateway.update_method(gateway_method_id, change)
    with db.transaction() as session:
        row = _owned(session, principal, gateway.name, public_id)
        row.exp_month, row.exp_year = info.exp_month, info.exp_year
        row.holder_name = info.holder_name[:200]
        _set_address(row, info.billing_address)
        _audit(session, principal, "payment_method.updated", row, clock())
        return _view(row)


def remove_saved_method(
    db: Database, gateway: PaymentGateway, principal: Principal, public_id: str, *, clock: Clock = utc_now
) -> None:
    """Remove: detached at the gateway so it can never be charged again, then hidden here."""
    with db.reading() as session:
        gateway_method_id = _owned(session, principal, gateway.name, public_id).gateway_method_id
    gateway.remove_method(gateway_method_id)
    with db.transaction() as session:
        row = _owned(session, principal, gateway.name, public_id)
        row.removed_at = clock()
        if row.is_default:  # the newest remaining method takes over, so there is always a default
            row.is_default = False
            session.flush()
            successor = session.scalar(
                _active(principal.client_id, gateway.name).order_by(
                    SavedPaymentMethod.created_at.desc(), SavedPaymentMethod.id.desc()
                )
            )
            if successor is not None:
                successor.is_default = True
        _audit(session, principal, "payment_method.removed", row, clock())


def make_default(
    db: Database, gateway: PaymentGateway, principal: Principal, public_id: str, *, clock: Clock = utc_now
) -> None:
    """Make default: the method offered first on the payment screen."""
    with db.transaction() as session:
        row = _owned(session, principal, gateway.name, public_id)
        session.execute(
            update(SavedPaymentMethod)
            .where(
                SavedPaymentMethod.client_id == principal.client_id,
                SavedPaymentMethod.gateway == gateway.name,
                SavedPaymentMethod.id != row.id,
            )
            .values(is_default=False)
        )
        row.is_default = True
        _audit(session, principal, "payment_method.made_default", row, clock())


def _active(client_id: int, gateway_name: str):  # type: ignore[no-untyped-def]
    return select(SavedPaymentMethod).where(
        SavedPaymentMethod.client_id == client_id,
        SavedPaymentMethod.gateway == gateway_name,
        SavedPaymentMethod.removed_at.is_(None),
    )


def _owned(session: Session, principal: Principal, gateway_name: str, public_id: str) -> SavedPaymentMethod:
    row = session.scalar(
        _active(principal.client_id, gateway_name).where(SavedPaymentMethod.public_id == public_id)
    )
    if row is None:
        raise NotFound("payment method", public_id)
    return row


def _customer_id(session: Session | Connection, client_id: int, gateway_name: str) -> str:
    return (
        session.scalar(
            select(GatewayCustomer.customer_id).where(
                GatewayCustomer.client_id == client_id, GatewayCustomer.gateway == gateway_name
            )
        )
        or ""
    )


def _set_address(row: SavedPaymentMethod, address: BillingAddress) -> None:
    row.address_line1, row.address_line2 = address.line1[:200], address.line2[:200]
    row.city, row.region = address.city[:100], address.region[:100]
    row.postal_code, row.country = address.postal_code[:20], address.country[:2]


def _audit(
    session: Session, principal: Principal, action: str, row: SavedPaymentMethod, now: datetime
) -> None:
    record_event(
        session,
        action,
        at=now,
        portal_user_id=principal.portal_user_id,
        client_id=principal.client_id,
        subject=("saved_payment_method", row.id),
        details={"brand": row.brand, "last4": row.last4},
    )


def _view(row: SavedPaymentMethod) -> SavedMethodView:
    address = BillingAddress(
        row.address_line1, row.address_line2, row.city, row.region, row.postal_code, row.country
    )
    return SavedMethodView(
        row.public_id,
        row.gateway_method_id,
        row.kind,
        row.brand,
        row.last4,
        row.exp_month,
        row.exp_year,
        row.holder_name,
        address,
        row.is_default,
    )
