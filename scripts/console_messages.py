"""Keep the staff console's catalogs in step with its code: extract the messages of the templates and
of bot/web/admin (pybabel, with babel.cfg) into locale/console.pot, and merge them into each
language's console.po, keeping the translations there (new messages come in untranslated, which
tests/web/admin/test_i18n.py reports).

    python scripts/console_messages.py        # `make messages`
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "bot" / "web" / "admin" / "locale"
POT = LOCALE / "console.pot"
KEYWORDS = ["-k", "_", "-k", "ngettext:1,2", "-k", "N_"]  # the console's _ and ngettext; the KB's N_


def main() -> None:
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", *KEYWORDS, "--no-location", "--sort-output",
         "--omit-header", "-o", str(POT), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with POT.open("rb") as source:
        template = read_po(source)
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/console.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        with po.open("wb") as out:
            write_po(out, catalog, no_location=True, sort_output=True, width=100, ignore_obsolete=True)
        untranslated = [m.id for m in catalog if m.id and not m.string]
        print(f"{po.relative_to(ROOT)}: {len(catalog)} messages, {len(untranslated)} untranslated")


if __name__ == "__main__":
    main()
