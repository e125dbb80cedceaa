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
import re
from collections.abc import Mapping
from typing import Any

from creditsup.labels import Lang, check_lang, parse_table

__all__ = [
    "DRAW_WARNINGS",
    "ERRORS",
    "HELP",
    "LOGS",
    "MESSAGES",
    "RULES",
    "YEAR_RULES",
    "current_lang",
    "draw_warning_text",
    "error_text",
    "help_text",
    "message",
    "rule_text",
]

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
    "short_groups": ("人力不足的部门和月份：", "short department-months:"),
    "binding_line": (
        "{group}：需要 {needed}，现有 {available}",
        "{group}: needs {needed}, has {available}",
    ),
    "unfilled_list": (
        "无法派员的检查（共 {n} 户次，列出 {k} 户次）：",
        "unfilled visits ({k} of {n} shown):",
    ),
    "warning": ("警告：", "warning: "),
    "synth_done": (
        "已写出 {entities} 个市场主体、{inspectors} 名检查人员：{path}",
        "wrote {entities} entities, {inspectors} inspectors to {path}",
    ),
    "scored": (
        "已为 {n} 个市场主体评分（评分基准日 {as_of}）：{shares}；写入 {path}",
        "scored {n} entities as of {as_of}: {shares} -> {path}",
    ),
    "bundle_at": ("计划包：{path}", "plan bundle: {path}"),
    "report_at": ("报告：{path}", "report: {path}"),
    "dataset_at": ("数据集：{path}", "dataset: {path}"),
    "public_at": ("公示文件：{path}", "public: {path}"),
    "verify_with": ("核验命令：{command}", "verify: {command}"),
    "done_in": ("完成，用时 {seconds:.1f} 秒", "done in {seconds:.1f} s"),
    "written_to": ("已写入 {path}", "written to {path}"),
    "chicago_done": (
        "数据集：{path}（统一社会信用代码为替代值；原执照号在 source_id 列）",
        "dataset: {path} (stand-in USCCs; licence numbers in source_id)",
    ),
    "imported": ("数据集：{path}（{rows}）", "dataset: {path} ({rows})"),
    "scorecard_at": (
        "评分卡：{path}（用 --policy 指定使用）",
        "scorecard: {path} (use it with --policy)",
    ),
    "cannot_replay": ("无法重放此计划：{why}", "cannot replay this plan: {why}"),
    "status_synth": ("正在生成模拟辖区…", "synthesising the district…"),
    "status_plan": ("正在生成抽查计划…", "building the plan…"),
    "status_publish": ("正在生成公示文件和报告…", "publishing and reporting…"),
    "stage_load": ("读取数据", "load"),
    "stage_tiers": ("信用分类", "tiers"),
    "stage_draw": ("随机抽取", "draw"),
    "stage_assignment": ("随机派员", "assignment"),
    "stage_ledger": ("抽取记录", "ledger"),
    "stage_save": ("保存", "save"),
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
        "{unfilled} 户次无法派员，{staffed} 户次原缺员的检查已补派",
        "applied {changes} change(s): {redrawn} inspector re-draw(s), "
        "{cancelled} visit(s) cancelled, {unfilled} left unfilled, "
        "{staffed} unfilled visit(s) now staffed",
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

#: Warnings the library logs, as the command line shows them in Chinese:
#: ``English %-template (the logging call's own message) -> Chinese template``
#: with the same ``%`` placeholders in the same order. A warning not listed
#: here is shown in English.
LOGS: Mapping[str, str] = {
    "n_inspectors=%d < %d: some departments cannot cover every item's "
    "expertise with two inspectors": "检查人员只有 %d 名（少于 %d 名）："
    "部分部门无法为每个检查事项配齐两名具备相应专长的人员",
    "Ignoring %d record(s) of unknown entities.": "有 %d 条信用记录的主体不在"
    "检查对象名录库中，已忽略。",
    "Ignoring unknown tables: %s": "不认识的表，已忽略：%s",
    "No validation fold has enough units before %s; using the smallest penalty "
    "and at most %d features.": "%s 之前没有一个验证折有足够的样本；"
    "改用最小的惩罚系数，最多选 %d 个指标。",
    "No held-out report: %s": "没有留出样本的报告：%s",
    "Previous scorecard used as given (%s)": "原评分卡按原样使用（%s）",
    "Calibration optimiser did not fully converge: %s": "校准优化未完全收敛：%s",
    "recovered %s from %s": "已恢复 %s（来自 %s）",
    "Publication deadlines not computed: %s": "未能计算公示期限：%s",
    "pair limit: group %d could not be re-solved": "搭档次数限制：第 %d 组无法重新求解",
    "Skipping %d inspection row(s) without a licence number, inspection id or a "
    "parseable date.": "跳过 %d 行缺少执照号、检查编号或日期无法识别的检查记录。",
    "Unknown Chicago result(s) %s mapped to 'normal'.": "未知的芝加哥检查结果 %s "
    "按“未发现问题”处理。",
}

#: The draw's warnings (``sampling``: ledger step ``warnings``) in Chinese, by
#: code; ``{departments}``, ``{n}``, ``{count}`` and ``{item_id}`` come from
#: the warning's own fields.
DRAW_WARNINGS: Mapping[str, str] = {
    "no_capacity": "{departments}在允许的月份没有在岗检查人员的人力；其检查平均分配到各允许月份。",
    "capacity_exceeded": "有 {n} 个部门-月份的检查需求超过检查人力；派员时将列出无法派员的检查。",
    "coverage_unmet": "最低覆盖规则要求检查的 {count} 个主体无法安排检查。",
    "unknown_tier_rows": "风险分类表中有 {count} 行不是数据集中的主体，已忽略。",
    "fixed_count_exceeds_pool": "检查事项 {item_id} 的固定抽查数量超过对象总数，对象全部抽取。",
    "budget_unattainable": "仅全覆盖（比例为 1）的检查事项就超过了检查总量上限"
    "（max_visit_share），各比例按原样执行。",
    "unknown_fixed_count_item": "策略的 fixed_counts 列出了检查事项清单中没有的事项，已忽略。",
    "ratios_scaled": "各比例要求的检查量超过检查力量或上限，自由裁量的抽查比例已按同一系数缩减。",
    "floor_missed": "抽取结果未达到某项法定最低比例（泊松抽样或因检查上限删减所致）；"
    "ratio_mode = 'fixed' 可抽取精确数量。",
    "multi_visit_share": "有 {count} 个主体一年内被检查不止一次，超过 "
    "max_multi_visit_share（R14：一户一门）。",
    "publicity_floor_unchecked": "没有检查事项被标记为公示信息检查（items.publicity 或 "
    "publicity_items），无法核对企业公示信息抽查的最低比例（R08）。",
    "targeted_no_address": "定向抽取：检查对象名录库没有住所（address）列，无法按同一住所的主体数量筛选。",
}

_REFUSE = r"The output '(?P<path>.+)' {why}\. creditsup never replaces what it did not write: choose a new path\."
_REFUSED = "输出位置 '{path}' {why}。creditsup 不会覆盖不是它写出的内容：请换一个路径。"

#: Error messages of the library and of the command line, as the command line
#: shows them in Chinese: ``(regular expression of the English message,
#: Chinese template of its named groups)``. The first that matches the whole
#: message wins; a message none matches is shown in English.
ERRORS: tuple[tuple[str, str], ...] = (
    (
        r"The dataset folder '(?P<path>.+)' does not exist\.",
        "数据集文件夹 '{path}' 不存在。",
    ),
    (r"The file '(?P<path>.+)' does not exist\.", "文件 '{path}' 不存在。"),
    (
        r"The file '(?P<path>.+)' has an unknown format; use \.csv, \.parquet or \.xlsx\.",
        "文件 '{path}' 的格式无法识别；请用 .csv、.parquet 或 .xlsx。",
    ),
    (
        r"The file '(?P<path>.+)' looks like Big5 \(Traditional Chinese\), not GB18030; .*",
        "文件 '{path}' 像是 Big5（繁体中文）编码；请另存为 UTF-8（Excel：另存为“CSV UTF-8”）。",
    ),
    (
        r"Cannot decode '(?P<path>.+)': it is neither UTF-8 nor GB18030 .*",
        "无法识别文件 '{path}' 的编码：既不是 UTF-8 也不是 GB18030。",
    ),
    (
        r"The file '(?P<path>.+)' has the column '(?P<name>.+)' twice \(columns (?P<a>\d+) and (?P<b>\d+)\); keep one\.",
        "文件 '{path}' 中列 '{name}' 出现了两次（第 {a} 列和第 {b} 列）；请只保留一列。",
    ),
    (
        r"The folder '(?P<path>.+)' holds the table '(?P<table>.+)' more than once \((?P<names>.+)\); keep one file per table\.",
        "文件夹 '{path}' 中表 '{table}' 有多个文件（{names}）；每张表只保留一个文件。",
    ),
    (
        _REFUSE.format(why="is the current folder or contains it"),
        _REFUSED.format(path="{path}", why="是当前文件夹或包含当前文件夹"),
    ),
    (
        _REFUSE.format(why="is the input '(?P<input>.+)' or contains it"),
        _REFUSED.format(path="{path}", why="是输入 '{input}' 或包含它"),
    ),
    (
        _REFUSE.format(why="is a symbolic link"),
        _REFUSED.format(path="{path}", why="是符号链接"),
    ),
    (
        _REFUSE.format(why="is a file, and a folder is needed here"),
        _REFUSED.format(path="{path}", why="是文件，这里需要文件夹"),
    ),
    (
        _REFUSE.format(why="is a folder that creditsup did not write"),
        _REFUSED.format(path="{path}", why="是一个不是 creditsup 写出的文件夹"),
    ),
    (
        _REFUSE.format(why="is a folder, and a file is needed here"),
        _REFUSED.format(path="{path}", why="是文件夹，这里需要文件"),
    ),
    (
        _REFUSE.format(why="is a file that creditsup did not write"),
        _REFUSED.format(path="{path}", why="是一个不是 creditsup 写出的文件"),
    ),
    (
        r"Another creditsup run is writing in '(?P<path>.+)'; waited (?P<s>\d+) s\. Try again when it has finished\.",
        "另一个 creditsup 正在 '{path}' 中写入，已等待 {s} 秒；请等它完成后再试。",
    ),
    (
        r"The '(?P<name>[^']+)' must be an ISO date YYYY-MM-DD\. Got (?P<got>.+) instead\.",
        "{name} 应为日期，格式 YYYY-MM-DD（例如 2026-01-31）；收到的是 {got}。",
    ),
    (
        r"The '(?P<name>[^']+)' must be a date or ISO text YYYY-MM-DD\. Got (?P<got>.+) instead\.",
        "{name} 应为日期，格式 YYYY-MM-DD（例如 2026-01-31）；收到的是 {got}。",
    ),
    (
        r"The '(?P<name>[^']+)' must be (?P<a>[a-z]+), (?P<b>[a-z]+) or (?P<c>[a-z]+)\. Got (?P<got>.+) instead\.",
        "{name} 只能是 {a}、{b} 或 {c}；收到的是 {got}。",
    ),
    (
        r"The '(?P<name>[^']+)' must be (?P<a>[a-z]+) or (?P<b>[a-z]+)\. Got (?P<got>.+) instead\.",
        "{name} 只能是 {a} 或 {b}；收到的是 {got}。",
    ),
    (
        r"The '(?P<name>[^']+)' needs '(?P<other>[^']+)'\.",
        "选项 '{name}' 需要同时给出 '{other}'。",
    ),
    (
        r"The '(?P<a>[^']+)' and '(?P<b>[^']+)' need '(?P<other>[^']+)'\.",
        "选项 '{a}' 和 '{b}' 需要同时给出 '{other}'。",
    ),
    (
        r"The 'lang' must be 'zh' or 'en'\. Got (?P<got>.+) instead\.",
        "--lang 只能是 zh 或 en；收到的是 {got}。",
    ),
    (
        r"The '(?P<name>[^']+)' must be valid UTF-8 text\. Got (?P<got>.+) instead\.",
        "{name} 必须是有效的 UTF-8 文本；收到的是 {got}。",
    ),
    (r"The '(?P<name>[^']+)' must not be empty\.", "{name} 不能为空。"),
    (
        r"The '--seed-form' needs a '--seed-source'\.",
        "给出 --seed-form 时必须同时给出 --seed-source。",
    ),
    (r"No such command '(?P<name>.+)'\.", "没有命令 '{name}'。"),
    # -- the supervision year (creditsup.year) --
    (
        r"The (?P<table>\w+) table needs the columns (?P<need>\[.*\])\. Missing (?P<missing>\[.*\]); found (?P<found>\[.*\])\.",
        "{table} 表需要以下列：{need}；缺少 {missing}，现有 {found}。",
    ),
    (
        r"The dataset is not the one the plan was drawn from: the tables (?P<t>.+) differ from the hashes in provenance\.json\.",
        "数据集不是生成本计划时所用的数据集：表 {t} 与 provenance.json 中记录的哈希值不一致。",
    ),
    (
        r"The dataset is not the one the plan was drawn from \(its table hashes differ from provenance\.json\)\.",
        "数据集不是生成本计划时所用的数据集（其各表哈希值与 provenance.json 中记录的不一致）。",
    ),
    (
        r"The 'batch' must be a month or a range of months such as 7 or 7-9\. Got (?P<got>.+) instead\.",
        "--batch 应为一个月份或月份范围，例如 7 或 7-9；收到的是 {got}。",
    ),
    # -- what creditsup verify finds (plan.verify) --
    (
        r"(?P<f>[\w.]+): differs from the recomputed plan \(line (?P<n>\d+): (?P<a>.*) != expected (?P<b>.*)\)",
        "{f} 与重新计算的结果不一致（第 {n} 行：{a}，应为 {b}）",
    ),
    (
        r"(?P<f>[\w.]+): differs from the recomputed plan \((?P<a>\d+) lines, expected (?P<b>\d+)\)",
        "{f} 与重新计算的结果不一致（{a} 行，应为 {b} 行）",
    ),
    (
        r"(?P<f>[\w.]+): SHA-256 does not match provenance\.json",
        "{f} 的 SHA-256 哈希值与 provenance.json 中记录的不一致",
    ),
    (
        r"(?P<f>[\w.]+): file not listed in provenance\.json",
        "{f} 不在 provenance.json 的文件清单中",
    ),
    (
        r"(?P<f>[\w.]+): listed in provenance\.json but missing",
        "provenance.json 列出了 {f}，但文件缺失",
    ),
    (
        r"input table '(?P<t>\w+)' differs from the one the plan was drawn from",
        "输入数据表 {t} 与生成计划时所用的不一致",
    ),
    (
        r"visit (?P<v>\S+): (?P<k>\d+) inspector\(s\); the law requires at least two \(R11\)",
        "检查{v}只有 {k} 名执法人员；法律要求至少两名（R11）",
    ),
    (
        r"visit (?P<v>\S+): month (?P<m>\d+) is outside the months the policy allows (?P<a>.+) \(R16\)",
        "检查{v}安排在 {m} 月，不在策略允许的月份 {a} 内（R16）",
    ),
    (
        r"provenance\.json: ledger_head is not the hash of the last ledger line",
        "provenance.json 中的 ledger_head 不是抽取记录最后一行的哈希值",
    ),
    (
        r"The schema must be one of (?P<names>.+)\. Got (?P<got>.+) instead\.",
        "schema 只能是 {names} 之一；收到的是 {got}。",
    ),
    (
        r"Got unexpected extra argument(?:s|\(s\))? \((?P<args>.+)\)\.?",
        "多余的参数：{args}。",
    ),
)

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


#: The help of the command line: ``key -> (Chinese, English)``. A key is
#: ``creditsup`` (the app), a verb, ``<verb>.<parameter>`` or
#: ``*.<parameter>`` (a parameter several verbs share); see :func:`help_text`.
HELP: Mapping[str, tuple[str, str]] = parse_table("""
creditsup | 信用分类“双随机、一公开”监管：信用评分、随机抽取、随机派员、结果公示。 | Credit-tiered 'double random, one public' (双随机、一公开) supervision: scoring, random draws, random inspector assignment, publication.
creditsup.version | 显示版本号。 | Print the version.
creditsup.lang | 显示语言：zh（中文）或 en（英文）；默认取环境变量 CREDITSUP_LANG，否则按系统区域设置（zh_* 为中文）。 | zh or en (default: CREDITSUP_LANG, else the locale: zh_* gives zh).
# -- parameters several verbs share --------------------------------------------
*.help | 显示本帮助并退出。 | Show this message and exit.
*.quiet | 只输出错误信息。 | Print only errors.
*.policy_file | 策略文件（TOML）；不给出时用默认策略。 | Policy TOML file (default: the default policy).
*.data_dir | 数据集文件夹。 | Dataset folder.
*.plan_dir | 计划包文件夹。 | Plan bundle folder.
*.out_dir | 要写入的文件夹。 | Folder to write.
*.year | 计划年度。 | The plan year.
*.as_of | 日期 YYYY-MM-DD（评分基准日、回测分割日）。 | The date YYYY-MM-DD (scoring date, split date).
*.fmt | 输出格式：text（供人阅读）或 json（供程序读取）。 | text (for people) or json (for programs).
*.seed_source | 种子的来源，例如“福彩3D，2027-01-05 开奖号码”。 | Where the seed will come from, e.g. '福彩3D, draw of 2027-01-05'.
*.seed_form | 种子必须符合的格式（正则表达式）。 | A regular expression the seed must match.
*.outcome | 结果列：result 或历史检查表中的某一列（默认：有 problem_found 列时用该列）。 | 'result' or a history column (default: problem_found if present).
*.horizon_days | 观察期天数：日期之后多少天内的检查结果计入。 | Days after the date in which outcomes count.
# -- verbs on a dataset -----------------------------------------------------------
synth | 生成一个模拟辖区的数据集文件夹（数据逼真，可用于试用和测试）。 | Write a realistic synthetic district dataset folder.
synth.entities | 市场主体数量。 | Number of entities.
synth.inspectors | 执法检查人员数量。 | Number of inspectors.
synth.seed | 随机种子（任意字符串）。 | Seed (any string).
synth.fmt | 文件格式：csv、parquet 或 xlsx。 | csv, parquet or xlsx.
synth.partitions | 大表（主体、记录、检查历史、回避关系）拆成的 Parquet 分片文件数（需 --format parquet；默认每 25 万个主体一个分片）。 | Split the large tables (entities, records, history, conflicts) into this many Parquet part files (needs --format parquet; default: one per 250,000 entities).
validate | 按数据规范检查每张表，列出全部数据问题。 | Check every table against the contract; list every failure.
validate.failures_out | 把全部数据问题写入此 CSV 文件。 | Write all failures to this CSV.
score | 计算每个市场主体的信用分值、风险分类和主要原因。 | Credit score, tier and top reasons for every entity.
score.out_file | 要写入的 CSV 文件。 | CSV file to write.
# -- verbs of evaluation and import ---------------------------------------------
import-chicago | 把芝加哥市公开的食品检查数据转换为数据集文件夹。 | Convert Chicago's public food-inspection data into a dataset folder.
import-chicago.inspections | 食品检查记录 CSV（food_inspections）。 | food_inspections CSV.
import-chicago.licenses | 营业执照 CSV（business_licenses）。 | business_licenses CSV.
import-chicago.out_dir | 要写入的数据集文件夹。 | Dataset folder to write.
backtest | 用历史检查结果回测策略，并与均匀抽取和简单基准比较。 | Backtest a policy on past outcomes against uniform and simple baselines.
backtest.seeds | 模拟抽取的次数。 | Simulated draws.
backtest.budget | 预计检查户次（默认取策略中的数量）。 | Expected visits (default: the policy's).
backtest.no_calibrate | 评分卡按原样使用，不做校准。 | Use the scorecard as given.
backtest.fit | 先用分割日之前的数据学习评分卡（策略中的评分卡作为“原评分卡”对照），并另外写出 scorecard.toml 和 fit.md。 | Learn the scorecard from the data before the split (the policy's scorecard becomes the 'previous' baseline); writes scorecard.toml and fit.md too.
fit | 用数据集自身在某日之前的历史学习评分卡。 | Learn a scorecard from the dataset's own history before a date.
fit.as_of | 截止日期 YYYY-MM-DD：只使用此日之前的记录。 | Cut-off YYYY-MM-DD: only rows before it.
fit.out_file | 要写入的评分卡文件（TOML）。 | The scorecard TOML file to write.
fit.policy_file | 现行策略：使用其中的问题结果、特别规定和抽查设置；其评分卡作为“原评分卡”对照。 | The policy in use: its problem results, overrides and sampling; its scorecard is the 'previous' baseline.
fit.holdout_days | 截止日之前留出、只用于报告的天数（0：不留出）。 | Days before the cut-off held out and only reported on (0: none).
fit.report_file | 写出拟合报告（Markdown）。 | Write the fit report (markdown).
fit.folds | 按时间划分的验证折数（0：不验证）。 | Time-based validation folds (0: none).
import-inspections | 把本局导出的检查记录转换为数据集文件夹。 | Convert a bureau's inspection export into a dataset folder.
import-inspections.source | 检查记录文件（CSV 或 XLSX）。 | The inspections file (CSV/XLSX).
import-inspections.mapping_file | 映射文件（TOML）：列名、取值和日期格式的对应关系。 | The mapping TOML (columns, values, dates).
import-inspections.out_dir | 要写入的数据集文件夹。 | Dataset folder to write.
# -- verbs of the annual plan ---------------------------------------------------
plan | 生成年度抽查计划包（数据规范第 3 节）；计划无法全部完成时退出码为 3。 | Build the annual plan bundle (contract §3). Exit 3 when infeasible.
plan.seed | 随机种子：任意字符串，例如公开的彩票开奖号码。 | The seed: any string, e.g. a lottery result.
plan.out_dir | 要写入的计划包文件夹。 | Bundle folder to write.
plan.operator | 抽取操作人（R10）。 | Who runs the draw (R10).
plan.engine | 计算引擎：local（单机）或 dask（按分区并行，结果逐字节相同）。 | local (one process) or dask (partition by partition, the same bytes).
plan.partitions | dask 引擎按统一社会信用代码划分的分区数（默认：主体表的分片文件数）。 | The Dask engine's USCC partitions (default: the entities' part files).
plan.workers | dask 引擎在本机启动的工作进程数（0：只用线程）。 | Worker processes of the local Dask cluster (0: threads only).
plan.scheduler | 已有 Dask 集群调度器的地址，例如 tcp://10.0.0.5:8786。 | Address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786.
commit | 输出承诺值：须在种子产生之前公布。 | Print the commitment to publish before the seed is known.
verify | 由输入数据和种子重新推导计划；发现第一处不一致时退出码为 1。 | Re-derive the plan from its inputs and seed; exit 1 on the first difference.
verify.data_dir | 输入数据集文件夹。 | The input dataset folder.
publish | 写出公示内容（一公开）：抽查计划表和抽查对象名单。 | Write the public view (一公开): plan table and entity lists.
publish.no_excel | 只写 CSV，不写 public.xlsx。 | CSV only, no public.xlsx.
report | 写出一个带图表、可单独打开的 HTML 报告。 | Write a self-contained HTML report with charts.
report.out_file | 要写入的 HTML 文件。 | HTML file to write.
report.data_dir | 输入数据集（用于统计未派任务的人员）。 | The input dataset (for idle inspectors).
schema | 输出 creditsup 所写文件的 JSON Schema（Draft 2020-12）。 | Print the JSON Schema (Draft 2020-12) of a file creditsup writes.
schema.name | 文件：provenance、diagnostics、policy、ledger 或 public。 | provenance, diagnostics, policy, ledger or public.
policy-template | 输出带注释的默认策略（TOML）。 | Print the default policy as TOML, with comments.
demo | 一条命令完成演示：模拟辖区、年度计划、公示内容和 HTML 报告。 | Synthetic district + annual plan + HTML report, in one command.
demo.out_dir | 存放全部输出的文件夹。 | Folder for all outputs.
demo.entities | 辖区规模（市场主体数量）。 | District size.
demo.inspectors | 执法检查人员数量（120 人可满足默认计划的全部检查）。 | Number of inspectors (120 staff every visit of the default plan).
demo.seed | 随机种子（任意字符串）。 | Seed string.
publish.as_of | 检查结果的公示日期 YYYY-MM-DD（默认今天）。 | Publication date of the results (default today).
# -- verbs of the supervision year ------------------------------------------------
*.operator | 记录人（写入抽取记录）。 | Who records it (ledger).
*.calendar | 节假日表（date,kind：holiday/workday 或 休/班），用于 chinesecalendar 未收录的年份。 | Holidays table (date,kind: holiday/workday or 休/班) for years chinesecalendar does not know.
results | 把检查结果（R19）记入计划包；有数据问题时退出码为 1。 | Record inspection results (R19) into the bundle; exit 1 if rows are bad.
results.results_file | 输入表（CSV、XLSX 或 Parquet）。 | Input table (CSV, XLSX or Parquet).
followups | 办结后续处置（R20），并列出未办结和已逾期的事项。 | Close follow-ups (R20) and list the open and overdue ones.
followups.closings | 办结记录（followup_id,closed_on,outcome）；可不给出。 | Closings (followup_id,closed_on,outcome); optional.
followups.as_of | 参照日期 YYYY-MM-DD（默认今天）。 | Reference date YYYY-MM-DD (default today).
close-year | 生成下一年度的数据集：本数据集加上本年度的检查结果和后续处置记录。 | Next year's dataset: DIR + the year's results and follow-up records.
close-year.data_dir | 生成本计划所用的数据集。 | The dataset the plan was drawn from.
close-year.out_dir | 要写入的新数据集文件夹。 | The new dataset folder to write.
close-year.restorations | 以往记录的信用修复（uscc,kind,restored_on[,date]）。 | Credit restorations (uscc,kind,restored_on[,date]) of past records.
replan | 年中变化：只重新抽取受影响的检查；有数据问题时退出码为 1。 | Mid-year changes: only the affected visits are re-drawn; exit 1 on bad rows.
replan.data_dir | 生成本计划所用的数据集。 | The dataset the plan was drawn from.
replan.changes | 变化表：kind,id,from_date[,value,reason]；kind 为 inspector_left、inspector_joined、entity_closed 或 capacity_changed。 | Changes: kind,id,from_date[,value,reason]; kinds inspector_left, inspector_joined, entity_closed, capacity_changed.
triggers | 触发式监管：加入触发的检查；有数据问题时退出码为 1，有检查无法派员时为 3。 | Triggered checks (触发式监管): add their visits; exit 1 bad rows, 3 unfilled.
triggers.triggers_file | 输入表（CSV、XLSX 或 Parquet）。 | Input table (CSV, XLSX or Parquet).
triggers.data_dir | 生成本计划所用的数据集。 | The dataset the plan was drawn from.
draw-batch | 分批开始时为该批检查抽取执法人员（R06）；有检查无法派员时退出码为 3。 | Draw a batch's inspectors when it opens (R06); exit 3 if a visit is unfilled.
draw-batch.batch | 该批的月份：7 或 7-9。 | The batch's months: 7 or 7-9.
draw-batch.data_dir | 当天的数据集（其中的执法人员和回避关系）。 | That day's dataset (its inspectors and conflicts).
draw-batch.seed | 该批的随机种子，例如公开的彩票开奖号码。 | The batch's seed, e.g. a lottery result.
draw-batch.commit | 输出承诺值：须在种子产生之前公布。 | Print the commitment to publish before the seed.
""")


def help_text(key: str, lang: str) -> str | None:
    """The help of ``key`` (``<verb>.<parameter>``, else ``*.<parameter>``).

    ``None`` when the catalogue has neither (the command keeps its own help).

    Examples
    --------
    >>> help_text("plan.quiet", "zh")
    '只输出错误信息。'
    """
    pair = HELP.get(key)
    if pair is None and "." in key:
        pair = HELP.get("*." + key.rsplit(".", 1)[1])
    if pair is None:
        return None
    return pair[0] if lang == "zh" else pair[1]


def error_text(text: str, lang: str) -> str:
    """An error message in ``lang``: its Chinese form from :data:`ERRORS`, or
    ``text`` as it is (English, or no Chinese form known).

    Examples
    --------
    >>> error_text("The dataset folder 'data' does not exist.", "zh")
    "数据集文件夹 'data' 不存在。"
    >>> error_text("Something else.", "zh")
    'Something else.'
    """
    if lang != "zh":
        return text
    for pattern, zh in ERRORS:
        found = re.fullmatch(pattern, text.strip(), flags=re.S)
        if found:
            return zh.format(**found.groupdict())
    return text


def draw_warning_text(
    warning: Mapping[str, Any], lang: str, names: Mapping[str, str] | None = None
) -> str:
    """What a warning of the draw says, in ``lang``: the English ``message``
    it carries, or its Chinese text from :data:`DRAW_WARNINGS` (departments by
    their ``names``, else ``<id>部门``).

    Examples
    --------
    >>> w = {"code": "no_capacity", "message": "...", "departments": ["food"]}
    >>> draw_warning_text(w, "zh", {"food": "食品安全科"})
    '食品安全科在允许的月份没有在岗检查人员的人力；其检查平均分配到各允许月份。'
    """
    template = DRAW_WARNINGS.get(str(warning.get("code")))
    if lang != "zh" or template is None:
        return str(warning.get("message", warning.get("code", "")))
    names = names or {}
    depts = "、".join(
        names.get(str(d)) or f"{d}部门" for d in warning.get("departments", [])
    )
    return template.format(
        departments=depts,
        n=len(warning.get("binding", [])),
        count=warning.get("count", ""),
        item_id=warning.get("item_id", ""),
    )


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
