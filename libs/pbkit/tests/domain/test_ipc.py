"""IPC symbols: the strict pattern, version suffixes and the canonical spacing."""

import pytest

from pbkit.domain.ipc import InvalidIPC, normalise_ipc


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("G06F 16/27", "G06F 16/27"),
        ("G06F16/27", "G06F 16/27"),
        ("g06f 16/27", "G06F 16/27"),
        ("  G06F   16/27 ", "G06F 16/27"),
        ("G06F 16/27 (2019.01)", "G06F 16/27"),
        ("H01L21/02(2006.01)", "H01L 21/02"),
        ("A61K 36/00（2006.01）", "A61K 36/00"),
        ("A01B 1/00", "A01B 1/00"),
        ("B01D 2257/504", "B01D 2257/504"),
        ("H04L 9/321456", "H04L 9/321456"),
    ],
)
def test_accepted_forms_normalise(text, canonical):
    assert normalise_ipc(text) == canonical


@pytest.mark.parametrize(
    "text",
    [
        "",
        "G06F",
        "G06F 16",
        "I06F 16/27",
        "G6F 16/27",
        "G06 16/27",
        "G061 16/27",
        "G06F 16/2",
        "G06F 16/1234567",
        "G06F 12345/27",
        "G06F 16-27",
        "G06F 16/27 (2019)",
        "G06F 16/27; H04L 9/32",
        None,
    ],
)
def test_malformed_symbols_are_rejected(text):
    with pytest.raises(InvalidIPC):
        normalise_ipc(text)


def test_message_shows_the_expected_shape():
    with pytest.raises(InvalidIPC, match="'G06F 16-27' is not an IPC symbol like 'G06F 16/27'"):
        normalise_ipc("G06F 16-27")
