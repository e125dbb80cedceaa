"""The one table of bilingual display labels: ``key -> (Chinese, English)``.

Every column header and every code value that creditsup shows to people
comes from :data:`LABELS`: the public files of :mod:`creditsup.publish`, the
tables and charts of :mod:`creditsup.report`, and any label the CLI shows.
Keys are of two kinds:

* a column or figure key, e.g. ``uscc`` or ``pool_size`` (:func:`label`);
* a code of a vocabulary, ``"<vocabulary>.<code>"``, e.g. ``tier.A``,
  ``reason_code.no_tier`` or ``joint.true`` (:func:`value_label`).

Add a label here, once, and every output uses it. Longer sentences of the
report (titles, notes, captions) live with the report in
``creditsup/report/_text.py``.

Examples
--------
>>> label("pool_size"), label("pool_size", "en")
('对象总数', 'Pool size')
>>> value_label("tier", "D"), value_label("tier", "D", "en")
('D 高风险', 'D (high)')
>>> value_label("tier", "X")  # an unknown code is shown as it is
'X'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

from creditsup.exceptions import ConfigError

__all__ = [
    "LABELS",
    "LANGS",
    "Lang",
    "check_lang",
    "codes_from_labels",
    "column_from_header",
    "department_names",
    "item_department_names",
    "label",
    "month_label",
    "parse_table",
    "value_label",
    "value_labels",
]

Lang = Literal["zh", "en"]
#: The display languages.
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")

# key | 中文 | English (one label a line; "#" starts a comment)
_TABLE = """
# -- columns of the public files (publish), in their documented order -----
task_id | 任务编号 | Task ID
task | 抽查任务（检查事项） | Task (check item)
task_type | 抽查类型 | Type
item_kind | 事项类别 | Item kind
legal_basis | 检查依据 | Legal basis
scope | 抽查对象范围 | Object scope
pool_size | 对象总数 | Pool size
seed_source | 种子来源 | Seed source
quantity | 抽查数量 | Quantity
ratio | 抽查比例 | Ratio
start_date | 开始日期 | Start date
end_date | 结束日期 | End date
initiating_body | 发起部门 | Initiating body
checking_body | 检查实施部门 | Checking body
mode | 抽查方式 | Mode
department | 检查部门 | Department
uscc | 统一社会信用代码 | USCC
name | 市场主体名称 | Entity name
month | 计划检查月份 | Planned month
joint | 部门联合抽查 | Joint check
visit_id | 检查编号 | Visit ID
# -- figures and columns of the report ------------------------------------
figure | 指标 | Figure
value | 数值 | Value
year | 年度 | Year
seed | 随机种子 | Seed
entities | 市场主体 | Entities
excluded_entities | 未列入抽查的主体 | Excluded entities
visits | 检查（户次） | Visits
joint_visits | 联合检查 | Joint visits
joint_share | 联合检查占比 | Joint-visit share
assignments | 人员派遣（人次） | Inspector assignments
inspectors_used | 参与检查人员 | Inspectors used
unfilled | 未能派员的检查 | Unfilled visits
slots_short | 检查力量缺口（人次） | Inspector-slots short
seed_commitment | 种子承诺值 | Seed commitment
tier | 风险分类 | Tier
n_entities | 主体数 | Entities
share | 占比 | Share
n_visits | 检查数 | Visits
visit_rate | 检查户次/主体 | Visits per entity
n_eligible | 可抽取 | Eligible
n_excluded | 排除 | Excluded
n_drawn | 抽中主体 | Drawn
target_ratio | 目标比例 | Target ratio
planned_ratio | 计划比例 | Planned ratio
difference | 差额（百分点） | Difference (points)
all | 合计 | All
planned | 计划 | Planned
target | 目标 | Target
slots_used | 已派人次 | Inspector-slots used
capacity_slots | 可用人次 | Inspector-slot capacity
utilisation | 负荷率 | Utilisation
annual_capacity | 全年可用人次 | Annual capacity (slots)
inspector | 检查人员编号 | Inspector
n_inspectors | 人员数 | Inspectors
load_min | 最少 | Min
load_median | 中位数 | Median
load_max | 最多 | Max
load_mean | 平均 | Mean
max_month_load | 单月最多 | Max in a month
idle | 未派任务人员 | Idle inspectors
n_joint | 联合检查数 | Joint visits
n_single | 单部门检查数 | Single-department visits
single | 单部门 | Single
reason | 原因 | Reason
reason_code | 原因代码 | Reason code
count | 数量 | Count
group | 约束组 | Group
needed | 需要 | Needed
available | 可用 | Available
shortfall | 缺口 | Shortfall
extra_inspectors | 需增加人员 | Inspectors to add
floor | 法定底线 | Legal floor
required | 要求 | Required
realized | 实际 | Realised
detail | 说明 | Detail
departments | 部门 | Departments
check_ends | 检查结束日（当月最后一个工作日） | Check ends (last working day of the month)
publish_by | 最迟公示日期 | Publish by
key | 项目 | Item
algorithm | 算法版本 | Algorithm
policy_hash | 策略哈希 | Policy hash
created_at | 生成时间 | Created at
operator | 操作人 | Operator
as_of | 评分基准日 | Scoring date
ledger_head | 抽取记录链尾哈希 | Ledger head
ledger_records | 抽取记录条数 | Ledger records
table | 表 | Table
file | 文件 | File
package | 软件包 | Package
version | 版本 | Version
sha256 | SHA-256 | SHA-256
# -- input columns (contract §1); "<table>.<column>" where a table differs --
entity_type | 主体类型 | Entity type
industry | 行业代码 | Industry code
region | 行政区划代码 | Region code
established | 成立日期 | Established
status | 登记状态 | Status
key_supervision | 重点监管对象 | Key supervision
registered_capital | 注册资本（元） | Registered capital (yuan)
address | 住所 | Address
legal_rep | 法定代表人 | Legal representative
records.kind | 记录类型 | Record kind
date | 日期 | Date
restored_on | 信用修复日期 | Restored on
severity | 严重程度 | Severity
source | 来源 | Source
inspector_id | 执法人员编号 | Inspector ID
inspectors.name | 姓名 | Name
expertise | 专业领域 | Expertise
monthly_capacity | 每月可检查户次 | Monthly capacity
unavailable_months | 不可派月份 | Unavailable months
certificate_no | 执法证号 | Certificate number
active | 在岗 | Active
item_id | 事项编号 | Item ID
items.name | 事项名称 | Item name
items.kind | 事项类别 | Item kind
entity_types | 适用主体类型 | Entity types
industries | 适用行业 | Industries
joint_group | 联合抽查组 | Joint group
result | 检查结果 | Result
inspector_ids | 检查人员 | Inspectors
trigger | 检查启动方式 | Trigger
# -- the tables of a dataset ------------------------------------------------
table.entities | 检查对象名录库 | entities
table.records | 信用记录 | records
table.inspectors | 执法检查人员名录库 | inspectors
table.conflicts | 回避关系 | conflicts
table.items | 抽查事项清单 | items
table.history | 历史检查记录 | history
table.results | 检查结果 | results
table.followups | 后续处置 | follow-ups
table.changes | 年中变动 | changes
results.date | 检查日期 | Check date
check_date | 检查日期 | Check date
results.items | 检查事项 | Items
notes | 备注 | Notes
transfer_to | 移送部门 | Transferred to
due_date | 公示期限 | Publication due
published_on | 公示日期 | Publication date
followup_id | 处置编号 | Follow-up ID
followups.kind | 处置类型 | Kind
opened_on | 产生日期 | Opened on
closed_on | 办结日期 | Closed on
outcome | 办结结果 | Outcome
from_date | 生效日期 | From
followup_kind.abnormal_list | 列入经营异常名录 | abnormal list
followup_kind.case | 立案调查 | case
followup_kind.reinspection | 复查 | re-inspection
followup_kind.transfer | 移送 | transfer
# -- codes: registration status, results (R19), record kinds, triggers -----
status.active | 存续 | active
status.deregistered | 注销 | deregistered
status.revoked | 吊销 | revoked
result.normal | 未发现问题 | no problem found
result.not_published | 未按规定公示应当公示的信息 | required information not published
result.false_info | 公示信息隐瞒真实情况、弄虚作假 | false information published
result.unreachable | 通过登记的住所（经营场所）无法联系 | cannot be reached at the registered address
result.problem_corrected | 发现问题已责令改正 | problem found, correction ordered
result.no_activity | 未发现开展本次抽查涉及的经营活动 | no relevant business activity found
result.refused | 不配合检查情节严重 | serious refusal to co-operate
result.deregistered | 已注销或被吊销营业执照 | deregistered or revoked
record_kind.penalty | 行政处罚 | administrative penalty
record_kind.abnormal_list | 经营异常名录 | abnormal-operation list
record_kind.serious_illegal_list | 严重违法失信名单 | serious-illegal list
record_kind.complaint | 投诉举报 | complaint
record_kind.annual_report_late | 年报逾期 | annual report late
record_kind.annual_report_missing | 未报年报 | annual report missing
record_kind.check_problem | 检查发现问题 | problem found in a check
record_kind.tax_credit | 纳税信用等级 | tax credit level
record_kind.honor | 守合同重信用等荣誉 | honour
record_kind.commitment_broken | 违背信用承诺 | credit commitment broken
record_kind.product_sampling_failed | 产品抽检不合格 | product sampling failed
trigger.random | 双随机抽查 | random draw
trigger.complaint | 投诉举报 | complaint
trigger.big_data_alert | 大数据预警 | big-data alert
trigger.referral | 转办交办 | referral
trigger.legal_mandate | 法定检查 | legal mandate
# -- codes: the checks of creditsup verify (plan.verify) -----------------------
verify_check.ledger hash chain | 抽取记录哈希链 | ledger hash chain
verify_check.output file hashes | 输出文件哈希值 | output file hashes
verify_check.input table hashes | 输入数据表哈希值 | input table hashes
verify_check.teams of at least two (R11) | 每次检查至少两名执法人员（R11） | teams of at least two (R11)
verify_check.quiet months (R16) | 不安排检查的月份（R16） | quiet months (R16)
verify_check.seed has the declared form | 种子符合事先声明的格式 | seed has the declared form
verify_check.byte-identical recomputation | 重新计算结果逐字节一致 | byte-identical recomputation
# -- the key figures of a fitted scorecard (creditsup fit) ---------------------
fit.metric | 指标 | Metric
fit.as_of | 截止日期 | As of
fit.outcome | 结果列 | Outcome
fit.n_units | 训练样本数 | Training units
fit.n_events | 事件数 | Events
fit.n_candidates | 候选指标数 | Candidate indicators
fit.n_indicators | 入选指标数 | Indicators
fit.penalty_ratio | 惩罚系数比 | Penalty ratio
fit.max_features | 最多指标数 | Max features
fit.cutoffs | 风险分类切分点 | Tier cut-offs
fit.holdout_auc | 留出样本 AUC | Held-out AUC
fit.holdout_auc_ci | 留出样本 AUC 95% 置信区间 | Held-out AUC 95% CI
# -- codes: credit tiers (schemas.TIERS; "none" = no tier) -----------------
tier.A | A 低风险 | A (low)
tier.B | B 一般风险 | B (medium)
tier.C | C 较高风险 | C (elevated)
tier.D | D 高风险 | D (high)
tier.E | E 最高风险 | E (highest)
tier.none | 未分类 | none
# -- codes: exclusion reasons (schemas.EXCLUSION_REASONS) ------------------
reason_code.deregistered | 已注销 | deregistered
reason_code.revoked | 已吊销 | revoked
reason_code.no_tier | 无风险分类 | no tier
reason_code.trigger_only | 仅触发式监管 | trigger-only tier
reason_code.observation_period | 新设观察期 | observation period
reason_code.cap_reached | 已达年度检查上限 | annual cap reached
reason_code.cap_trimmed | 因上限删减检查 | visits trimmed by the cap
reason_code.out_of_scope | 不属任何事项范围 | outside every item's scope
reason_code.recently_checked | 近期已检查 | recently checked
reason_code.zero_ratio | 抽查比例为零 | zero ratio
reason_code.not_drawn | 未抽中 | not drawn
# -- codes: why an entity got the policy's tier for new entities (sampling) --
reason_code.new_entity | 评分日后新设，按新设主体分类 | registered after the scoring date
reason_code.untiered | 无风险分类，按新设主体分类 | no tier: the tier for new entities
# -- codes: legal floors of the draw (R08, R23), check sources, id kinds ----
floor.overall | 抽查比例下限（5%） | overall floor (5 %)
floor.publicity | 公示信息抽查比例下限（3%） | publicity-check floor (3 %)
floor.key_d | D类重点事项全覆盖 | key items for tier D (100 %)
floor_status.ok | 满足 | met
floor_status.waived | 已豁免 | waived
floor_status.unchecked | 未检查 | not checked
source.random | 双随机抽查 | random draw
source.targeted | 定向抽查 | targeted draw
source.coverage | 最低覆盖 | minimum coverage
id_kind.uscc | 统一社会信用代码 | USCC
id_kind.regno | 注册号（旧） | registration number (legacy)
# -- codes: entity types, task types, item kinds, joint (yes/no) ------------
entity_type.enterprise | 企业 | enterprise
entity_type.individual | 个体工商户 | individual business
entity_type.cooperative | 农民专业合作社 | co-operative
entity_type.other | 其他 | other
task_type.定向 | 定向 | targeted
task_type.不定向 | 不定向 | non-targeted
item_kind.general | 一般检查事项 | general
item_kind.key | 重点检查事项 | key
joint.true | 是 | yes
joint.false | 否 | no
joint.True | 是 | yes
joint.False | 否 | no
"""


def parse_table(text: str) -> dict[str, tuple[str, str]]:
    """``key -> (Chinese, English)`` from ``key | 中文 | English`` lines.

    Blank lines and lines starting with ``#`` are skipped; a key given twice
    is an error (a table edited by hand must not silently lose a label).

    Examples
    --------
    >>> parse_table("# a comment\\nuscc | 统一社会信用代码 | USCC")
    {'uscc': ('统一社会信用代码', 'USCC')}
    """
    table: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, zh, en = (part.strip() for part in line.split("|"))
        if key in table:
            raise ValueError(f"The label key {key!r} is given twice.")
        table[key] = (zh, en)
    return table


#: Every display label: ``key -> (Chinese, English)`` (read-only).
LABELS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(parse_table(_TABLE))

_MONTHS_EN = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def check_lang(lang: str) -> Lang:
    """``lang`` when it is ``zh`` or ``en``, else a :class:`ConfigError`."""
    if lang in LANGS:
        return lang
    raise ConfigError(f"The 'lang' must be 'zh' or 'en'. Got {lang!r} instead.")


def label(key: str, lang: str = "zh") -> str:
    """The display label of ``key`` (``key`` itself when there is none)."""
    pair = LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def value_label(vocabulary: str, code: object, lang: str = "zh") -> str:
    """The display label of a ``code`` of ``vocabulary`` (the code itself when
    there is none)."""
    pair = LABELS.get(f"{vocabulary}.{code}")
    if pair is None:
        return str(code)
    return pair[0] if lang == "zh" else pair[1]


def codes_from_labels(vocabulary: str) -> dict[str, str]:
    """Chinese and English display names of a vocabulary's codes, back to the codes.

    Examples
    --------
    >>> codes_from_labels("entity_type")["个体工商户"]
    'individual'
    """
    prefix = f"{vocabulary}."
    out: dict[str, str] = {}
    for key, (zh, en) in LABELS.items():
        if key.startswith(prefix):
            code = key[len(prefix) :]
            out[zh] = code
            out[en.lower()] = code
    return out


def column_from_header(table: str, header: str) -> str | None:
    """The column key a (possibly Chinese) header names, in ``table``; else ``None``.

    Accepts the key itself, the Chinese or English label (``<table>.<key>``
    first, then ``<key>``), and the public files' ``中文名 key`` form.

    Examples
    --------
    >>> column_from_header("entities", "统一社会信用代码")
    'uscc'
    >>> column_from_header("inspectors", "姓名"), column_from_header("entities", "市场主体名称")
    ('name', 'name')
    """
    text = header.strip()
    found: str | None = None
    for key, (zh, en) in LABELS.items():
        base = key.split(".", 1)[1] if key.startswith(f"{table}.") else key
        if "." in base:
            continue
        if text in (zh, en):
            if key.startswith(f"{table}."):
                return base
            found = found or base
    if found is None and " " in text:
        found = text.rsplit(" ", 1)[-1]
    return found


def value_labels(vocabulary: str, lang: str = "zh") -> dict[str, str]:
    """Every ``code -> label`` of ``vocabulary``, to map a column at once.

    Examples
    --------
    >>> value_labels("item_kind", "en")
    {'general': 'general', 'key': 'key'}
    """
    prefix = f"{vocabulary}."
    idx = 0 if lang == "zh" else 1
    return {
        k[len(prefix) :]: pair[idx]
        for k, pair in LABELS.items()
        if k.startswith(prefix)
    }


def month_label(month: int, lang: str = "zh") -> str:
    """A month's label: ``3`` → ``3月`` / ``Mar``."""
    return f"{int(month)}月" if lang == "zh" else _MONTHS_EN[int(month) - 1]


def item_department_names(items: Any) -> dict[str, str]:
    """Department id -> name from an items table's optional ``department_name``
    column (rows without a name are skipped; no column gives ``{}``).

    Examples
    --------
    >>> import pandas as pd
    >>> item_department_names(pd.DataFrame(
    ...     {"department": ["food", "ads"], "department_name": ["食品安全科", None]}))
    {'food': '食品安全科'}
    """
    if not {"department", "department_name"} <= set(items.columns):
        return {}
    known = items.dropna(subset=["department_name"])
    return dict(
        zip(
            known["department"].astype(str),
            known["department_name"].astype(str),
            strict=True,
        )
    )


def department_names(provenance: Mapping[str, Any]) -> dict[str, str]:
    """Department display names from a plan's provenance (the publication
    policy's ``department_names``; ids without a name are shown as they are)."""
    pub = provenance.get("policy", {}).get("publication", {}) or {}
    names = pub.get("department_names", {}) or {}
    return {str(k): str(v) for k, v in names.items()}
