"""Snapshot of the segmenter's output: a speed-up must not change a single segment.

The other segmenter tests check properties (any split gives the segments of the whole
text, coverage, bounded look-ahead); they cannot tell that an optimisation changed
*which* segments a text gets. This file pins them: for the golden rules sets in
``../shared/bench`` (read at run time, never copied here) and for a seeded random
corpus built from the hard shapes of ``test_segmenter_differential.py``, the digest of
every segment (index, offsets, text, kind, speech) under each policy setting must equal
the one recorded in ``segmenter_snapshot.json``.

The digests were recorded before the per-language tables were shared (commit
3b7550e). A deliberate change of the rules changes them: review the segments that
changed, then record the new digests with ``UPDATE_SEGMENTER_SNAPSHOT=1 pytest
tests/test_segmenter_snapshot.py`` and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from e2estream import Segment
from e2estream.testing import split_like_llm
from helpers import run_segmenter
from test_segmenter_differential import FAMILIES, KNOBS, LANGUAGES, SEPARATORS

SNAPSHOT = Path(__file__).with_name("segmenter_snapshot.json")
GOLDEN_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench"
GOLDEN_LANGUAGES = ["en", "de"]
RANDOM_TEXTS = 120
RANDOM_SEED = 20261202


def random_corpus() -> list[str]:
    """Texts of up to 40 hard fragments glued by separators, the same on every run."""
    rng = random.Random(RANDOM_SEED)
    texts = []
    for _ in range(RANDOM_TEXTS):
        size = rng.randint(1, 40)
        texts.append(
            "".join(rng.choice(rng.choice(FAMILIES)) + rng.choice(SEPARATORS) for _ in range(size))
        )
    return texts


def _segments_repr(segments: list[Segment]) -> str:
    return repr([(s.index, s.start, s.end, s.text, s.kind, s.speech) for s in segments])


def digest(texts: list[str], language: str, knobs: list[dict[str, Any]]) -> str:
    """The digest of the segments of ``texts`` under every setting in ``knobs``.

    Each text is also fed token by token, and must give the segments of the whole.
    """
    h = hashlib.sha256()
    for text in texts:
        for knob in knobs:
            whole = run_segmenter([text], language, knob)
            assert run_segmenter(split_like_llm(text), language, knob) == whole, (text, knob)
            h.update(_segments_repr(whole).encode("utf-8", "surrogatepass"))
            h.update(b"\0")
    return h.hexdigest()[:32]


def golden_records(language: str) -> list[dict[str, Any]]:
    path = GOLDEN_DIR / f"golden_{language}.json"
    if not path.exists():
        pytest.skip(f"{path} is not there (the shared folder beside the repository)")
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records


def check(digests: dict[str, str]) -> None:
    """Compare ``digests`` with the recorded ones (or record them, when asked to)."""
    snapshot: dict[str, str] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    if os.environ.get("UPDATE_SEGMENTER_SNAPSHOT") == "1":
        snapshot.update(digests)
        SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
        return
    changed = sorted(key for key, value in digests.items() if snapshot.get(key) != value)
    assert not changed, f"segments changed for {changed}"


@pytest.mark.parametrize("language", GOLDEN_LANGUAGES)
def test_golden_rules_are_segmented_as_recorded(language: str) -> None:
    records = golden_records(language)
    assert records
    check(
        {
            # Under its own language's rules, and under the neutral ones ("xx").
            f"golden/{record['id']}/{rules}": digest([record["text"]], rules, KNOBS)
            for record in records
            for rules in (language, "xx")
        }
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_random_corpus_is_segmented_as_recorded(language: str) -> None:
    check({f"random/{language}": digest(random_corpus(), language, KNOBS)})
