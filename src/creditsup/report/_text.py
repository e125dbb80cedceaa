"""Bilingual sentences of the report: titles, section titles, chart titles,
notes and captions (``key -> (Chinese, English)``).

Column headers, figure names and code labels are not here: they come from
the one label table :data:`creditsup.labels.LABELS`, which :func:`t` reads
for every key it does not hold itself.
"""

from __future__ import annotations

import datetime as _dt

from creditsup.labels import label, parse_table

__all__ = ["BEIJING", "TEXT", "beijing_time", "t"]

#: China Standard Time (UTC+8, no daylight saving).
BEIJING = _dt.timezone(_dt.timedelta(hours=8), "UTC+8")

# key | 中文 | English (one sentence a line; "#" starts a comment)
_TABLE = """
title | {year} 年度“双随机、一公开”抽查计划报告 | Annual inspection plan report {year}
subtitle | 内部资料：含信用风险分类，不得公开 | Internal: holds credit-risk tiers, not for publication
contents | 目录 | Contents
generated | 生成时间 | Generated
# sections
sec_summary | 概要 | Summary
sec_tiers | 信用风险分类分布 | Tier distribution
sec_ratio | 计划抽查比例与目标比例 | Planned ratio against target
sec_months | 各月检查量与检查力量 | Visits per month against capacity
sec_load | 检查人员工作量 | Load per inspector
sec_joint | 部门联合抽查占比 | Joint-visit share
sec_exclusions | 未列入抽查的原因 | Exclusions by reason
sec_diagnostics | 不可行诊断 | Infeasibility diagnostics
sec_policy_fit | 法定底线与检查力量 | Legal floors and capacity
floors_table | 各项法定底线（R08、R23）：要求、按比例计划与本次实际抽取 | Each legal floor (R08, R23): required, planned on the ratios, realised in this draw
capacity_table | 检查力量缺口（部门、月份）：计划保持抽取结果，须增加人员或调整比例 | Capacity shortfall per (department, month): the draw is kept; add inspectors or change the ratios
capacity_ok | 检查力量足以完成全部抽查。 | The roster covers every check of the draw.
budget_note | 检查力量有限：自由裁量抽查比例已乘以 {scale}（budget = "capacity"），法定底线不变。 | Capacity budget: the discretionary ratios were multiplied by {scale} (budget = "capacity"); the legal floors hold.
fit_note | 按比例缩减可以容纳：budget = "capacity" 将自由裁量比例乘以 {scale}。 | Scaling would fit: budget = "capacity" multiplies the discretionary ratios by {scale}.
waiver_note | 已豁免法定底线 {floor}：{reason} | Floor {floor} waived: {reason}
sec_deadlines | 结果公示期限 | Publication deadlines
sec_provenance | 可验证性与来源 | Provenance
# tiers
chart_tier_entities | 各类主体数 | Entities per tier
chart_tier_visits | 各类检查数 | Visits per tier
# ratios
ratio_axis | 抽查比例 | Ratio
note_ratio_strata | 按（部门、风险分类）汇总：计划比例 = 保留的检查事项数 ÷ 对象总数；目标比例 = 期望检查数 ÷ 对象总数。 | Per (department, tier): planned = checks kept ÷ pool size; target = expected checks ÷ pool size.
note_ratio_fallback | 计划未携带（事项×风险分类）分层表，按风险分类（accounting）与按部门（tasks）分别列示。 | The plan carries no (item × tier) strata table; ratios are shown per tier (accounting) and per department (tasks) separately.
# months
chart_month_visits | 各月检查数 | Visits per month
chart_month_slots | 各月派员人次与可用人次 | Inspector-slots per month
capacity_source_plan | 检查力量取自计划携带的（部门×月份）容量表。 | Capacity comes from the plan's (department × month) capacity table.
capacity_source_dataset | 检查力量由执法检查人员名录库计算：在岗且当月可派人员的每月检查上限之和。 | Capacity computed from the inspector pool: the monthly capacity of every active inspector available that month.
capacity_source_ledger | 计划未携带按月容量表，只有抽取记录中的各部门全年可用人次；按月图表只显示已派人次。 | The plan carries no monthly capacity table, only each department's annual capacity from the draw record; monthly charts show the slots used only.
capacity_source_none | 计划未携带检查力量信息；生成报告时提供输入数据目录即可计算。图表只显示已派人次。 | The plan carries no capacity information; give the input data folder when making the report to compute it. Charts show the slots used only.
utilisation_table | 各部门各月负荷率（已派 ÷ 可用） | Utilisation per department and month (used ÷ capacity)
# load
chart_load_hist | 每名检查人员全年检查数 | Visits per inspector in the year
chart_load_box | 各部门人员工作量 | Load per inspector by department
n_inspectors_axis | 人数 | Inspectors
# joint
note_joint | 部门联合抽查：“进一次门、查多项事”；一次联合检查计入每个参与部门。 | Joint visits: one visit, many items; a joint visit counts for every department that takes part.
# exclusions
none_excluded | 没有被排除的主体。 | No entity is excluded.
# diagnostics
all_staffed | 全部检查均已派员，无不可行项。 | Every visit is staffed; nothing is infeasible.
unfilled_visits | 未能派员的检查 | Unfilled visits
unfilled_by_month | 未能派员的检查（按部门、月份） | Unfilled visits by department and month
draw_warnings | 抽取阶段提示 | Draw warnings
binding_groups | 约束瓶颈 | Binding constraint groups
more_rows | 另有 {n} 行未列出（见 diagnostics.json）。 | {n} more rows not shown (see diagnostics.json).
# deadlines
calendar_unknown | 日历未知 | calendar unknown
note_deadlines | 谁检查、谁录入、谁公开：检查结果须在检查结束之日起 20 个工作日内公示，工作日按国务院办公厅公布的节假日与调休安排计算。 | Whoever inspects publishes: results are due within 20 working days after the check ends, counting working days on the official holiday calendar with its make-up workdays.
calendar_missing | 本机未安装法定节假日日历，未能计算公示期限。 | No official holiday calendar is installed on the machine that made this report, so deadlines are not computed.
calendar_year_unknown | {year} 年的法定节假日与调休安排尚未收录，该年的公示期限未能计算；节假日安排公布后重新生成报告即可。 | The official holidays and make-up workdays of {year} are not known yet, so that year's deadlines are not computed; make the report again once they are published.
# provenance
input_hashes | 输入表 SHA-256 | Input tables (SHA-256)
output_hashes | 输出文件 SHA-256 | Output files (SHA-256)
versions | 软件版本 | Versions
verify_hint | 任何人都可以由输入数据与公开的随机种子重新计算本计划，并逐字节核对（creditsup verify）。 | Anyone can re-derive this plan from the inputs and the published seed and check it byte for byte (creditsup verify).
beijing_time | {time}（北京时间） | {time} Beijing time (UTC+8)
draw_message | 提示 | Message
# footnotes: what the rules behind the figures say, in words
notes_title | 说明 | Notes
fn_internal | 内部资料：信用风险分类只用于确定各类主体的抽查比例和频次，不对外公开，也不作为处罚依据；每一类主体都有被抽中的机会。对外公示请使用公示文件，其中不含风险分类、评分和检查人员信息。 | Internal: credit-risk tiers only set how often each kind of entity is drawn. They are not published and are no ground for a penalty, and every tier keeps a chance of being drawn. Publish the public files instead: they hold no tier, score or inspector details.
fn_double_random | 双随机、一公开：随机抽取检查对象，随机选派执法检查人员，抽查情况和查处结果及时向社会公开。 | Double random, one public: the entities are drawn at random, the inspectors are drawn at random, and what was checked and found is made public.
fn_team | 每次检查至少派两名具备相应执法领域资格的检查人员；与被检查对象有利害关系的人员回避，另行抽取。 | Every visit has at least two inspectors qualified for its check items; an inspector with an interest in the entity steps aside and another is drawn.
fn_cap | 信用风险低的主体，各部门合计每年随机抽查不超过两次；因投诉举报、大数据监测、转办交办或法律法规要求的检查不在此限。 | A low-risk entity is drawn at most twice a year across all departments; checks prompted by a complaint, a big-data alert, a referral or a legal mandate are not counted against this cap.
fn_commitment | 随机种子承诺值：抽取前公布种子的哈希值，抽取后公开种子本身；任何人都能核对种子与承诺相符、抽取结果未被事后调整。 | Seed commitment: the hash of the seed is published before the draw and the seed itself after it, so anyone can check that the seed matches and that the draw was not adjusted afterwards.
no_data | 无数据。 | No data.
"""

#: The report's sentences: ``key -> (Chinese, English)``.
TEXT: dict[str, tuple[str, str]] = parse_table(_TABLE)


def t(key: str, lang: str, **fmt: object) -> str:
    """The display text of ``key`` in ``lang`` (``zh`` or ``en``): a sentence
    of :data:`TEXT`, else a label of :data:`creditsup.labels.LABELS`, else
    ``key`` itself."""
    pair = TEXT.get(key)
    if pair is None:
        return label(key, lang)
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**fmt) if fmt else text


def beijing_time(stamp: object, lang: str) -> str:
    """An ISO timestamp as Beijing time, labelled; a naive one is read as UTC.

    Examples
    --------
    >>> beijing_time("2026-01-05T08:00:00+00:00", "zh")
    '2026-01-05 16:00（北京时间）'
    >>> beijing_time("2026-01-05T08:00:00+00:00", "en")
    '2026-01-05 16:00 Beijing time (UTC+8)'
    >>> beijing_time("not a time", "en")
    'not a time'
    """
    try:
        when = _dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    local = when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    return t("beijing_time", lang, time=local)
