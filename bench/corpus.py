"""The generator's text vocabulary: real paragraphs and headlines, read from
``bench/data/corpus.json`` (built by ``python -m bench.build_corpus`` from tests/data/reference/)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "corpus.json"

_corpus = json.loads(DATA.read_text(encoding="utf-8"))
#: Plain-text paragraphs of the real finews posts (entities decoded, tags removed, no duplicates).
PARAGRAPHS: list[str] = _corpus["paragraphs"]
#: Real headlines: the finews posts' titles and thepaper's hot list.
TITLES: list[str] = _corpus["titles"]
