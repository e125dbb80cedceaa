"""The library's warnings on stderr, in the language of the run.

The library logs in English (``logging.getLogger(__name__)``). The command line
shows each warning as one line: in English ``WARNING <logger>: <message>``; in
Chinese ``警告：<message>`` with the message from :data:`creditsup.i18n.LOGS`
(the English template is the key, its arguments are kept), or the English
message when the catalogue has none. The draw's own warnings are shown by the
verbs that draw, from the plan's ledger (:func:`draw_warnings`), so they are
not repeated here in Chinese.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["draw_warnings", "install"]

#: The template of the draw's warnings (``creditsup.sampling.outputs``).
_DRAW_TEMPLATE = "draw %s: %s"


class _Handler(logging.Handler):
    """One line per record on the stderr of the moment, in the run's language."""

    def __init__(self, lang: Callable[[], str]) -> None:
        super().__init__(level=logging.WARNING)
        self._lang = lang

    def format(self, record: logging.LogRecord) -> str:
        from creditsup.i18n import LOGS, message

        if self._lang() != "zh":
            return f"{record.levelname} {record.name}: {record.getMessage()}"
        template = LOGS.get(str(record.msg))
        try:
            text = template % record.args if template else record.getMessage()
        except (TypeError, ValueError):  # a template that no longer fits
            text = record.getMessage()
        return message("warning", "zh") + text

    def emit(self, record: logging.LogRecord) -> None:
        if self._lang() == "zh" and record.msg == _DRAW_TEMPLATE:
            return  # said in Chinese by the verb, from the ledger
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # pragma: no cover - logging must not fail a run
            self.handleError(record)


def install(lang: Callable[[], str]) -> None:
    """Show the library's warnings through one :class:`_Handler` (idempotent)."""
    root = logging.getLogger()
    if not any(isinstance(h, _Handler) for h in root.handlers):
        root.addHandler(_Handler(lang))
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)


def draw_warnings(
    ledger: Sequence[Mapping[str, Any]], names: Mapping[str, str]
) -> list[str]:
    """The draw's warnings recorded in a plan's ledger, in Chinese.

    ``names`` maps department ids to their display names.

    Examples
    --------
    >>> rec = {"stage": "draw", "step": "warnings", "warnings": [
    ...     {"code": "no_capacity", "message": "...", "departments": ["food"]}]}
    >>> draw_warnings([rec], {"food": "食品安全科"})
    ['警告：食品安全科在允许的月份没有在岗检查人员的人力；其检查平均分配到各允许月份。']
    """
    from creditsup.i18n import draw_warning_text, message

    return [
        message("warning", "zh") + draw_warning_text(w, "zh", names)
        for record in ledger
        if record.get("stage") == "draw" and record.get("step") == "warnings"
        for w in record.get("warnings", [])
    ]
