"""The error answer both servers give, in Confluent's shape (pure: no HTTP here)."""

from __future__ import annotations


class ConfluentError(Exception):
    """An answer in Confluent's error shape: HTTP ``status`` and ``error_code``."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, object]:
        return {"error_code": self.error_code, "message": self.message}
