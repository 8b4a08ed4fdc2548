"""The Simplified Chinese catalogue stays complete and compiled."""

import ast
from pathlib import Path

from django.utils import translation

PO = Path(__file__).resolve().parents[2] / "locale/zh_Hans/LC_MESSAGES/django.po"


def po_entries(text: str) -> list[dict[str, str]]:
    """A small .po reader: msgid, msgid_plural, msgstr and msgstr[n], multi-line strings and
    flags; enough to check a catalogue without GNU gettext installed."""
    entries, entry, key = [], {}, None
    for line in text.splitlines() + [""]:
        line = line.strip()
        if not line:
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#,"):
            entry["flags"] = line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = [e for e in po_entries(PO.read_text(encoding="utf-8")) if e.get("msgid")]
    untranslated = [
        e["msgid"] for e in entries if not all(v for k, v in e.items() if k.startswith("msgstr"))
    ]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e.get("flags", "")]
    assert len(entries) > 300
    assert (untranslated, fuzzy) == ([], [])


def test_compiled_catalogue_is_used():
    with translation.override("zh-hans"):
        assert translation.gettext("Insufficient stock: %(lines)s") == "库存不足：%(lines)s"
