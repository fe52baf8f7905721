"""Every tunable value of the classifier, each with the reason it has that value."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PATTERNS_DIR = PACKAGE_DIR / "patterns"
MODEL_DIR = PACKAGE_DIR / "model"

#: The calendar part of CLASSIFIER_VERSION; bump by hand for changes in the Python logic. Changes
#: in patterns, vocabularies, the calibration artefact or the spaCy model change the hash part.
VERSION_BASE = "2026.12.1"

#: Spanish model; parser and NER excluded: ~2.5x faster and not needed (senter splits sentences).
SPACY_MODEL = "es_core_news_sm"
SPACY_EXCLUDE = ("parser", "ner")
#: The model's language: cached annotations are rebuilt on its blank vocabulary (no model load).
SPACY_LANGUAGE = "es"

#: BLAS threads of a process that tags text: workers run one per core, and on 2 busy cores
#: OpenBLAS's default (one thread per core) made tagging 3 times slower in CPU and wall time.
BLAS_THREADS = 1

#: Blocks longer than this (characters) are cut before tagging, so one run-on OCR block cannot
#: make the tagger's cost explode; real sentences are far shorter.
MAX_BLOCK_CHARS = 5000

#: Text (characters, about 30 pages) tagged and matched at once: a longer document is analysed
#: a chunk at a time and its tagged chunks are moved to a temporary file once matched
#: (``units.Spill``), so its memory does not grow with its length by ~250 bytes a token.
#: Documents shorter than this are analysed in one go, as before.
TAG_CHUNK_CHARS = 100_000

#: How many excerpts per commitment are returned (reviewers read the top 3).
MAX_EVIDENCE = 5

#: An excerpt is shown only if its score is at least this share of the best excerpt's score:
#: weaker matches of the same commitment are usually context, not proof (reviewers read 3).
EVIDENCE_RELATIVE_MIN = 0.8

#: Units of the first page scanned for title cues of the document type.
TITLE_UNITS = 6

#: A line that closes a sentence and is shorter than this share of its page's longest line ends
#: its paragraph on a text layer (which writes no blank line between paragraphs): the line after it
#: starts a new block, so ``block:`` conditions stay inside their paragraph.
PARAGRAPH_END_WIDTH = 0.8

#: On an OCR page, a paragraph of three lines or more with few full stops is a table unless it
#: is one sentence wrapped: it ends with a full stop and each line but the last is at least this
#: share of its longest line.
WRAPPED_LINE_WIDTH = 0.75

#: A line shorter than this, without final punctuation, is a heading rather than wrapped text.
HEADING_MAX_CHARS = 90

#: Score (sum of evidence weights, see scoring) at which a commitment is called supported when no
#: calibration artefact says otherwise.
DEFAULT_THRESHOLD = 2.0

#: Calibration artefact format; a file with another format is rejected (and rebuilt by train).
CALIBRATION_FORMAT = 2
CALIBRATION_FILE = MODEL_DIR / "calibration.json"

#: The learned second stage (classifiers/second_stage.py); no file means rules alone, by choice.
SECOND_STAGE_FILE = MODEL_DIR / "second_stage.json"

#: With the second stage, a passage is shown as evidence when the passage model gives it at least
#: this probability (the best one is always shown): the model's own decision boundary.
EVIDENCE_MIN_PROBABILITY = 0.5

#: ``after:`` conditions look this many units ahead: a body elected in one sentence and dissolved
#: two sentences later is not a body that exists.
AFTER_UNITS = 3
