"""One instance alone: every notice stays in this process, where ``services.events`` delivers it."""

from __future__ import annotations

from services.notices import Deliver


class InProcess:
    def open(self, deliver: Deliver) -> None:
        pass

    def send(self, topic: str) -> None:
        pass

    def close(self) -> None:
        pass
