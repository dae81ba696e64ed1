"""Domain errors, one type per failure, carrying its data; ``human_message`` words them for people."""

from __future__ import annotations

from datetime import date, datetime

from babel.numbers import format_decimal

from services.dates import format_day
from services.i18n import N_, _, formatting_locale, ngettext
from services.i18n.terms import term
from services.money import CurrencyMismatch, Money, UnknownCurrency, format_money
from services.totals import InvalidLine


class DomainError(Exception):
    """A request the domain refuses. Nothing was changed."""


class NotFound(DomainError):
    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"{kind} {ref!r} not found")
        self.kind = kind
        self.ref = ref


class InvalidAmount(DomainError):
    def __init__(self, amount: Money, problem: str) -> None:
        super().__init__(f"{amount}: {problem}")
        self.amount = amount
        self.problem = problem


class AmountTooLarge(DomainError):
    """An amount above ``limit``, the most the portal takes for one amount (``services.amount_bounds``).

    ``name`` is the figure (rate, amount, tax, subtotal, total), ``line`` the line it is on (1 for the
    first; 0 for a document's own figures or a payment) and ``of`` what carries it: document or payment.
    """

    def __init__(
        self, name: str, amount: Money, limit: Money, *, line: int = 0, of: str = "document"
    ) -> None:
        super().__init__(f"{self.path(name, line)} {amount.minor} is above {limit.minor} {limit.currency}")
        self.name = name
        self.amount = amount
        self.limit = limit
        self.line = line
        self.of = of

    @property
    def field(self) -> str:
        """Where the amount is, as the API names it: ``lines.0.amount_minor``, ``total_minor`` ..."""
        return self.path(self.name, self.line)

    @staticmethod
    def path(name: str, line: int) -> str:
        column = "unit_price_minor" if name == "rate" else f"{name}_minor"
        return f"lines.{line - 1}.{column}" if line else column


class InvalidNumber(DomainError):
    """A number a person typed (an amount, a quantity, a percentage) that cannot be used as it is.

    ``problem`` says why: empty | not_a_number | negative | ambiguous | decimals | too_large. The
    reader (``services.amount_input``) adds, written as the page's locale writes numbers: ``example``
    (one way to type it), ``readings`` (the two things an ambiguous text could mean), ``limit`` (the
    most the field takes) and ``decimal_sign``; ``decimals`` is how many decimals the field takes and
    ``currency`` the amount's currency, if it is an amount.
    """

    def __init__(
        self,
        field: str,
        text: str,
        problem: str,
        *,
        example: str = "",
        readings: tuple[str, ...] = (),
        limit: str = "",
        decimals: int = 0,
        decimal_sign: str = ".",
        currency: str = "",
    ) -> None:
        super().__init__(f"{field} {text!r}: {problem}")
        self.field = field
        self.text = text
        self.problem = problem
        self.example = example
        self.readings = readings
        self.limit = limit
        self.decimals = decimals
        self.decimal_sign = decimal_sign
        self.currency = currency


class WrongCurrency(DomainError):
    def __init__(self, expected: str, given: str) -> None:
        super().__init__(f"expected {expected}, got {given}")
        self.expected = expected
        self.given = given


class InvoiceNotPayable(DomainError):
    def __init__(self, invoice_number: str, status: str) -> None:
        super().__init__(f"invoice {invoice_number} is {status}")
        self.invoice_number = invoice_number
        self.status = status


class AmountExceedsBalance(DomainError):
    def __init__(self, invoice_number: str, balance: Money, requested: Money) -> None:
        super().__init__(f"{requested} is more than the {balance} due on {invoice_number}")
        self.invoice_number = invoice_number
        self.balance = balance
        self.requested = requested


class InvalidStatusChange(DomainError):
    def __init__(self, document: str, number: str, status: str, wanted: str) -> None:
        super().__init__(f"{document} {number} is {status}; cannot make it {wanted}")
        self.document = document
        self.number = number
        self.status = status
        self.wanted = wanted


class DocumentHasApplications(DomainError):
    """A document with amounts applied to or from it cannot be voided until they are reversed."""

    def __init__(self, document: str, number: str) -> None:
        super().__init__(f"{document} {number} has amounts applied")
        self.document = document
        self.number = number


class InsufficientCredit(DomainError):
    def __init__(self, source: str, available: Money, requested: Money) -> None:
        super().__init__(f"{requested} requested, {available} of {source} available")
        self.source = source
        self.available = available
        self.requested = requested


class CreditNoLongerAvailable(DomainError):
    """A payment was to use ``planned`` of the client's credits or retainer, but only ``available`` can
    be used now (applied, refunded or held meanwhile, in another tab or by the business)."""

    def __init__(self, source: str, available: Money, planned: Money) -> None:
        super().__init__(f"{planned} of {source} planned, {available} available")
        self.source = source
        self.available = available
        self.planned = planned


class InvalidEmail(DomainError):
    """A message the outbox refuses: ``field`` (to, reply_to, subject, attachment) is ``problem``."""

    def __init__(self, field: str, value: str, problem: str) -> None:
        super().__init__(f"{field} {value!r}: {problem}")
        self.field = field
        self.value = value
        self.problem = problem


class LimitReached(DomainError):
    """A client sent the business as many of one kind of message as its window allows
    (``services.rate_limits``); ``until`` is when the next one may go, ``at`` when this one was refused
    (so the message says how long to wait wherever it is shown). ``rule`` words the limit."""

    rule = N_("You can send {limit} of these an hour.")  # translated where it is shown

    def __init__(self, limit: int, until: datetime, *, at: datetime | None = None) -> None:
        super().__init__(f"{self.rule.format(limit=limit)} Next at {until.isoformat()}")
        self.limit = limit
        self.until = until
        self.at = at


class ForwardLimitReached(LimitReached):
    rule = N_("Invoices can be forwarded {limit} times an hour.")  # translated where it is shown


class PaymentInProgress(DomainError):
    """A payment towards this invoice is still being processed; paying it again could pay twice."""

    def __init__(self, amount: Money, invoice_number: str = "") -> None:
        super().__init__(f"a payment of {amount} towards {invoice_number or 'these invoices'} is processing")
        self.amount = amount
        self.invoice_number = invoice_number


class InvalidPaymentDetails(DomainError):
    """A field of the card or account form is wrong; ``message`` says what, for that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class GatewayUnavailable(DomainError):
    """The gateway could not be reached, or failed on its side, so what it did is unknown.

    Unlike a refusal, the request may have been carried out: money may have moved. The attempt stays
    open; ``retrieve`` (with ``gateway_payment_id``, when a charge got that far) or a webhook settles it.
    """

    def __init__(self, operation: str, gateway_payment_id: str = "") -> None:
        super().__init__(f"no clear answer from the gateway to the {operation} request")
        self.operation = operation
        self.gateway_payment_id = gateway_payment_id


class PaymentInDoubt(DomainError):
    """A payment attempt whose outcome we do not know yet: the gateway may have charged it.

    It stays pending, its invoices reserved, until reconciliation (or a webhook) books the gateway's
    answer; paying again meanwhile is refused, so the customer is never charged twice.
    """

    def __init__(self, payment_public_id: str, amount: Money) -> None:
        super().__init__(f"payment {payment_public_id} of {amount} is being confirmed")
        self.payment_public_id = payment_public_id
        self.amount = amount


class PayLinkUnusable(DomainError):
    """A pay link that cannot be used: ``reason`` is unknown, expired, revoked, paid, voided, or
    throttled (too many tries from one address, or too many payments through one link)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"pay link {reason}")
        self.reason = reason


class PaymentNotStarted(DomainError):
    """Something failed before the payment attempt was stored, so the gateway was never asked."""

    def __init__(self) -> None:
        super().__init__("the payment could not be started; nothing was charged")


class TextTooLong(DomainError):
    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"{field} is longer than {limit} characters")
        self.field = field
        self.limit = limit


class CommentRejected(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # empty | too_long


class QuoteExpired(DomainError):
    """A quote whose valid-until day has passed (in the business's time zone): no answer is taken."""

    def __init__(self, number: str, valid_until: date) -> None:
        super().__init__(f"quote {number} expired after {valid_until}")
        self.number = number
        self.valid_until = valid_until


class SignInRefused(DomainError):
    """Unknown e-mail, wrong password or a disabled login: one answer for all, so none is revealed."""


class SignInLocked(DomainError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class InvalidDetails(DomainError):
    """Fields of a form are wrong: ``errors`` maps each field to the sentence shown beside it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = dict(errors)


class WrongCurrentPassword(DomainError):
    """The current password, asked for again before changing it, is not correct."""


class PasswordMismatch(DomainError):
    """The new password and its repetition differ."""


class WeakPassword(DomainError):
    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems  # sentences, as shown beside the field while typing


class PasswordUnchanged(DomainError):
    """The new password is the current one."""


class InvalidToken(DomainError):
    """A set-password link that cannot be used: ``reason`` is used, expired, replaced or unknown.

    ``purpose`` (invite | reset) is known for a link that exists; a tampered link is unknown.
    """

    def __init__(self, reason: str, purpose: str = "") -> None:
        super().__init__(f"{purpose or 'password'} link {reason}")
        self.reason = reason
        self.purpose = purpose


class ContactHasLogin(DomainError):
    """An invitation for an address whose person has set a password already."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email} already has a login")
        self.email = email


class EmailTaken(DomainError):
    """An invitation for an address that is the login of another client's contact."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is another client's login")
        self.email = email


class TextRequired(DomainError):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is empty")
        self.field = field


class TextHasControlCharacters(DomainError):
    """A one-line text (a subject) holds a line break or another control character."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} contains a control character")
        self.field = field


class MessageLimitReached(LimitReached):
    rule = N_("You can send {limit} messages an hour.")  # translated where it is shown


class InvalidRating(DomainError):
    def __init__(self, rating: object) -> None:
        super().__init__(f"rating {rating!r} is not 1 to 5")
        self.rating = rating


class ReviewLimitReached(LimitReached):
    rule = N_("You can write {limit} reviews a day. Thank you!")  # translated where it is shown


class CommentLimitReached(LimitReached):
    rule = N_("You can post {limit} comments an hour.")  # translated where it is shown


class RefundRequestLimitReached(LimitReached):
    rule = N_("You can ask for {limit} refunds a day.")  # translated where it is shown


class ApiKeyRefused(DomainError):
    """An API request without a key, or with an unknown or revoked one: one answer for all."""


class CurrencyFixed(DomainError):
    """A client's currency cannot change once a document or payment in it exists."""

    def __init__(self, client: str, currency: str) -> None:
        super().__init__(f"{client} has documents in {currency}")
        self.client = client
        self.currency = currency


class ContactDisabled(DomainError):
    """An invitation for a contact whose portal access is disabled."""

    def __init__(self, email: str) -> None:
        super().__init__(f"{email} is disabled")
        self.email = email


class InvitationLimitReached(DomainError):
    def __init__(self, limit: int, until: datetime) -> None:
        super().__init__(f"{limit} invitations an hour; next at {until.isoformat()}")
        self.limit = limit
        self.until = until


class AlreadySetUp(DomainError):
    """The portal has its business and owner already; setting it up again is refused."""

    def __init__(self) -> None:
        super().__init__("the portal is set up already")


class OwnerOnly(DomainError):
    """Only the business's owner may do this (settings, staff accounts, API keys)."""

    def __init__(self, staff_user_id: int, role: str) -> None:
        super().__init__(f"staff user {staff_user_id} is {role}, not owner")
        self.staff_user_id = staff_user_id
        self.role = role


class InvalidPeriod(DomainError):
    """A custom range the statement cannot cover; ``message`` says why, for people."""

    def __init__(self, problem: str, message: str) -> None:
        super().__init__(f"{problem}: {message}")
        self.problem = problem  # missing | not_a_date | out_of_range | end_before_start | too_long
        self.message = message


class SmtpTestFailed(DomainError):
    """The test e-mail did not go out; ``reason`` says why in plain words, for the owner."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WrongTwoFactorCode(DomainError):
    """A code from the authenticator app (or a recovery code) that is wrong, expired or used already."""


class WrongTwoFactorProof(DomainError):
    """Neither a current code nor the password, asked for before two-factor sign-in is changed."""


class SecondStepExpired(DomainError):
    """The second step of a sign-in that is unknown, expired, spent, or no longer needed."""


class TwoFactorAlreadyOn(DomainError):
    """Setting two-factor sign-in up for someone who has it on already."""


class TwoFactorNotOn(DomainError):
    """Turning off, resetting or renewing the codes of two-factor sign-in that is not on."""


class TwoFactorRequired(DomainError):
    """A staff member turning off two-factor sign-in that the business requires."""


class OwnTwoFactorFirst(DomainError):
    """The owner requires two-factor sign-in of all staff before having it on themselves."""


class OwnTwoFactorReset(DomainError):
    """The owner resetting their own two-factor sign-in, which they turn off in My account instead."""


def _wait_until(until: datetime, now: datetime | None) -> str:
    """When a limited action may go again, as people say it: "in 12 minutes", "in 5 hours"."""
    if now is None:
        return _("later")
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    if minutes <= 90:
        return ngettext("in {count} minute", "in {count} minutes", minutes).format(count=minutes)
    hours = -(-minutes // 60)
    return ngettext("in {count} hour", "in {count} hours", hours).format(count=hours)


def human_message(error: Exception, *, now: datetime | None = None, locale: str | None = None) -> str:
    """The sentence shown to a person for a domain error, in the reader's language.

    Words that come with the error as data (a field's name, a status, a problem such as "is empty")
    are translated as terms (``services.i18n.terms``), so a sentence may read "The {field} {problem}."
    in any language the catalogues give it.
    """
    where = locale or formatting_locale()

    def money(value: Money) -> str:
        return format_money(value, where)

    match error:
        case NotFound():
            return _("This item does not exist or is not yours to see.")
        case InvalidAmount(amount=amount, problem=problem):
            return _("The amount {amount} {problem}.").format(amount=money(amount), problem=term(problem))
        case AmountTooLarge(name=name, amount=amount, limit=limit, line=line, of=of):
            values = {"name": term(name), "amount": money(amount), "limit": money(limit), "line": line}
            on_line = _(
                "Line {line}: the {name} {amount} is more than {limit}, the most one document can carry."
            )
            if of == "document":
                message = (
                    on_line
                    if line
                    else _("The {name} {amount} is more than {limit}, the most one document can carry.")
                )
            else:
                message = (
                    _("Line {line}: the {name} {amount} is more than {limit}, the most one {of} can be.")
                    if line
                    else _("The {name} {amount} is more than {limit}, the most one {of} can be.")
                )
            return message.format(of=term(of), **values)
        case InvalidNumber(problem="empty", field=field):
            return _("Enter the {field}.").format(field=term(field))
        case InvalidNumber(problem="negative", field=field):
            return _("The {field} cannot be negative.").format(field=term(field))
        case InvalidNumber(problem="ambiguous", text=text, readings=(first, second), decimal_sign=sign):
            return _(
                "“{text}” could mean {first} or {second}, so it was not used. "
                "Here “{sign}” marks the decimals, as in {example}."
            ).format(text=text, first=first, second=second, sign=sign, example=error.example)
        case InvalidNumber(problem="decimals", currency=currency, decimals=0, decimal_sign=sign) if currency:
            return _("Amounts in {currency} are whole numbers: type the {field} without “{sign}”.").format(
                currency=currency, field=term(error.field), sign=sign
            )
        case InvalidNumber(problem="decimals", currency=currency, decimals=places) if currency:
            return ngettext(
                "Amounts in {currency} have at most {count} decimal.",
                "Amounts in {currency} have at most {count} decimals.",
                places,
            ).format(currency=currency, count=places)
        case InvalidNumber(problem="decimals", decimals=0, field=field):
            return _("Enter the {field} as a whole number.").format(field=term(field))
        case InvalidNumber(problem="decimals", decimals=places, field=field):
            return ngettext(
                "Enter the {field} with at most {count} decimal.",
                "Enter the {field} with at most {count} decimals.",
                places,
            ).format(field=term(field), count=places)
        case InvalidNumber(problem="too_large", field=field, limit=limit):
            return _("The {field} can be at most {limit}.").format(field=term(field), limit=limit)
        case InvalidNumber(field=field, example=example):
            return _("Enter the {field} as a number, like {example}.").format(
                field=term(field), example=example
            )
        case WrongCurrency(expected=expected, given=given):
            return _("Amounts must be in {expected}, not {given}.").format(expected=expected, given=given)
        case CurrencyMismatch():
            return _("Amounts in different currencies cannot be combined.")
        case UnknownCurrency(code=code):
            return _("{code} is not a known currency code.").format(code=code)
        case InvalidLine(position=position, field=field, problem=problem):
            return _("Line {line}: the {field} {problem}.").format(
                line=position, field=term(field), problem=term(problem)
            )
        case InvoiceNotPayable(invoice_number=number, status=status):
            return _("Invoice {number} is {status} and cannot be paid.").format(
                number=number, status=term(status.replace("_", " "))
            )
        case AmountExceedsBalance(invoice_number=number, balance=balance, requested=requested):
            return _("{requested} is more than the {balance} due on invoice {number}.").format(
                requested=money(requested), balance=money(balance), number=number
            )
        case InvalidStatusChange(document=document, number=number, status=status, wanted=wanted):
            return _("The {document} {number} is {status} and cannot be {wanted}.").format(
                document=term(document),
                number=number,
                status=term(status.replace("_", " ")),
                wanted=term(wanted),
            )
        case DocumentHasApplications(document=document, number=number):
            return _("The {document} {number} has payments or credits applied; remove them first.").format(
                document=term(document), number=number
            )
        case InsufficientCredit(source=source, available=available, requested=requested):
            return _("Only {available} of {source} is available; {requested} was asked for.").format(
                available=money(available), source=term(source), requested=money(requested)
            )
        case CreditNoLongerAvailable(source=source, available=available, planned=planned):
            return _(
                "Only {available} of your {source} can be used now, not the {planned} this payment was to "
                "use, so nothing was charged. Please check the amounts and pay again."
            ).format(available=money(available), source=term(source), planned=money(planned))
        case InvalidEmail(field=field, value=value, problem=problem):
            shown = value if len(value) <= 60 else value[:57] + "..."
            name = {"to": "address", "reply_to": "reply-to address"}.get(field, field.replace("_", " "))
            if shown:
                return _("The {name} {value} {problem}.").format(
                    name=term(name), value=repr(shown), problem=term(problem)
                )
            return _("The {name} {problem}.").format(name=term(name), problem=term(problem))
        case LimitReached(limit=limit, until=until):
            again = _wait_until(until, now or error.at)
            return _("{rule} Please try again {when}.").format(
                rule=_(error.rule).format(limit=limit), when=again
            )
        case PaymentInProgress(amount=amount, invoice_number=number):
            return _(
                "A payment of {amount} towards invoice {number} is still being processed. "
                "Please wait for it to finish before paying that part again."
            ).format(amount=money(amount), number=number)
        case InvalidPaymentDetails(message=message):
            return term(message)
        case PaymentInDoubt(amount=amount):
            return _(
                "Your payment of {amount} is being confirmed; you will not be charged twice. "
                "We are confirming it with the payment service and will update your invoices and e-mail "
                "your receipt as soon as it is confirmed."
            ).format(amount=money(amount))
        case PaymentNotStarted():
            return _(
                "The payment could not be started, so nothing was charged. Please try again in a moment."
            )
        case GatewayUnavailable():
            return _(
                "The payment service did not answer clearly, so we cannot tell yet whether the payment went "
                "through. Please do not pay again: we check with the payment service and update your "
                "invoices and e-mail your receipt as soon as it answers."
            )
        case TextTooLong(field=field, limit=limit):
            return _("The {field} can be at most {limit} characters long.").format(
                field=term(field), limit=format_decimal(limit, locale=where)
            )
        case QuoteExpired(number=number, valid_until=valid_until):
            return _(
                "Quote {number} was valid until {day} and can no longer be accepted or declined. Ask us "
                "for a new quote."
            ).format(number=number, day=format_day(valid_until, where))
        case CommentRejected(reason="empty"):
            return _("Write something before sending the comment.")
        case CommentRejected():
            return _("The comment is too long; please keep it under 2,000 characters.")
        case SignInLocked(until=until):
            minutes = max(1, -(-int((until - now).total_seconds()) // 60)) if now else 15
            return ngettext(
                "Too many failed sign-in attempts. For your security, sign-in is paused; "
                "try again in {count} minute.",
                "Too many failed sign-in attempts. For your security, sign-in is paused; "
                "try again in {count} minutes.",
                minutes,
            ).format(count=minutes)
        case SignInRefused():
            return _("The e-mail address or password is not correct.")
        case InvalidDetails(errors=errors):
            count = len(errors)
            if not count:
                return _("Nothing was saved: some details need correcting.")
            return ngettext(
                "Nothing was saved: {count} field needs correcting.",
                "Nothing was saved: {count} fields need correcting.",
                count,
            ).format(count=count)
        case WrongCurrentPassword():
            return _("The current password is not correct.")
        case PasswordMismatch():
            return _("The new password and its confirmation do not match.")
        case WeakPassword(problems=problems):
            # "stronger" would not fit a password refused for being too long
            return " ".join((_("Please choose another password."), *(term(problem) for problem in problems)))
        case PasswordUnchanged():
            return _("The new password must be different from the current one.")
        case PayLinkUnusable(reason=reason):
            return {
                "expired": _("This payment link has expired. Please ask the business for a new one."),
                "revoked": _(
                    "This payment link was withdrawn by the business. Please ask them for a new one."
                ),
                "paid": _("This invoice is paid. Thank you!"),
                "voided": _("This invoice was cancelled: there is nothing to pay."),
                "throttled": _("Too many tries from here. Please wait an hour and try again."),
            }.get(reason, _("This payment link is not valid. Please check that you copied all of it."))
        case InvalidToken(reason=reason, purpose=purpose):
            ask = (
                _("Please ask the business to send you a new invitation.")
                if purpose == "invite"
                else _("You can ask for a new one with “Forgot password?” on the sign-in page.")
            )
            if reason == "used":
                return _("This link has already been used; each link works only once. {ask}").format(ask=ask)
            if reason == "expired":
                return _("This link has expired. {ask}").format(ask=ask)
            if reason == "replaced":
                return _(
                    "This link no longer works: a newer link was sent, or the password was set, since. "
                    "Please use the link in the latest e-mail. {ask}"
                ).format(ask=ask)
            return _(
                "This link is not valid. Please check that you opened the whole link from the e-mail, "
                "or ask for a new one with “Forgot password?” on the sign-in page."
            )
        case ContactHasLogin(email=email):
            return _(
                "{email} has a login to the portal already. If the password is forgotten, "
                "“Forgot password?” on the sign-in page sends a new link."
            ).format(email=email)
        case EmailTaken(email=email):
            return _(
                "{email} is already the login of another customer; each login needs its own address."
            ).format(email=email)
        case TextRequired(field="subject"):
            return _("Please enter a subject.")
        case TextRequired(field=field):
            return _("Please write a {field}.").format(field=term(field))
        case TextHasControlCharacters(field=field):
            return _("The {field} must be a single line without special control characters.").format(
                field=term(field)
            )
        case InvalidRating():
            return _("Please choose a rating from 1 to 5 stars.")
        case ApiKeyRefused():
            return "A valid API key is needed: send it as 'Authorization: Bearer <key>'."  # for programs
        case CurrencyFixed(client=client, currency=currency):
            return _("{client} already has documents in {currency}, so its currency cannot change.").format(
                client=client, currency=currency
            )
        case ContactDisabled(email=email):
            return _("{email} is disabled. Enable the contact before sending an invitation.").format(
                email=email
            )
        case InvitationLimitReached(limit=limit, until=until):
            wait = max(1, -(-int((until - now).total_seconds()) // 60)) if now else 60
            return ngettext(
                "At most {limit} invitations an hour can be sent to one contact. "
                "Please try again in {count} minute.",
                "At most {limit} invitations an hour can be sent to one contact. "
                "Please try again in {count} minutes.",
                wait,
            ).format(limit=limit, count=wait)
        case AlreadySetUp():
            done = _("This portal has been set up already, so nothing was changed.")
            return " ".join((done, _("The owner signs in at /admin/login.")))
        case OwnerOnly():
            return _("Only the owner of the business can do this.")
        case WrongTwoFactorCode():
            return _(
                "That code is not correct, or it was used already. Enter the newest 6-digit code from "
                "your authenticator app, or one of your recovery codes."
            )
        case WrongTwoFactorProof():
            return _(
                "Neither a current code from your authenticator app nor your password: nothing was changed."
            )
        case SecondStepExpired():
            return _("This sign-in has expired or was finished already. Please sign in again.")
        case TwoFactorAlreadyOn():
            return _("Two-factor sign-in is on already.")
        case TwoFactorNotOn():
            return _("Two-factor sign-in is not on.")
        case TwoFactorRequired():
            return _("Your business requires two-factor sign-in for all staff, so it cannot be turned off.")
        case OwnTwoFactorFirst():
            return _(
                "Turn on two-factor sign-in for your own account first (My account), "
                "then require it for all staff."
            )
        case OwnTwoFactorReset():
            return _("To change your own two-factor sign-in, use My account.")
        case InvalidPeriod(message=message) | SmtpTestFailed(reason=message):
            return term(message)
        case _unknown:
            return _("Something went wrong. Nothing was changed; please try again.")
