"""The CLI starts light: `scanner --help` imports none of the numeric stack, and
`scanner plugins` loads every scanner plugin without pandas or the session behind it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "pyarrow", "exchange_calendars")
#: What neither command needs, even with every installed plugin module imported.
SESSION_STACK = ("pandas", "pyarrow", "exchange_calendars", "scanner_core.session", "cattrs")


def _modules_after(args: list[str]) -> dict[str, object]:
    """Run the CLI's main on ``args`` in a fresh interpreter; what it had imported at exit."""
    probe = (
        "import json, sys\n"
        "from scanner_core.cli import main\n"
        "try:\n"
        f"    main({args!r}, standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return dict.fromkeys(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["plugins"], ["plugins", "--json"]])
def test_help_and_plugins_import_nothing_of_the_session_stack(args: list[str]) -> None:
    modules = _modules_after(args)
    assert [m for m in SESSION_STACK if m in modules] == []


def test_plugins_imports_every_plugin_module_it_lists() -> None:
    from scanner_core.plugins import discover

    # The guard above means nothing unless the listing really imported the plugins.
    records = discover()
    assert records, "no scanner plugin is installed to list"
    modules = _modules_after(["plugins"])
    assert all(r.value.split(":")[0] in modules for r in records)


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
