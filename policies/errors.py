"""The one error type for a user's mistake: bad input that the command line reports in one line, exit code 2."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

__all__ = ["InputError", "Where"]


class Where(TypedDict):
    """Where in the input a mistake is: the keyword arguments of ``InputError`` (``InputError(message, **where)``)."""

    file: str | Path | None
    line: int | None
    field: str | None


class InputError(Exception):
    """Bad input from a user: a file, line and field that the message names.

    The command line catches this (and only this, plus pydantic's validation errors it converts) and prints
    ``file:line: field: message`` with exit code 2, so a user never sees a traceback for their own mistake.
    """

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as ``file:line: field: message`` with whatever parts are known."""
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return (where + field + self.message).replace("\n", " ")
