"""Text normalisation shared by every reader: what the classifier and the reviewer see."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_text", "RTL_RE"]

#: Presentation forms (Latin ligatures U+FB00-FB06, Arabic U+FB50-FDFF and U+FE70-FEFF) are glyph
#: variants, not letters: fold them to the letters they stand for so "ﬁnanciamiento" matches.
_PRESENTATION_FORMS = re.compile("[\ufb00-\ufb06\ufb13-\ufb17\ufb50-\ufdff\ufe70-\ufeff]+")
#: Control characters other than tab/newline, and the soft hyphen, carry no text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u00ad\u200b\ufeff\ufffe\uffff]")
RTL_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def normalize_text(text: str) -> str:
    """NFC, ligatures and presentation forms folded, CR/LF unified, control characters dropped."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)
