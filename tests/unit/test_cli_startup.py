"""The CLI starts light: `scanner --help` imports none of the numeric stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pandas", "pyarrow", "exchange_calendars")


def test_help_imports_no_numeric_library():
    probe = (
        "import sys\n"
        "from scanner_core.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:', *(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "loaded:"


def test_the_public_names_import_on_first_use():
    import scanner_core

    assert scanner_core.BaseScanner.__name__ == "BaseScanner"
    assert set(scanner_core.__all__) <= set(dir(scanner_core))
