"""The command line in one language: its help resolved through the catalogue.

typer reads a parameter's ``help`` when the function is declared, before the
language is known. So the verbs declare no help of their own; :func:`command`
builds the click command tree of the app and sets every help text (app, verb,
argument, option, ``--help``) from :data:`creditsup.i18n.HELP` in the language
of the run. :func:`creditsup._cli.run` and the documentation's CLI reference
both go through it, so what they show is the catalogue's text.
"""

from __future__ import annotations

from typing import Any

import typer
import typer.rich_utils

from creditsup._cli._common import app
from creditsup.i18n import help_text

__all__ = ["command", "help_keys"]

#: The titles of typer's help panels, in Chinese (English: typer's own).
_PANELS = {"argument": "参数", "option": "选项", "command": "命令"}
#: typer's own words in a help page (English: typer's own values).
_WORDS = {
    "REQUIRED_LONG_STRING": "[必填]",
    "DEFAULT_STRING": "[默认：{}]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "DEPRECATED_STRING": "（已弃用） ",
}
_ENGLISH = {k: getattr(typer.rich_utils, k) for k in _WORDS}
_USAGE = {"zh": "用法：", "en": "Usage: "}


def _typer_words(lang: str) -> None:
    """typer's words ("[required]", "[default: …]") in ``lang``."""
    for k, v in (_WORDS if lang == "zh" else _ENGLISH).items():
        setattr(typer.rich_utils, k, v)


def _usage_in(cmd: Any, lang: str) -> None:
    """The usage line of ``cmd`` starts with "用法：" in Chinese."""
    base = cmd.context_class
    fmt_base = base.formatter_class

    class Formatter(fmt_base):  # type: ignore[misc, valid-type]
        def write_usage(
            self, prog: str, args: str = "", prefix: str | None = None
        ) -> None:
            super().write_usage(prog, args, _USAGE[lang] if prefix is None else prefix)

    cmd.context_class = type(base.__name__, (base,), {"formatter_class": Formatter})
    if lang == "zh":
        cmd.options_metavar = "[选项]"
        if getattr(cmd, "subcommand_metavar", None):
            cmd.subcommand_metavar = "命令 [参数]..."


# typer bundles its own click: the objects are used by their attributes only.
def _params(cmd: Any) -> list[Any]:
    """The parameters of ``cmd``, its ``--help`` included."""
    helper = cmd.get_help_option(cmd.context_class(cmd, info_name=cmd.name))
    return [*cmd.params, *([helper] if helper is not None else [])]


def _localise(cmd: Any, key: str, lang: str) -> None:
    text = help_text(key, lang)
    if text is not None:
        cmd.help, cmd.short_help = text, None
    for param in _params(cmd):
        text = help_text(f"{key}.{param.name}", lang)
        if text is not None:
            param.help = text
        if lang == "zh":
            param.rich_help_panel = _PANELS[param.param_type_name]


def command(lang: str) -> Any:
    """The app as a click group whose help speaks ``lang`` (``zh`` or ``en``).

    Call its ``main(args=..., standalone_mode=False)`` to run it.

    Examples
    --------
    >>> command("zh").commands["plan"].help.startswith("生成年度抽查计划包")
    True
    """
    group: Any = typer.main.get_command(app)
    _typer_words(lang)
    _localise(group, "creditsup", lang)
    _usage_in(group, lang)
    for name, cmd in group.commands.items():
        _localise(cmd, name, lang)
        _usage_in(cmd, lang)
        if lang == "zh":
            cmd.rich_help_panel = _PANELS["command"]
    return group


def help_keys() -> dict[str, list[str]]:
    """Every help key the app needs, per verb (``creditsup`` for the app)."""
    group: Any = typer.main.get_command(app)
    keys = {"creditsup": [f"creditsup.{p.name}" for p in _params(group)]}
    for name, cmd in group.commands.items():
        keys[name] = [name, *(f"{name}.{p.name}" for p in _params(cmd))]
    keys["creditsup"].insert(0, "creditsup")
    return keys
