"""A unit's features come in the same order in every process: the reading cache keeps them as
written and the model sums them in that order, so an order that followed a set's (Python's
string hashing differs per process) made two runs' cache entries differ, byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO

_SCRIPT = """
import json, sys
import classifiers
from classifiers.engine import analyse
from classifiers.features import candidate_features
from tests.classifiers.conftest import dev_source_documents

classifiers.load()
out = []
for doc in dev_source_documents(every=40):
    analysis = analyse(doc)
    cache = {}
    for cid, cands in sorted(analysis.candidates.items()):
        for c in cands:
            out.append(list(candidate_features(c, analysis.context, analysis.doc_type, False,
                                               cache)))
json.dump(out, sys.stdout)
"""


def _feature_names(seed: str) -> list:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, cwd=REPO, check=True,
                          capture_output=True, text=True, timeout=600)
    return json.loads(done.stdout)


def test_features_come_in_one_order_whatever_the_hash_seed():
    first = _feature_names("1")
    assert any(any(k.startswith(("title:", "section:")) for k in f) for f in first)
    for seed in ("2", "3"):
        assert _feature_names(seed) == first
