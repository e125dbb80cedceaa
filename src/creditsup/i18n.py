"""The language of what people read, and the catalogue of messages.

Chinese is used when ``--lang zh`` is given, when ``CREDITSUP_LANG=zh``, or
when the locale is ``zh_*`` (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); English
otherwise. Column names and codes in files stay English snake_case; only what
is shown changes.

Why one typed table rather than gettext/babel: creditsup has two languages
and a few dozen messages that change with the code; one table next to the
labels (:mod:`creditsup.labels`) is reviewed with the code, checked by the
tests (every key has both languages, every placeholder is filled) and needs
no compile step or extra dependency. Labels live in :mod:`creditsup.labels`;
sentences the CLI prints live here.

Examples
--------
>>> message("verified", "zh", checks="账本")
'验证通过：账本'
>>> rule_text("invalid_uscc", "zh", column="统一社会信用代码")
'不是有效的统一社会信用代码（校验位或结构错误）'
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from creditsup.labels import Lang, check_lang

__all__ = ["MESSAGES", "RULES", "YEAR_RULES", "current_lang", "message", "rule_text"]

#: Messages the command line prints: ``key -> (Chinese, English)``.
MESSAGES: Mapping[str, tuple[str, str]] = {
    "error": ("错误：", "error: "),
    "infeasible": ("无法完成：", "infeasible: "),
    "mismatch": ("不一致：", "mismatch: "),
    "verified": ("验证通过：{checks}", "verified: {checks}"),
    "valid": ("数据有效：{rows}", "valid: {rows}"),
    "failures_title": ("{n} 处数据问题", "{n} validation failure(s)"),
    "more_failures": (
        "……另有 {n} 处（用 --out 写出全部）",
        "... {n} more (use --out to write them all)",
    ),
    "by_rule": ("按规则统计：", "by rule: "),
    "dataset_invalid": (
        "数据集 {path} 有 {n} 处数据问题；运行 'creditsup validate {path}' 查看全部。",
        "The dataset {path!r} has {n} validation failure(s); run "
        "'creditsup validate {path}' for the full list.",
    ),
    "unfilled": (
        "{n} 户次检查无法派员",
        "{n} visit(s) cannot be staffed",
    ),
    "see": ("详见 {path}", "see {path}"),
    "no_command": (
        "没有给出命令。运行 'creditsup --help' 查看用法。",
        "no command given. Try 'creditsup --help'.",
    ),
    "results_recorded": (
        "已记录 {accepted} 条检查结果，{unchanged} 条此前已记录，{bad} 行有问题",
        "recorded {accepted} result(s); {unchanged} already recorded; {bad} bad row(s)",
    ),
    "followups_closed": (
        "已办结 {closed} 项后续处置，{unchanged} 项此前已办结，{bad} 行有问题",
        "closed {closed} follow-up(s); {unchanged} already closed; {bad} bad row(s)",
    ),
    "followups_state": (
        "后续处置：{open} 项在办，{overdue} 项逾期，{closed} 项已办结",
        "follow-ups: {open} open, {overdue} overdue, {closed} closed",
    ),
    "overdue_results": (
        "{n} 条检查结果超过公示期限（20 个工作日，R18）：",
        "{n} result(s) past the publication deadline (20 working days, R18):",
    ),
    "replanned": (
        "已处理 {changes} 项变动：重新抽取 {redrawn} 人次，取消 {cancelled} 户次检查，"
        "{unfilled} 户次无法派员",
        "applied {changes} change(s): {redrawn} inspector re-draw(s), "
        "{cancelled} visit(s) cancelled, {unfilled} left unfilled",
    ),
    "triggered": (
        "新增 {visits} 户次触发式检查（{unfilled} 户次无法派员），{unchanged} 行此前已记录，"
        "{bad} 行有问题",
        "added {visits} triggered visit(s) ({unfilled} unfilled); {unchanged} already "
        "recorded; {bad} bad row(s)",
    ),
    "batch_drawn": (
        "批次 {batch}：重新抽取 {visits} 户次检查的人员（{unfilled} 户次无法派员），"
        "承诺值 {commitment}…",
        "batch {batch}: {visits} visit(s) staffed anew ({unfilled} unfilled); "
        "commitment {commitment}…",
    ),
    "year_closed": (
        "新数据集 {path}：新增 {history} 条检查记录、{records} 条信用记录",
        "new dataset {path}: {history} history row(s) and {records} record(s) added",
    ),
    "internal": (
        "内部错误（{what}）。请报告此问题；设置 CREDITSUP_DEBUG=1 可查看详细信息。",
        "internal error ({what}). Please report it; set CREDITSUP_DEBUG=1 to see "
        "the traceback.",
    ),
    # what the plan cannot do of what the policy asks (issue #12)
    "capacity_short": (
        "检查力量不足：{n} 个（部门、月份）共缺 {slots} 人次",
        "capacity shortfall: {slots} inspector-slot(s) missing in {n} "
        "(department, month) group(s)",
    ),
    "capacity_line": (
        "  {department}，{month} 月：需要 {needed} 人次，可用 {available} 人次，"
        "需增加 {extra} 名检查人员",
        "  department {department}, month {month}: needs {needed} inspector-slots, "
        "has {available}; {extra} more inspector(s) needed",
    ),
    "capacity_fit": (
        '  或按比例缩减非法定部分：budget = "capacity" 将各自由裁量比例乘以 {scale}'
        "（法定底线不变）",
        '  or scale the discretionary ratios down: budget = "capacity" multiplies '
        "them by {scale} (the legal floors hold)",
    ),
    "capacity_floors": (
        "  即使只抽到法定底线也缺 {slots} 人次：须增加检查人员",
        "  even the legal floors miss {slots} inspector-slot(s): add inspectors",
    ),
    "budget_scaled": (
        '检查力量有限：自由裁量抽查比例已乘以 {scale}（budget = "capacity"），'
        "法定底线不变",
        "capacity budget: the discretionary ratios were multiplied by {scale} "
        '(budget = "capacity"); the legal floors hold',
    ),
    "floor_waived": (
        "已豁免法定底线 {floor}（要求 {required}，计划 {planned}）：{reason}",
        "floor {floor} waived (required {required}, planned {planned}): {reason}",
    ),
    "floor_missed": (
        "法定底线 {floor}：要求 {required}，实际 {realized}",
        "legal floor {floor}: required {required}, realised {realized}",
    ),
}

#: What each validation rule code means: ``rule -> (Chinese, English)``; the
#: ``{column}`` placeholder is the column's display label.
RULES: Mapping[str, tuple[str, str]] = {
    "missing_table": ("缺少必需的表", "a required table is missing"),
    "missing_column": ("缺少必需的列：{column}", "the column {column} is missing"),
    "missing_value": ("{column}不能为空", "{column} must not be empty"),
    "wrong_type": (
        "{column}的格式不对（应为数字或是/否）",
        "{column} has the wrong type",
    ),
    "bad_date": (
        "{column}应为日期，格式 YYYY-MM-DD",
        "{column} must be a date YYYY-MM-DD",
    ),
    "implausible_date": (
        "{column}的日期不合理（早于1949-10-01或晚于数据日期）",
        "{column} is not a plausible date",
    ),
    "duplicate_key": ("{column}重复：前面已有相同的一行", "duplicate {column}"),
    "invalid_uscc": (
        "不是有效的统一社会信用代码（校验位或结构错误）",
        "not a valid USCC",
    ),
    "excel_mangled_uscc": (
        "{column}被 Excel 当作数字截断了；请把该列设为“文本”格式后重新导出",
        "{column} was turned into a number by Excel; store USCCs as text",
    ),
    "unknown_enum": ("{column}的取值不在允许的范围内", "{column} has an unknown value"),
    "negative_value": ("{column}不能为负数", "{column} must not be negative"),
    "empty_legal_basis": (
        "检查依据为空：只有法律法规规章授权的事项才能列入清单（R02）",
        "the legal basis is empty (R02)",
    ),
    "unknown_reference": (
        "{column}在对应的名录中找不到",
        "{column} refers to a row that does not exist",
    ),
    "bad_list_value": (
        "{column}中有不允许的取值",
        "{column} holds a value not allowed",
    ),
    "control_character": (
        "{column}含有控制字符（不可见字符），请删除",
        "{column} holds a control character",
    ),
}

#: What each check of the year's inputs (results, closings, changes) means;
#: the codes of :data:`creditsup.year.RULE_CODES`.
YEAR_RULES: Mapping[str, tuple[str, str]] = {
    "unknown_visit": ("检查编号不在本计划中", "no visit of the plan has this id"),
    "uscc_mismatch": (
        "该检查的对象是另一个市场主体",
        "the visit is of another entity",
    ),
    "unknown_result": (
        "{column}不在 R19 结果类别中",
        "{column} is not an R19 result",
    ),
    "date_outside_year": (
        "{column}不在计划年度内",
        "{column} is outside the plan year",
    ),
    "date_before_visit_month": (
        "{column}早于计划检查月份",
        "{column} is before the visit's month",
    ),
    "visit_cancelled": ("该检查已因年中变动取消", "the visit was cancelled mid-year"),
    "inspector_not_assigned": (
        "检查人员既未被抽中派往该检查，也不在留痕的重新抽取中",
        "an inspector was neither assigned nor drawn in a logged re-draw",
    ),
    "team_too_small": (
        "执法检查人员不得少于两人（R11）",
        "at least two inspectors check together (R11)",
    ),
    "item_not_on_visit": ("检查事项不在该检查中", "an item is not on the visit"),
    "duplicate_visit": (
        "同一检查在前面的行中已出现",
        "the visit appears on an earlier row",
    ),
    "already_recorded": (
        "该检查已记录了不同的结果",
        "the visit has another result recorded",
    ),
    "unknown_followup": ("后续处置编号不存在", "no follow-up has this id"),
    "closed_before_opened": (
        "办结日期早于该处置的产生日期",
        "closed before the follow-up was opened",
    ),
    "unknown_outcome": (
        "{column}不适用于这类后续处置",
        "{column} does not close this kind of follow-up",
    ),
    "bad_restoration": (
        "信用修复日期应为不早于办结日期的日期",
        "restored_on must be a date on or after closed_on",
    ),
    "duplicate_followup": (
        "同一后续处置在前面的行中已出现",
        "the follow-up appears on an earlier row",
    ),
    "already_closed": (
        "该后续处置已按不同结果办结",
        "the follow-up was closed with another outcome",
    ),
    "unknown_change": (
        "{column}不是可处理的变动类型",
        "{column} is not a known change",
    ),
    "unknown_inspector": ("执法人员不在人员名录库中", "no inspector has this id"),
    "unknown_entity": ("市场主体不在名录库中", "no entity of the data has this USCC"),
    "entity_inactive": (
        "市场主体已注销、吊销或歇业，不再检查",
        "the entity is deregistered, revoked or closed",
    ),
    "unknown_trigger": (
        "{column}应为投诉举报、大数据预警、转办交办或法定检查",
        "{column} must be complaint, big_data_alert, referral or legal_mandate",
    ),
    "unknown_item": ("检查事项不在抽查事项清单中", "an item is not in the item list"),
    "duplicate_trigger": ("与前面的一行重复", "the row repeats an earlier row"),
}


def current_lang(explicit: str | None = None) -> Lang:
    """The display language: ``explicit``, ``CREDITSUP_LANG``, the locale, else English.

    Examples
    --------
    >>> current_lang("zh")
    'zh'
    """
    if explicit:
        return check_lang(explicit)
    env = os.environ.get("CREDITSUP_LANG", "").strip()
    if env:
        return check_lang(env)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "").strip()
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def message(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang``, with its placeholders filled."""
    zh, en = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**values)


def rule_text(rule: str, lang: str, *, column: str) -> str:
    """What a validation rule code means, for a column label (its code if unknown)."""
    texts = RULES.get(rule) or YEAR_RULES.get(rule)
    if texts is None:
        return rule
    zh, en = texts
    return (zh if lang == "zh" else en).format(column=column)
