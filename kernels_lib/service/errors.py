"""How errors cross the wire: the hub answers an error, the client raises it again.

Each :class:`ErrorRule` names an exception type, the HTTP status the service answers for it,
a stable ``code`` sent in the body as ``"error"``, an optional ``reason`` (the older
machine-readable field some clients read, e.g. ``"quota"``), the extra body fields that
carry the error's attributes, and how the client builds the same exception back from the
body. The one table of the platform is :data:`terralab.service.error_table.ERRORS`.

An error's body is ``{"status": code, "message": text, "error": code-name[, "reason": …,
…fields]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NoReturn

__all__ = ["ErrorRule", "ErrorTable", "ServiceError"]


class ServiceError(RuntimeError):
    """The hub service refused a call with an answer no rule names; the message is its own.

    Attributes:
        status: the HTTP status.
        body: the JSON body of the answer (``{"status", "message", …}``).
    """

    def __init__(self, status: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {}


Details = Callable[[BaseException], Mapping[str, Any]]
Rebuild = Callable[[str, Mapping[str, Any]], BaseException]


@dataclass(frozen=True)
class ErrorRule:
    """One line of the error table.

    Attributes:
        error: the exception type (its subclasses follow it unless they have a rule).
        status: the HTTP status answered.
        code: the stable name sent as ``"error"`` in the body.
        reason: the ``"reason"`` field sent too, for clients that read it (None: none).
        details: the extra body fields from an exception (its attributes).
        rebuild: the exception from ``(message, body)`` on the client; default
            ``error(message)``.
        status_for: the status of a given exception, where it depends on the exception
            (an upload over the quota is 413, other refused uploads 400); default ``status``.
        also: the other statuses ``status_for`` may answer (for the OpenAPI document).
    """

    error: type[BaseException]
    status: int
    code: str
    reason: str | None = None
    details: Details | None = None
    rebuild: Rebuild | None = None
    status_for: Callable[[BaseException], int] | None = None
    also: tuple[int, ...] = ()

    def status_of(self, error: BaseException) -> int:
        """The HTTP status answering ``error``."""
        return int(self.status_for(error) if self.status_for is not None else self.status)

    def body(self, error: BaseException) -> dict[str, Any]:
        """The JSON body answering ``error``."""
        body: dict[str, Any] = {"status": self.status_of(error), "message": _message(error),
                                "error": self.code}
        if self.reason is not None:
            body["reason"] = self.reason
        if self.details is not None:
            body.update(self.details(error))
        return body

    def build(self, message: str, body: Mapping[str, Any]) -> BaseException:
        """The exception a client raises for an answer of this rule."""
        if self.rebuild is not None:
            return self.rebuild(message, body)
        return self.error(message)


def _message(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, KeyError) and type(error).__str__ is KeyError.__str__ and error.args:
        text = str(error.args[0])  # KeyError's str() quotes its message
    return text or type(error).__name__


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


class ErrorTable:
    """The exception ↔ answer table, looked up by exception type or by ``code``.

    Args:
        rules: the rules; for an exception the rule of its most specific class is taken.
    """

    def __init__(self, rules: Iterable[ErrorRule]) -> None:
        self.rules = tuple(rules)
        self._by_type = {rule.error: rule for rule in self.rules}
        self._by_code = {rule.code: rule for rule in self.rules}
        if len(self._by_code) != len(self.rules) or len(self._by_type) != len(self.rules):
            raise ValueError("each error type and each code has one rule")

    def __iter__(self) -> Iterator[ErrorRule]:
        return iter(self.rules)

    def rule_for(self, error: BaseException | type[BaseException]) -> ErrorRule | None:
        """The rule of ``error``'s most specific class that has one (None: no rule)."""
        kind = error if isinstance(error, type) else type(error)
        for cls in kind.__mro__:
            rule = self._by_type.get(cls)
            if rule is not None:
                return rule
        return None

    def answer(self, error: BaseException) -> tuple[int, dict[str, Any]] | None:
        """The status and body answering ``error``; None when no rule covers it."""
        rule = self.rule_for(error)
        if rule is None:
            return None
        return rule.status_of(error), rule.body(error)

    def answer_known(self, error: BaseException) -> tuple[int, dict[str, Any]]:
        """The status and body answering ``error``, whose type has a rule.

        Raises:
            LookupError: when no rule covers it (a defect of the caller).
        """
        answer = self.answer(error)
        if answer is None:
            raise LookupError(f"the error table has no rule for {type(error).__name__}")
        return answer

    def error_for(self, status: int, body: Mapping[str, Any]) -> BaseException:
        """The exception a client raises for an answer: its rule's, else :class:`ServiceError`."""
        message = str(body.get("message") or "") or _phrase(status)
        rule = self._by_code.get(str(body.get("error") or ""))
        if rule is None and body.get("reason"):  # an answer of a service before the codes
            rule = next((r for r in self.rules
                         if r.reason == body["reason"] and int(r.status) == status), None)
        if rule is not None:
            return rule.build(message, body)
        return ServiceError(status, message, dict(body))

    def raise_for(self, status: int, body: Mapping[str, Any]) -> NoReturn:
        """Raise :meth:`error_for` of an answer."""
        raise self.error_for(status, body)

    def statuses(self, errors: Iterable[type[BaseException]]) -> dict[int, list[ErrorRule]]:
        """The rules of ``errors`` (and of their subclasses in the table) by status."""
        found: dict[int, list[ErrorRule]] = {}
        for rule in self.rules:
            if any(issubclass(rule.error, kind) for kind in errors):
                for status in (rule.status, *rule.also):
                    found.setdefault(int(status), []).append(rule)
        return found
