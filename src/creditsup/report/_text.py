"""Bilingual display text of the report: ``key -> (Chinese, English)``."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["EXCLUSION_LABELS", "TEXT", "TIER_LABELS", "label", "month_label", "t"]

TEXT: dict[str, tuple[str, str]] = {
    "title": (
        "{year} 年度“双随机、一公开”抽查计划报告",
        "Annual inspection plan report {year}",
    ),
    "subtitle": (
        "内部资料：含信用风险分类，不得公开（C3）",
        "Internal: holds credit-risk tiers, not for publication (C3)",
    ),
    "contents": ("目录", "Contents"),
    "generated": ("生成时间", "Generated"),
    # sections
    "sec_summary": ("概要", "Summary"),
    "sec_tiers": ("信用风险分类分布", "Tier distribution"),
    "sec_ratio": ("计划抽查比例与目标比例", "Planned ratio against target"),
    "sec_months": ("各月检查量与检查力量", "Visits per month against capacity"),
    "sec_load": ("检查人员工作量", "Load per inspector"),
    "sec_joint": ("部门联合抽查占比", "Joint-visit share"),
    "sec_exclusions": ("未列入抽查的原因", "Exclusions by reason"),
    "sec_diagnostics": ("不可行诊断", "Infeasibility diagnostics"),
    "sec_deadlines": ("结果公示期限（R18）", "Publication deadlines (R18)"),
    "sec_provenance": ("可验证性与来源", "Provenance"),
    # summary figures
    "figure": ("指标", "Figure"),
    "value": ("数值", "Value"),
    "year": ("年度", "Year"),
    "seed": ("随机种子", "Seed"),
    "entities": ("市场主体", "Entities"),
    "excluded_entities": ("未列入抽查的主体", "Excluded entities"),
    "visits": ("检查（户次）", "Visits"),
    "joint_visits": ("联合检查", "Joint visits"),
    "joint_share": ("联合检查占比", "Joint-visit share"),
    "assignments": ("人员派遣（人次）", "Inspector assignments"),
    "inspectors_used": ("参与检查人员", "Inspectors used"),
    "unfilled": ("未能派员的检查", "Unfilled visits"),
    "seed_commitment": ("种子承诺值", "Seed commitment"),
    # tiers
    "tier": ("风险分类", "Tier"),
    "n_entities": ("主体数", "Entities"),
    "share": ("占比", "Share"),
    "n_visits": ("检查数", "Visits"),
    "visit_rate": ("检查户次/主体", "Visits per entity"),
    "n_eligible": ("可抽取", "Eligible"),
    "n_excluded": ("排除", "Excluded"),
    "n_drawn": ("抽中主体", "Drawn"),
    "chart_tier_entities": ("各类主体数", "Entities per tier"),
    "chart_tier_visits": ("各类检查数", "Visits per tier"),
    # ratios
    "department": ("部门", "Department"),
    "pool_size": ("对象库数量", "Pool size"),
    "target_ratio": ("目标比例", "Target ratio"),
    "planned_ratio": ("计划比例", "Planned ratio"),
    "difference": ("差额（百分点）", "Difference (points)"),
    "all": ("合计", "All"),
    "planned": ("计划", "Planned"),
    "target": ("目标", "Target"),
    "ratio_axis": ("抽查比例", "Ratio"),
    "note_ratio_strata": (
        "按（部门、风险分类）汇总：计划比例 = 保留的检查事项数 ÷ 对象库数量；"
        "目标比例 = 期望检查数 ÷ 对象库数量。",
        "Per (department, tier): planned = checks kept ÷ pool size; "
        "target = expected checks ÷ pool size.",
    ),
    "note_ratio_fallback": (
        "计划未携带（事项×风险分类）分层表，按风险分类（accounting）与按部门（tasks）分别列示。",
        "The plan carries no (item × tier) strata table; ratios are shown per tier "
        "(accounting) and per department (tasks) separately.",
    ),
    # months
    "month": ("月份", "Month"),
    "slots_used": ("已派人次", "Inspector-slots used"),
    "capacity_slots": ("可用人次", "Inspector-slot capacity"),
    "utilisation": ("负荷率", "Utilisation"),
    "chart_month_visits": ("各月检查数", "Visits per month"),
    "chart_month_slots": ("各月派员人次与可用人次", "Inspector-slots per month"),
    "capacity_source_plan": (
        "检查力量取自计划携带的（部门×月份）容量表。",
        "Capacity comes from the plan's (department × month) capacity table.",
    ),
    "capacity_source_dataset": (
        "检查力量由执法检查人员名录库计算：在岗且当月可派人员的每月检查上限之和。",
        "Capacity computed from the inspector pool: the monthly capacity of every "
        "active inspector available that month.",
    ),
    "capacity_source_ledger": (
        "计划未携带按月容量表，只有抽取记录中的各部门全年可用人次；按月图表只显示已派人次。",
        "The plan carries no monthly capacity table, only each department's annual "
        "capacity from the draw record; monthly charts show the slots used only.",
    ),
    "capacity_source_none": (
        "计划未携带检查力量信息（可传入数据集以计算）；图表只显示已派人次。",
        "The plan carries no capacity information (pass the dataset to compute it); "
        "charts show the slots used only.",
    ),
    "annual_capacity": ("全年可用人次", "Annual capacity (slots)"),
    "utilisation_table": (
        "各部门各月负荷率（已派 ÷ 可用）",
        "Utilisation per department and month (used ÷ capacity)",
    ),
    # load
    "inspector": ("检查人员编号", "Inspector"),
    "n_inspectors": ("人员数", "Inspectors"),
    "load_min": ("最少", "Min"),
    "load_median": ("中位数", "Median"),
    "load_max": ("最多", "Max"),
    "load_mean": ("平均", "Mean"),
    "max_month_load": ("单月最多", "Max in a month"),
    "idle": ("未派任务人员", "Idle inspectors"),
    "chart_load_hist": ("每名检查人员全年检查数", "Visits per inspector in the year"),
    "chart_load_box": ("各部门人员工作量", "Load per inspector by department"),
    "n_inspectors_axis": ("人数", "Inspectors"),
    # joint
    "n_joint": ("联合检查数", "Joint visits"),
    "n_single": ("单部门检查数", "Single-department visits"),
    "joint": ("联合", "Joint"),
    "single": ("单部门", "Single"),
    "note_joint": (
        "部门联合抽查：“进一次门、查多项事”（R14）；一次联合检查计入每个参与部门。",
        "Joint visits: one visit, many items (R14); a joint visit counts for every "
        "department that takes part.",
    ),
    # exclusions
    "reason": ("原因", "Reason"),
    "reason_code": ("原因代码", "Reason code"),
    "count": ("数量", "Count"),
    "none_excluded": ("没有被排除的主体。", "No entity is excluded."),
    # diagnostics
    "all_staffed": (
        "全部检查均已派员，无不可行项。",
        "Every visit is staffed; nothing is infeasible.",
    ),
    "unfilled_visits": ("未能派员的检查", "Unfilled visits"),
    "unfilled_by_month": (
        "未能派员的检查（按部门、月份）",
        "Unfilled visits by department and month",
    ),
    "draw_warnings": ("抽取阶段提示", "Draw warnings"),
    "binding_groups": ("约束瓶颈", "Binding constraint groups"),
    "visit_id": ("检查编号", "Visit"),
    "uscc": ("统一社会信用代码", "USCC"),
    "group": ("约束组", "Group"),
    "needed": ("需要", "Needed"),
    "available": ("可用", "Available"),
    "shortfall": ("缺口", "Shortfall"),
    "departments": ("部门", "Departments"),
    "more_rows": (
        "另有 {n} 行未列出（见 diagnostics.json）。",
        "{n} more rows not shown (see diagnostics.json).",
    ),
    # deadlines
    "check_ends": (
        "检查结束日（当月最后一个工作日）",
        "Check ends (last working day of the month)",
    ),
    "publish_by": ("最迟公示日期", "Publish by"),
    "calendar_unknown": ("日历未知", "calendar unknown"),
    "note_deadlines": (
        "谁检查、谁录入、谁公开（R17）：检查结果须在检查结束之日起 20 个工作日内公示（R18），"
        "按国务院办公厅公布的节假日与调休安排计算。",
        "Whoever inspects publishes (R17): results are due within 20 working days after "
        "the check ends (R18), on the official holiday calendar with make-up workdays.",
    ),
    "calendar_missing": (
        "未安装 chinesecalendar（calendar 扩展），无法计算公示期限。",
        "chinesecalendar (the 'calendar' extra) is not installed; deadlines not computed.",
    ),
    # provenance
    "key": ("项目", "Item"),
    "algorithm": ("算法版本", "Algorithm"),
    "policy_hash": ("策略哈希", "Policy hash"),
    "created_at": ("生成时间", "Created at"),
    "operator": ("操作人", "Operator"),
    "as_of": ("评分基准日", "Scoring date"),
    "ledger_head": ("抽取记录链尾哈希", "Ledger head"),
    "ledger_records": ("抽取记录条数", "Ledger records"),
    "input_hashes": ("输入表 SHA-256", "Input tables (SHA-256)"),
    "output_hashes": ("输出文件 SHA-256", "Output files (SHA-256)"),
    "versions": ("软件版本", "Versions"),
    "table": ("表", "Table"),
    "file": ("文件", "File"),
    "package": ("软件包", "Package"),
    "version": ("版本", "Version"),
    "sha256": ("SHA-256", "SHA-256"),
    "verify_hint": (
        "任何人可用 creditsup verify PLAN --data DIR 由输入数据与种子重新计算并逐字节核对本计划。",
        "Anyone can re-derive and check this plan byte for byte with "
        "creditsup verify PLAN --data DIR.",
    ),
    "no_data": ("无数据。", "No data."),
}

TIER_LABELS: dict[str, tuple[str, str]] = {
    "A": ("A 低风险", "A (low)"),
    "B": ("B 一般风险", "B (medium)"),
    "C": ("C 较高风险", "C (elevated)"),
    "D": ("D 高风险", "D (high)"),
    "E": ("E 最高风险", "E (highest)"),
    "none": ("未分类", "none"),
}

EXCLUSION_LABELS: dict[str, tuple[str, str]] = {
    "deregistered": ("已注销", "deregistered"),
    "revoked": ("已吊销", "revoked"),
    "no_tier": ("无风险分类", "no tier"),
    "trigger_only": ("仅触发式监管", "trigger-only tier"),
    "observation_period": ("新设观察期", "observation period"),
    "cap_reached": ("已达年度检查上限", "annual cap reached"),
    "cap_trimmed": ("因上限删减检查", "visits trimmed by the cap"),
    "out_of_scope": ("不属任何事项范围", "outside every item's scope"),
    "recently_checked": ("近期已检查", "recently checked"),
    "zero_ratio": ("抽查比例为零", "zero ratio"),
    "not_drawn": ("未抽中", "not drawn"),
}

_MONTHS_EN = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def t(key: str, lang: str, **fmt: object) -> str:
    """The display text of ``key`` in ``lang`` (``zh`` or ``en``)."""
    zh, en = TEXT.get(key, (key, key))
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt else text


def label(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """A code's display label, or the code itself when unknown."""
    pair = table.get(str(key))
    if pair is None:
        return str(key)
    return pair[0] if lang == "zh" else pair[1]


def month_label(month: int, lang: str) -> str:
    """``3`` → ``3月`` / ``Mar``."""
    return f"{int(month)}月" if lang == "zh" else _MONTHS_EN[int(month) - 1]
