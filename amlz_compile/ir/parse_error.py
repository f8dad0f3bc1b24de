"""The one error of reading a program's text or JSON form: where it is and what is wrong."""

from __future__ import annotations

from ..errors import AmlzError


class ParseError(AmlzError, ValueError):
    """Text or JSON that is not a valid program; the message names the place and the problem.

    `problem` is the bare problem, `line_no` (1-based) and `line` locate it when known, and
    `source` names the file.
    """

    def __init__(
        self,
        problem: str,
        *,
        line_no: int | None = None,
        line: str | None = None,
        source: str | None = None,
    ) -> None:
        self.problem, self.line_no, self.line, self.source = problem, line_no, line, source
        msg = problem
        if line is not None:
            msg = f"{msg}: {line.strip()!r}"
        if line_no is not None:
            msg = f"line {line_no}: {msg}"
        if source is not None:
            msg = f"{source}: {msg}"
        super().__init__(msg)

    def located(self, *, line_no: int | None = None, source: str | None = None) -> ParseError:
        """A copy with a line number and/or source added (existing ones are kept)."""
        return ParseError(
            self.problem,
            line_no=self.line_no if self.line_no is not None else line_no,
            line=self.line,
            source=self.source if self.source is not None else source,
        )
