"""A tiny hand-written dataset that satisfies the contract (for schema tests)."""

from __future__ import annotations

import pandas as pd

U1 = "914403001922038216"
U2 = "91330100716105852F"
U3 = "9144030071526726XG"
U4 = "91110000600037341L"


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Raw tables (all text) of a valid four-entity district."""
    entities = pd.DataFrame(
        {
            "uscc": [U1, U2, U3, U4],
            "name": ["忻州甲公司", "忻州乙商店", "忻州丙合作社", "忻州丁公司"],
            "entity_type": ["enterprise", "individual", "cooperative", "enterprise"],
            "industry": ["F5211", "H6210", "A0111", "C1391"],
            "region": ["140902", "140902", "140903", "140902"],
            "established": ["2010-05-01", "2018-01-31", "2020-07-15", "2005-03-03"],
            "status": ["active", "active", "active", "deregistered"],
        }
    )
    records = pd.DataFrame(
        {
            "uscc": [U1, U2, U2],
            "kind": ["penalty", "abnormal_list", "tax_credit"],
            "date": ["2024-03-01", "2023-06-01", "2025-04-01"],
            "end_date": ["2027-03-01", "", ""],
            "restored_on": ["", "2024-01-10", ""],
            "severity": ["2", "", ""],
            "value": ["", "", "B"],
        }
    )
    inspectors = pd.DataFrame(
        {
            "inspector_id": ["I001", "I002", "I003"],
            "name": ["张三", "李四", "王五"],
            "department": ["market", "market", "food"],
            "region": ["140902", "140903", "140902"],
            "expertise": ["licensing;ads", "licensing", "food_safety"],
            "monthly_capacity": ["5", "4", "6"],
            "unavailable_months": ["", "7;8", ""],
        }
    )
    conflicts = pd.DataFrame(
        {"inspector_id": ["I002"], "uscc": [U1], "reason": ["亲属"]}
    )
    items = pd.DataFrame(
        {
            "item_id": ["M01", "F01"],
            "department": ["market", "food"],
            "name": ["公示信息检查", "食品经营检查"],
            "legal_basis": [
                "《企业信息公示暂行条例》第十四条",
                "《中华人民共和国食品安全法》第八十七条",
            ],
            "kind": ["general", "key"],
            "entity_types": ["*", "enterprise;individual"],
            "industries": ["*", "F52;H62"],
            "expertise": ["licensing", "food_safety"],
            "joint_group": ["G1", "G1"],
        }
    )
    history = pd.DataFrame(
        {
            "uscc": [U1, U2],
            "date": ["2025-05-10", "2025-09-01"],
            "department": ["market", "food"],
            "result": ["normal", "problem_corrected"],
            "inspector_ids": ["I001;I002", "I003"],
            "trigger": ["random", "complaint"],
        }
    )
    return {
        "entities": entities,
        "records": records,
        "inspectors": inspectors,
        "conflicts": conflicts,
        "items": items,
        "history": history,
    }
