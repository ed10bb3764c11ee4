"""policy_kb: 宁政办规发〔2022〕7号 (the "20 measures") as dated, cited, deterministic rules.

Imports only the standard library and PyYAML, so the Rasa environment (Python 3.10) and the
service environment use the same rules. Public API (shared/contract.md §3):

    evaluate(facts) -> dict         the Evaluation of contract §2
    decide(facts) -> Decision       the same decisions before they are written out (screening)
    InvalidFacts                    raised for bad input; .field names the culprit
    explain(evaluation) -> str      readable Chinese explanation; summarize() a short reply

Layout: data/ (document text, measures, counties, Facts vocabulary), parameters/ (every figure,
dated, with its sentence), predicates.py (one function per condition), rules.py (one per measure).
"""
from policy_kb.document import document, in_force, measure, measures  # noqa: F401
from policy_kb.evaluation import Decision, decide, evaluate  # noqa: F401
from policy_kb.explain import explain, format_amount, summarize  # noqa: F401
from policy_kb.facts import InvalidFacts, facts_schema, validate_facts  # noqa: F401
from policy_kb.parameters import parameter, parameters  # noqa: F401
from policy_kb.tables import (  # noqa: F401
    County,
    counties,
    employment_labels,
    question_for,
    said_for,
    resolve_city,
    resolve_county,
    status_labels,
)

__all__ = [
    "evaluate", "decide", "Decision", "InvalidFacts", "explain", "summarize", "format_amount", "validate_facts", "facts_schema",
    "document", "measure", "measures", "in_force", "parameter", "parameters", "County", "counties",
    "resolve_county", "resolve_city", "status_labels", "employment_labels", "question_for", "said_for",
]
