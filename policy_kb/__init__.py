"""policy_kb: 宁政办规发〔2022〕7号 (the "20 measures") as dated, cited, deterministic rules.

Imports only the standard library and PyYAML, so the Rasa environment (Python 3.10) and the
service environment use the same rules. Public API (shared/contract.md §3):

    evaluate(facts) -> dict         the Evaluation of contract §2
    InvalidFacts                    raised for bad input; .field names the culprit
    explain(evaluation) -> str      readable Chinese explanation
"""
from policy_kb.tables import (  # noqa: F401
    County,
    counties,
    employment_labels,
    question_for,
    resolve_city,
    resolve_county,
    status_labels,
)
