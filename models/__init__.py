"""SQLAlchemy models, one module per noun. Importing this package registers every table."""

from models.api_key import ApiKey
from models.auto_pay import AutoPayAttempt, AutoPayConsent, AutoPaySettings
from models.backup_schedule import BackupSchedule
from models.base import Base
from models.business_settings import IntegrationSettings, TaxRate
from models.client import Client, PortalUser
from models.conversation import Comment, Message, Review
from models.credit_note import CreditNote, CreditNoteLine, CreditNoteStatus
from models.invoice import OPEN_INVOICE_STATUSES, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from models.organization import NumberSequence, Organization, StaffUser
from models.outbox import EmailDeliveryAttempt, OutboxAttachment, OutboxEmail, ProcessedWebhookEvent
from models.pay_link import PayLink
from models.payment import Allocation, AllocationKind, Payment, PaymentKind, PaymentMethodKind, PaymentStatus
from models.payment_method import GatewayCustomer, SavedPaymentMethod
from models.quote import Quote, QuoteLine, QuoteStatus
from models.recurring_invoice import RecurringProfile, RecurringProfileLine, RecurringRun, RecurringStatus
from models.refund import Refund, RefundRequest, RefundRequestStatus, RefundSource, RefundStatus
from models.reminder import InvoiceLateFee, InvoiceReminder, ReminderSettings, ReminderText
from models.sandbox_charge import SandboxCharge
from models.scheduled_job import ScheduledJob
from models.security import AuditEvent, LoginSession, LoginThrottle, PasswordToken
from models.two_factor import RecoveryCode, SignInChallenge, TwoFactorCredential

__all__ = [
    "OPEN_INVOICE_STATUSES",
    "Allocation",
    "AllocationKind",
    "ApiKey",
    "AuditEvent",
    "AutoPayAttempt",
    "AutoPayConsent",
    "AutoPaySettings",
    "BackupSchedule",
    "Base",
    "Client",
    "Comment",
    "CreditNote",
    "CreditNoteLine",
    "CreditNoteStatus",
    "EmailDeliveryAttempt",
    "GatewayCustomer",
    "IntegrationSettings",
    "Invoice",
    "InvoiceKind",
    "InvoiceLateFee",
    "InvoiceLine",
    "InvoiceReminder",
    "InvoiceStatus",
    "LoginSession",
    "LoginThrottle",
    "Message",
    "NumberSequence",
    "Organization",
    "OutboxAttachment",
    "OutboxEmail",
    "PasswordToken",
    "PayLink",
    "Payment",
    "PaymentKind",
    "PaymentMethodKind",
    "PaymentStatus",
    "PortalUser",
    "ProcessedWebhookEvent",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
    "RecoveryCode",
    "RecurringProfile",
    "RecurringProfileLine",
    "RecurringRun",
    "RecurringStatus",
    "Refund",
    "RefundRequest",
    "RefundRequestStatus",
    "RefundSource",
    "RefundStatus",
    "ReminderSettings",
    "ReminderText",
    "Review",
    "SandboxCharge",
    "SavedPaymentMethod",
    "ScheduledJob",
    "SignInChallenge",
    "StaffUser",
    "TaxRate",
    "TwoFactorCredential",
]
