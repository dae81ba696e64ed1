"""The business on Home: its contact details as links, Send Email to it, and Write Review."""

from __future__ import annotations

from urllib.parse import quote

from nicegui import ui

from components.cards import Detail, Link
from components.headings import dialog_title
from components.offload import io_bound
from services.account_details import dial_uri, website_url
from services.contact_business import send_message
from services.dashboard import BusinessContact
from services.errors import DomainError, human_message
from services.i18n import _, ngettext
from services.portal import Portal
from services.principal import Principal
from services.reviews import submit_review

SUBJECT_LIMIT = 150
MESSAGE_LIMIT = 5000
REVIEW_LIMIT = 2000


def contact_details(business: BusinessContact) -> list[tuple[str, Detail]]:
    """The business's address, and its phone, e-mail and website as links a phone or a mail program
    opens: the number dialled in E.164 (read as a number of the business's country when written without
    its country code), the site opened in a tab of its own. A detail that cannot be a link is text."""
    phone: Detail = business.phone
    if dialled := dial_uri(business.phone, business.address.country):
        phone = Link(business.phone, dialled)
    website: Detail = business.website
    if address := website_url(business.website):
        website = Link(business.website, address, new_tab=True, new_tab_note=_("opens in a new tab"))
    email: Detail = (
        Link(business.email, "mailto:" + quote(business.email, safe="@")) if business.email else ""
    )
    return [
        (_("Address"), business.address.lines()),
        (_("Phone"), phone),
        (_("Email"), email),
        (_("Website"), website),
    ]


class SendEmailDialog:
    def __init__(self, portal: Portal, principal: Principal, business: str) -> None:
        self.portal, self.principal = portal, principal
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-3 p-6") as self.card:
            dialog_title(self.dialog, _("Send Email to {business}").format(business=business))
            ui.label(_("They reply to {email}.").format(email=principal.email)).classes("text-sm text-grey-7")
            self.subject = (
                ui.input(_("Subject")).props(f"outlined maxlength={SUBJECT_LIMIT} counter").classes("w-full")
            ).mark("email-subject")
            self.message = (
                ui.textarea(_("Message"))
                .props(f"outlined autogrow maxlength={MESSAGE_LIMIT} counter")
                .classes("w-full")
                .mark("email-message")
            )
            self.error = ui.label().classes("text-sm text-negative").mark("email-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.send = ui.button(_("Send"), icon="send", on_click=self.submit).props(
                    "unelevated no-caps"
                )
                self.send.mark("email-send")

    async def submit(self) -> None:
        self.send.props("loading")
        self.error.text = ""
        try:
            sent = await io_bound(
                send_message,
                self.portal.db,
                self.principal,
                self.subject.value or "",
                self.message.value or "",
                events=self.portal.events,  # the business's open inbox shows it
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error, now=self.portal.clock())
            return
        finally:
            self.send.props(remove="loading")
        self.card.clear()
        with self.card:
            ui.icon("mark_email_read").classes("text-4xl text-positive")
            dialog_title(self.dialog, _("Your message is sent."))  # the dialog keeps a name
            ui.label(
                _("The business will answer by e-mail.")
                if sent.emailed
                else _("It is waiting in the business's inbox in the portal.")
            ).classes("text-sm text-grey-8")
            ui.button(_("Close"), on_click=self.dialog.close).props("unelevated no-caps").classes("self-end")


class ReviewDialog:
    def __init__(self, portal: Portal, principal: Principal, business: str) -> None:
        self.portal, self.principal = portal, principal
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-3 p-6") as self.card:
            dialog_title(self.dialog, _("Write a Review of {business}").format(business=business))
            ui.label(_("How was working with us?")).classes("text-sm text-grey-7")
            self.rating = ui.rating(value=0, max=5, size="2rem", icon="star_border", icon_selected="star")
            # Each star is named for what it gives (Quasar would read its icon's name: "star_border 4").
            rating = _("Rating, 1 to 5 stars")
            self.rating.props(f'color="amber-8" aria-label="{rating}"').mark("review-rating")
            self.rating.props["icon-aria-label"] = [
                ngettext("{count} star", "{count} stars", n).format(count=n) for n in range(1, 6)
            ]
            self.message = (
                ui.textarea(_("Your review"))
                .props(f"outlined autogrow maxlength={REVIEW_LIMIT} counter")
                .classes("w-full")
                .mark("review-message")
            )
            self.error = ui.label().classes("text-sm text-negative").mark("review-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = ui.button(_("Submit Review"), on_click=self.submit).props(
                    "unelevated no-caps"
                )
                self.submit_button.mark("review-submit")

    async def submit(self) -> None:
        self.submit_button.props("loading")
        self.error.text = ""
        try:
            await io_bound(
                submit_review,
                self.portal.db,
                self.principal,
                int(self.rating.value or 0),
                self.message.value or "",
                events=self.portal.events,  # the business's open inbox shows it
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error, now=self.portal.clock())
            return
        finally:
            self.submit_button.props(remove="loading")
        self.card.clear()
        with self.card:
            ui.icon("favorite").classes("text-4xl text-pink-6")
            dialog_title(self.dialog, _("Thank you for your review!"))  # the dialog keeps a name
            ui.label(_("It means a lot to us.")).classes("text-sm text-grey-8")
            ui.button(_("Close"), on_click=self.dialog.close).props("unelevated no-caps").classes("self-end")
