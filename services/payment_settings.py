"""Settings > Payments: which payment methods customers may use, and the payment gateway.

The gateway the owner chooses is stored in ``IntegrationSettings``; a row that says "" (or none)
leaves the environment's ``PORTAL_STRIPE_*`` settings in charge. Stripe's keys are secrets: they are
shown back only as a hint ("sk_test_…abcd"), and a key field left empty keeps the stored key.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, IntegrationSettings, Organization
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.events import SETTINGS_TOPIC, Events
from services.gateways.base import MethodKind
from services.i18n import N_, _
from services.settings import Settings

METHODS_UPDATED = "business.payment_methods_updated"
GATEWAY_UPDATED = "business.gateway_updated"

SANDBOX = "sandbox"
STRIPE = "stripe"
GATEWAYS = {SANDBOX: N_("Sandbox (no real money)"), STRIPE: N_("Stripe")}  # shown with gateway_label
CHECK_TIMEOUT_SECONDS = 10.0
MAX_KEY_LENGTH = 255
KEY_PREFIXES = {
    "secret_key": (("sk_", "rk_"), N_("A Stripe secret key starts with sk_ (or rk_ for a restricted key).")),
    "publishable_key": (("pk_",), N_("A Stripe publishable key starts with pk_.")),
    "webhook_secret": (("whsec_",), N_("A webhook signing secret starts with whsec_.")),
}
# What a key field is missing, and what is wrong with a key cut short, by field.
KEY_MISSING = {
    "secret_key": N_("Enter the secret key from the Stripe dashboard."),
    "publishable_key": N_("Enter the publishable key from the Stripe dashboard."),
    "webhook_secret": N_("Enter the webhook signing secret from the Stripe dashboard."),
}
KEY_INCOMPLETE = {
    "secret_key": N_("This is not a whole secret key: copy it again, without spaces."),
    "publishable_key": N_("This is not a whole publishable key: copy it again, without spaces."),
    "webhook_secret": N_("This is not a whole webhook signing secret: copy it again, without spaces."),
}
_KEY = re.compile(r"[A-Za-z0-9_]+")
SANDBOX_READY = N_(
    "The sandbox is ready: it takes Stripe's test cards and accounts only, and no real money moves."
)
NO_METHOD = N_("Customers need at least one way to pay: keep cards or bank debits on.")

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcceptedMethods:
    cards: bool
    bank_debits: bool

    def allows(self, kind: str) -> bool:
        return self.cards if kind == MethodKind.CARD else self.bank_debits


@dataclass(frozen=True)
class StripeKeys:
    secret_key: str
    publishable_key: str
    webhook_secret: str


@dataclass(frozen=True)
class PaymentSettings:
    methods: AcceptedMethods
    gateway: str  # sandbox | stripe: what runs (the owner's choice, or the environment's)
    from_environment: bool  # the owner has not chosen: the PORTAL_* settings apply
    secret_key_hint: str  # "sk_test_…abcd", or "" when no key is known
    publishable_key_hint: str
    webhook_secret_hint: str


@dataclass(frozen=True)
class GatewayChange:
    """The gateway form as typed; an empty key field keeps the key stored (or the environment's)."""

    gateway: str
    secret_key: str = ""
    publishable_key: str = ""
    webhook_secret: str = ""


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def get_payment_settings(db: Database, organization_id: int, settings: Settings) -> PaymentSettings:
    """What Settings > Payments shows: the methods on offer, the gateway and hints of its keys."""
    with db.reading() as session:
        organization = _organization(session, organization_id)
        row = _row(session, organization_id)
        methods = AcceptedMethods(organization.accept_cards, organization.accept_bank_debits)
        chosen = row.gateway if row is not None else ""
        keys = _known_keys(row, settings)
    gateway = chosen or (STRIPE if settings.stripe_secret_key else SANDBOX)
    return PaymentSettings(
        methods,
        gateway,
        not chosen,
        key_hint(keys.secret_key),
        key_hint(keys.publishable_key),
        key_hint(keys.webhook_secret),
    )


def accepted_methods(db: Database, organization_id: int) -> AcceptedMethods:
    with db.reading() as session:
        organization = _organization(session, organization_id)
        return AcceptedMethods(organization.accept_cards, organization.accept_bank_debits)


def accepted_methods_of_client(session: Session, client_id: int) -> AcceptedMethods:
    """The methods the business of a client lets its customers pay with."""
    row = session.execute(
        select(Organization.accept_cards, Organization.accept_bank_debits)
        .join(Client, Client.organization_id == Organization.id)
        .where(Client.id == client_id)
    ).one_or_none()
    if row is None:
        raise NotFound("client", client_id)
    return AcceptedMethods(bool(row.accept_cards), bool(row.accept_bank_debits))


def update_payment_methods(
    db: Database,
    organization_id: int,
    methods: AcceptedMethods,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> AcceptedMethods:
    """Choose the methods customers may pay with; at least one must stay on (``InvalidDetails``)."""
    if not (methods.cards or methods.bank_debits):
        raise InvalidDetails({"methods": _(NO_METHOD)})
    with db.transaction() as session:
        organization = _organization(session, organization_id, lock=True)
        old = AcceptedMethods(organization.accept_cards, organization.accept_bank_debits)
        organization.accept_cards = methods.cards
        organization.accept_bank_debits = methods.bank_debits
        if old != methods:
            record_event(
                session,
                METHODS_UPDATED,
                at=clock(),
                staff_user_id=staff_user_id,
                subject=("organization", organization_id),
                details={"cards": methods.cards, "bank_debits": methods.bank_debits},
            )
    return methods


def save_gateway(
    db: Database,
    organization_id: int,
    change: GatewayChange,
    settings: Settings,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> Settings:
    """Store the chosen gateway and its keys; returns the settings to build the running gateway from
    (``services.portal.choose_gateway``). ``InvalidDetails`` (keys ``gateway``, ``secret_key``,
    ``publishable_key``, ``webhook_secret``) writes nothing. ``SETTINGS_TOPIC`` is published after the
    commit, so every instance loads the gateway again (``services.portal.follow_settings``).
    """
    with db.transaction() as session:
        _organization(session, organization_id, lock=True)
        row = _row(session, organization_id, lock=True)
        keys = _resolved_keys(change, row, settings)
        if row is None:
            row = IntegrationSettings(organization_id=organization_id)
            session.add(row)
        old_gateway = row.gateway
        row.gateway = change.gateway
        if change.gateway == STRIPE:
            row.stripe_secret_key = keys.secret_key
            row.stripe_publishable_key = keys.publishable_key
            row.stripe_webhook_secret = keys.webhook_secret
        row.updated_at = clock()
        record_event(
            session,
            GATEWAY_UPDATED,
            at=clock(),
            staff_user_id=staff_user_id,
            subject=("organization", organization_id),
            details={
                "old": old_gateway,
                "new": change.gateway,
                "secret_key": key_hint(keys.secret_key) if change.gateway == STRIPE else "",
            },
        )
    if events is not None:
        events.publish(SETTINGS_TOPIC)
    return gateway_settings(settings, change.gateway, keys)


def configured_settings(db: Database, settings: Settings) -> Settings:
    """The environment's settings with the owner's gateway choice (if any) applied, for start-up."""
    with db.reading() as session:
        row = session.scalars(
            select(IntegrationSettings)
            .join(Organization, Organization.id == IntegrationSettings.organization_id)
            .order_by(Organization.id)
            .limit(1)
        ).first()
        if row is None or not row.gateway:
            return settings
        keys = StripeKeys(row.stripe_secret_key, row.stripe_publishable_key, row.stripe_webhook_secret)
        return gateway_settings(settings, row.gateway, keys)


def gateway_settings(settings: Settings, gateway: str, keys: StripeKeys) -> Settings:
    """``settings`` with the gateway's keys replaced: no secret key means the sandbox."""
    stripe = gateway == STRIPE
    return settings.model_copy(
        update={
            "stripe_secret_key": keys.secret_key if stripe else "",
            "stripe_publishable_key": keys.publishable_key if stripe else "",
            "stripe_webhook_secret": keys.webhook_secret if stripe else "",
        }
    )


def check_connection(
    db: Database, organization_id: int, change: GatewayChange, settings: Settings
) -> ConnectionCheck:
    """Ask the gateway whether the keys as entered work, without saving anything.

    Stripe: the account's balance is read with the secret key, with a short time-out; its answer is
    put in plain words. A key that is not even well-formed raises ``InvalidDetails``.
    """
    with db.reading() as session:
        keys = _resolved_keys(change, _row(session, organization_id), settings)
    if change.gateway == SANDBOX:
        return ConnectionCheck(True, _(SANDBOX_READY))
    import stripe  # the SDK loads only when it is used

    client = stripe.StripeClient(
        keys.secret_key,
        base_addresses={"api": settings.stripe_api_base or "https://api.stripe.com"},
        http_client=stripe.new_default_http_client(timeout=CHECK_TIMEOUT_SECONDS),
        max_network_retries=0,
    )
    try:
        balance = client.v1.balance.retrieve()
    except stripe.AuthenticationError as error:
        _log.info("stripe connection check: authentication refused: %s", error)
        return ConnectionCheck(
            False,
            _(
                "Stripe did not accept the secret key ({stripe_says}). Copy it again from the Stripe "
                "dashboard, under Developers > API keys."
            ).format(stripe_says=_stripe_words(error)),
        )
    except stripe.PermissionError as error:
        _log.info("stripe connection check: permission refused: %s", error)
        return ConnectionCheck(
            False,
            _(
                "Stripe accepted the key but refused to show the account ({stripe_says}). A restricted "
                "key needs at least read access to the balance."
            ).format(stripe_says=_stripe_words(error)),
        )
    except stripe.APIConnectionError as error:
        _log.warning("stripe connection check: no connection: %s", error)
        return ConnectionCheck(
            False,
            _("Stripe could not be reached. Check the server's internet connection and try again."),
        )
    except stripe.StripeError as error:
        _log.warning("stripe connection check failed: %s", error)
        return ConnectionCheck(
            False, _("Stripe answered with an error: {stripe_says}.").format(stripe_says=_stripe_words(error))
        )
    if getattr(balance, "livemode", False):
        return ConnectionCheck(True, _("Connected to Stripe in live mode: the secret key works."))
    return ConnectionCheck(True, _("Connected to Stripe in test mode: the secret key works."))


def gateway_label(gateway: str) -> str:
    """The gateway's name in the reader's language."""
    return _(GATEWAYS[gateway]) if gateway in GATEWAYS else gateway


def key_hint(key: str) -> str:
    """A key's kind and last four characters, never the key: "sk_test_…abcd"."""
    if not key:
        return ""
    parts = key.split("_")
    head = parts[0] + "_" if len(parts) > 1 else ""
    if len(parts) > 2 and parts[1] in ("test", "live"):
        head += parts[1] + "_"
    tail = key[-4:] if len(key) >= len(head) + 8 else ""
    return f"{head}…{tail}"


def _resolved_keys(change: GatewayChange, row: IntegrationSettings | None, settings: Settings) -> StripeKeys:
    """The keys as typed, an empty field meaning the key known already; checked for Stripe."""
    if change.gateway not in GATEWAYS:
        raise InvalidDetails({"gateway": _("Choose the sandbox or Stripe.")})
    known = _known_keys(row, settings)
    if change.gateway == SANDBOX:
        return known
    typed = {
        "secret_key": change.secret_key.strip(),
        "publishable_key": change.publishable_key.strip(),
        "webhook_secret": change.webhook_secret.strip(),
    }
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for field, value in typed.items():
        value = value or getattr(known, field)
        prefixes, wrong = KEY_PREFIXES[field]
        if not value:
            errors[field] = _(KEY_MISSING[field])
        elif not value.startswith(prefixes):
            errors[field] = _(wrong)
        elif len(value) > MAX_KEY_LENGTH or not _KEY.fullmatch(value) or len(value) < 8:
            errors[field] = _(KEY_INCOMPLETE[field])
        values[field] = value
    if not errors and _mode(values["secret_key"]) != _mode(values["publishable_key"]):
        errors["publishable_key"] = _(
            "The secret and publishable keys must both be test keys or both live keys."
        )
    if errors:
        raise InvalidDetails(errors)
    return StripeKeys(**values)


def _known_keys(row: IntegrationSettings | None, settings: Settings) -> StripeKeys:
    """The stored keys, or the environment's where none is stored."""
    return StripeKeys(
        (row.stripe_secret_key if row else "") or settings.stripe_secret_key,
        (row.stripe_publishable_key if row else "") or settings.stripe_publishable_key,
        (row.stripe_webhook_secret if row else "") or settings.stripe_webhook_secret,
    )


def _mode(key: str) -> str:
    return "live" if "_live_" in key else "test" if "_test_" in key else ""


def _stripe_words(error: Exception) -> str:
    words = getattr(error, "user_message", None) or str(error) or type(error).__name__
    return str(words).strip().rstrip(".")


def _row(session: Session, organization_id: int, *, lock: bool = False) -> IntegrationSettings | None:
    query = select(IntegrationSettings).where(IntegrationSettings.organization_id == organization_id)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def _organization(session: Session, organization_id: int, *, lock: bool = False) -> Organization:
    query = select(Organization).where(Organization.id == organization_id)
    organization = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if organization is None:
        raise NotFound("organization", organization_id)
    return organization
