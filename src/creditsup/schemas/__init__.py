"""The data contract: vocabularies, table schemas and lazy, vectorised validation.

Modules: :mod:`~creditsup.schemas.vocab` (the vocabularies, each written
once), :mod:`~creditsup.schemas.tables` (the table schemas and the date
window), :mod:`~creditsup.schemas.lists` (``;`` lists and availability
masks), :mod:`~creditsup.schemas.dataset` (:class:`Dataset`) and
:mod:`~creditsup.schemas.validate` (the checks).

:func:`validate_dataset` checks every table of a dataset at once and either
returns a typed :class:`Dataset` or raises
:class:`~creditsup.exceptions.DataValidationError` whose ``failure_cases``
frame lists *every* failure with its table, row (0-based data row; ``-1``
for a table-level failure), column, value, rule code and message, the way
pandera's lazy validation does.

Rule codes (stable): ``missing_table``, ``missing_column``, ``missing_value``,
``wrong_type``, ``bad_date``, ``duplicate_key``, ``invalid_uscc``,
``excel_mangled_uscc``, ``unknown_enum``, ``negative_value``,
``empty_legal_basis`` (R02), ``unknown_reference``, ``bad_list_value``,
``implausible_date`` (outside :class:`DateWindow`), ``control_character``.
"""

from creditsup.schemas.dataset import Dataset, table_hash
from creditsup.schemas.lists import available_in, explode_list, unavailable_bits
from creditsup.schemas.tables import (
    EARLIEST_DATE,
    SCHEMAS,
    Column,
    DateWindow,
    TableSchema,
)
from creditsup.schemas.validate import (
    assemble_dataset,
    load_dataset,
    uscc_buckets,
    validate_dataset,
    validate_partition,
    validate_table,
    validate_tables,
)
from creditsup.schemas.vocab import (
    ASSIGNMENT_COLUMNS,
    ENTITY_TYPES,
    EXCLUSION_REASONS,
    EXEMPT_TRIGGERS,
    HISTORY_RESULTS,
    ITEM_KINDS,
    PROBLEM_RESULTS,
    PUBLIC_PLAN_COLUMNS,
    PUBLIC_RESULT_COLUMNS,
    RECORD_KINDS,
    RULE_CODES,
    STATUSES,
    TAX_LEVELS,
    TIERS,
    TRIGGERS,
    VISIT_COLUMNS,
    ExclusionReason,
    HistoryResult,
    RecordKind,
    Tier,
    Trigger,
)

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "EARLIEST_DATE",
    "ENTITY_TYPES",
    "EXCLUSION_REASONS",
    "EXEMPT_TRIGGERS",
    "HISTORY_RESULTS",
    "ITEM_KINDS",
    "PROBLEM_RESULTS",
    "PUBLIC_PLAN_COLUMNS",
    "PUBLIC_RESULT_COLUMNS",
    "RECORD_KINDS",
    "RULE_CODES",
    "SCHEMAS",
    "STATUSES",
    "TAX_LEVELS",
    "TIERS",
    "TRIGGERS",
    "VISIT_COLUMNS",
    "Column",
    "Dataset",
    "DateWindow",
    "ExclusionReason",
    "HistoryResult",
    "RecordKind",
    "TableSchema",
    "Tier",
    "Trigger",
    "assemble_dataset",
    "available_in",
    "explode_list",
    "load_dataset",
    "table_hash",
    "unavailable_bits",
    "uscc_buckets",
    "validate_dataset",
    "validate_partition",
    "validate_table",
    "validate_tables",
]
