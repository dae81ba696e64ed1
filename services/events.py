"""Change notices between the services and open pages in this process.

A service bumps a topic's version after its transaction commits; an open page compares the version
it last showed and refreshes when it moved. Versions are plain counters, so reading them costs no
database query and works from any thread.
"""

from __future__ import annotations

import threading
from collections import defaultdict


class Events:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: defaultdict[str, int] = defaultdict(int)

    def publish(self, topic: str) -> None:
        with self._lock:
            self._versions[topic] += 1

    def version(self, topic: str) -> int:
        with self._lock:
            return self._versions[topic]


def invoice_comments_topic(invoice_public_id: str) -> str:
    return f"invoice:{invoice_public_id}:comments"


def client_documents_topic(client_public_id: str) -> str:
    """Moves when the business sends, voids or credits a document of this client, or books a payment
    or refund for it: the client's open dashboard, invoice list and invoice pages refresh."""
    return f"client:{client_public_id}:documents"


def customer_sessions_topic(portal_user_id: int) -> str:
    """Moves when a session of this customer contact may have ended (sign-out, a password change or
    reset, access disabled): their open pages check whether theirs still stands."""
    return f"portal_user:{portal_user_id}:sessions"


def staff_sessions_topic(staff_user_id: int) -> str:
    """Moves when a session of this staff member may have ended, or their role changed (sign-out,
    disabled, owner made staff): their open back-office pages check whether theirs still stands."""
    return f"staff_user:{staff_user_id}:sessions"


BUSINESS_INBOX_TOPIC = "business:inbox"
"""Moves when a customer comments, writes a message, leaves a review or asks for a refund."""
