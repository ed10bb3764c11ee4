"""The spaCy side of the Chinese pipeline: a blank `zh` pipeline segmented by jieba.

spaCy's jieba segmenter calls the process-wide `jieba` tokenizer, so the policy terms and the 22
counties become single tokens only once jieba has loaded our user dictionary. The pipeline built by
scripts/build_nlu_assets.py names the callback below in its config (`[nlp.after_creation]`), so
`spacy.load("build/nlu/spacy_zh")` — what Rasa's SpacyNLP does — loads the dictionary first.
The callback must be registered before spacy.load: Rasa imports this module through
bot.components.facts_extractor when it reads the pipeline, before any component is created.
"""
from __future__ import annotations

import threading
from pathlib import Path

from spacy.util import registry

CALLBACK = "hotline.jieba_userdict.v1"
DEFAULT_USERDICT = "build/nlu/jieba_userdict.txt"  # relative to the repository root (Rasa's working directory)
_loaded: set[str] = set()
_lock = threading.Lock()


def load_jieba_userdict(path: str | Path) -> None:
    """Load a jieba user dictionary into the process-wide jieba tokenizer (once per file)."""
    import jieba

    if not Path(path).is_file() and Path(DEFAULT_USERDICT).is_file():
        path = DEFAULT_USERDICT  # the checkout moved since `make nlu-assets`: use this checkout's build/
    path = str(Path(path).resolve())
    with _lock:
        if path in _loaded:
            return
        if not Path(path).is_file():
            raise FileNotFoundError(f"jieba user dictionary {path} is missing: run `make nlu-assets`")
        jieba.setLogLevel(60)  # jieba prints its cache loading to stderr otherwise
        jieba.load_userdict(path)
        _loaded.add(path)


@registry.callbacks(CALLBACK)
def make_userdict_loader(path: str):
    def load(nlp):
        load_jieba_userdict(path)
        return nlp
    return load
