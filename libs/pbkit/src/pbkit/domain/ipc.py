"""International Patent Classification (IPC, WIPO) symbols, as written in CNIPA records.

A symbol such as ``G06F 16/27`` is: section A-H, two-digit class, subclass
letter, optional space, main group of 1-4 digits, ``/``, subgroup of 2-6
digits (strict pattern ``^[A-H]\\d{2}[A-Z] ?\\d{1,4}/\\d{2,6}$``). A trailing
version indicator such as ``(2019.01)`` is dropped. The canonical form has
exactly one space between subclass and main group.
"""

import re
import unicodedata

# [0-9], not \d: \d is any Unicode decimal digit, and IPC digits are ASCII (full-width ones are folded first).
_VERSION_SUFFIX = re.compile(r"\s*\([0-9]{4}\.[0-9]{2}\)\s*$")
_SYMBOL = re.compile(r"([A-H][0-9]{2}[A-Z]) ?([0-9]{1,4}/[0-9]{2,6})")


class InvalidIPC(ValueError):
    """The text is not an IPC symbol at group level."""


def normalise_ipc(text: str) -> str:
    """Canonical form of an IPC symbol, e.g. ``g06f16/27 (2019.01)`` -> ``G06F 16/27``."""
    if not isinstance(text, str):
        raise InvalidIPC(f"an IPC symbol must be text, got {text!r}")
    folded = unicodedata.normalize("NFKC", text).strip().upper()
    folded = " ".join(_VERSION_SUFFIX.sub("", folded).split())
    match = _SYMBOL.fullmatch(folded)
    if match is None:
        raise InvalidIPC(
            f"{text!r} is not an IPC symbol like 'G06F 16/27' "
            "(section A-H, 2-digit class, subclass letter, "
            "main group of 1-4 digits, '/', subgroup of 2-6 digits)"
        )
    subclass, group = match.groups()
    return f"{subclass} {group}"
