"""The Chinese pipeline's own parts, with real spaCy, jieba and Rasa components (Rasa env only;
`make test-nlu` runs this file with .venv-rasa after `make nlu-assets`)."""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.rasa
spacy = pytest.importorskip("spacy", reason="the Rasa environment (.venv-rasa) runs these")

REPO = Path(__file__).resolve().parents[2]
SPACY_MODEL = REPO / "build" / "nlu" / "spacy_zh"
sys.path.insert(0, str(REPO))


@pytest.fixture(scope="module")
def nlp():
    if not SPACY_MODEL.exists():
        pytest.fail("build/nlu/spacy_zh is missing: run `make nlu-assets`")
    import bot.components.spacy_zh  # noqa: F401  registers the jieba user-dictionary callback

    return spacy.load(SPACY_MODEL)


@pytest.fixture(scope="module")
def rasa_parts(nlp):
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from bot.components.facts_extractor import FactsEntityExtractor
    from bot.components.facts_featurizer import KINDS, FactsFeaturizer

    spacy_nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": str(SPACY_MODEL)}, None, None, None)
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), None, None, None)
    extractor = FactsEntityExtractor.create(FactsEntityExtractor.get_default_config(), None, None, None)

    class Ctx:
        node_name = "facts_featurizer"

    featurizer = FactsFeaturizer.create(FactsFeaturizer.get_default_config(), None, None, Ctx())
    return spacy_nlp, tokenizer, extractor, featurizer, KINDS


def run(parts, text):
    from rasa.shared.nlu.training_data.message import Message

    spacy_nlp, tokenizer, extractor, featurizer, _ = parts
    message = Message(data={"text": text})
    spacy_nlp.process([message], spacy_nlp.provide())
    for component in (tokenizer, featurizer, extractor):
        component.process([message])
    return message


def test_policy_terms_and_counties_are_single_jieba_tokens(nlp):
    from policy_kb.tables import counties

    for county in counties():
        for name in (county.name, *county.aliases):
            tokens = [t.text for t in nlp(f"我家在{name}农村")]
            assert name in tokens, (name, tokens)
    tokens = [t.text for t in nlp("不是低保户但是低保边缘户，没交失业保险")]
    assert {"低保户", "低保边缘户", "失业保险"} <= set(tokens), tokens


def test_entity_ruler_patterns_come_from_the_tables_and_agree_with_extraction(nlp):
    import extraction
    from policy_kb.tables import counties

    for county in counties():
        for name in (county.name, *county.aliases):
            doc = nlp(f"我是{name}的")
            ents = [(e.label_, e.ent_id_) for e in doc.ents]
            assert ("county", county.name) in ents, (name, ents)
            assert extraction.extract(doc.text).facts["county"] == county.name


def test_extractor_entities_cover_whole_tokens_and_facts_are_in_the_parse(rasa_parts):
    message = run(rasa_parts, "俺是西吉县的，不是低保户但是低保边缘户，一家四口，三个多月没收入")
    tokens = message.get("text_tokens")
    starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
    entities = message.get("entities")
    assert {(e["entity"], e["value"]) for e in entities} >= {
        ("county", "西吉县"), ("not_status", "dibao"), ("status", "dibao_marginal"), ("household_size", "4"),
        ("months_without_income", "3")}
    for ent in entities:
        assert ent["start"] in starts and ent["end"] in ends, ent
        assert ent["extractor"] == "FactsEntityExtractor"
    assert message.get("facts") == {"county": "西吉县", "not_statuses": ["dibao"], "statuses": ["dibao_marginal"],
                                    "household_size": 4, "months_without_income": 3}
    assert {"facts", "measures", "urgent_reason", "entities"} <= message.output_properties  # in /model/parse


def test_no_two_entities_share_a_token(rasa_parts):
    message = run(rasa_parts, "我们被困在服务区了，隆德县城住着")
    spans = sorted((e["start"], e["end"]) for e in message.get("entities"))
    for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
        assert e1 <= s2, spans
    assert message.get("facts")["stranded"] is True  # the fact stays although its entity overlapped


def test_facts_featurizer_marks_kinds(rasa_parts):
    kinds = rasa_parts[4]
    message = run(rasa_parts, "家里断粮了，村干部还截留救助款")
    seq, sent = message.get_sparse_features("text")
    row = sent.features.toarray()[0]
    on = {kinds[i] for i, v in enumerate(row) if v}
    assert {"urgent", "measure", "misconduct", "any_fact"} <= on and "county" not in on
    assert seq.features.shape == (len(message.get("text_tokens")), len(kinds))


def test_training_annotations_match_the_extractor():
    files = sorted(str(p) for p in (REPO / "nlu_data" / "nlu").glob("*.yml"))
    done = subprocess.run([sys.executable, str(REPO / "nlu_data" / "tools" / "annotate.py"), "--check", *files],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
