"""The docs say what the code does: config examples load, every hook, command, option and
config field is documented."""

import re
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path

import attrs
import click
import pytest

from scanner_core import config, hookspecs
from scanner_core.cli import main
from scanner_core.config import ConfigError, SessionConfig, parse_config

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _blocks(name: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / name).read_text(), re.S)


def test_every_hookspec_has_a_heading_with_its_signature():
    text = (DOCS / "hooks.md").read_text()
    specs = [n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "scanner_core_spec")]
    assert specs, "no hookspecs found"
    for name in specs:
        code = getattr(hookspecs, name).__code__
        signature = f"## {name}({', '.join(code.co_varnames[: code.co_argcount])})"
        assert signature in text, f"hook {name} has no heading {signature!r}"


@pytest.mark.parametrize("block", _blocks("configuration.md", "toml"))
def test_configuration_examples_load(block):
    config = parse_config(tomllib.loads(block), "doc")
    assert config.scanners


def test_documented_error_lines_are_what_the_loader_prints():
    data = tomllib.loads(_blocks("configuration.md", "toml")[0])
    data["scanners"] = [data["scanners"][0], dict(data["scanners"][0], name="second")]
    data["scanners"][1]["schedule"] = {"interval": "5x"}
    with pytest.raises(ConfigError) as info:
        parse_config(data, "session.toml")
    documented = _blocks("configuration.md", "text")[0].splitlines()
    assert str(info.value) == documented[0]


def test_data_doc_lists_every_reject_kind_in_checking_order():
    from scanner_core.importer import COLLAPSED_KIND, REJECT_KINDS

    text = (DOCS / "data.md").read_text()
    listed = re.findall(r"^\| `(\w+)` \|", text, re.M)
    assert listed == list(REJECT_KINDS)
    assert f"`{COLLAPSED_KIND}`" in text


def test_architecture_doc_lists_every_core_module():
    text = (DOCS / "architecture.md").read_text()
    modules = text[text.index("## Modules") : text.index("## Speed")]
    listed = set(re.findall(r"^\| `(\w+\.py)` \|", modules, re.M))
    package = Path(hookspecs.__file__).parent
    assert listed == {p.name for p in package.glob("*.py")}


def test_readme_config_example_loads():
    readme = (DOCS.parent / "README.md").read_text()
    block = re.findall(r"```toml\n(.*?)```", readme, re.S)[0]
    config = parse_config(tomllib.loads(block), "README.md")
    assert [s.name for s in config.scanners] == ["momentum"]


def _commands(command: click.Command, path: str = "scanner") -> Iterator[tuple[str, click.Command]]:
    """Every command under `command` with its full name, `command` itself first."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, f"{path} {name}")


def _sections(text: str) -> dict[str, str]:
    """The `## heading` sections of a markdown text, by heading."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _first_column(text: str) -> set[str]:
    """The first word of every backticked name in the first column of each table row."""
    cells = re.findall(r"^\| (.*?) \|", text, re.M)
    return {name.split()[0] for cell in cells for name in re.findall(r"`([^`]+)`", cell)}


def _options(command: click.Command) -> set[str]:
    return {
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in param.opts + param.secondary_opts
    }


COMMANDS = dict(_commands(main))
COMMAND_SECTIONS = _sections((DOCS / "commands.md").read_text())


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_has_a_section_listing_each_option(path):
    assert path in COMMAND_SECTIONS, f"docs/commands.md has no heading '## {path}'"
    missing = _options(COMMANDS[path]) - _first_column(COMMAND_SECTIONS[path])
    assert not missing, f"docs/commands.md '## {path}' lists no option {sorted(missing)}"


def test_commands_doc_names_only_real_commands_and_options():
    for heading, text in COMMAND_SECTIONS.items():
        assert heading in COMMANDS, f"docs/commands.md: '## {heading}' is no command"
        extra = _first_column(text) - _options(COMMANDS[heading])
        assert not extra, f"docs/commands.md '## {heading}': no such option {sorted(extra)}"


def test_readme_links_the_commands_reference():
    readme = (DOCS.parent / "README.md").read_text()
    docs_list = readme[readme.index("## Docs") :]
    assert "docs/commands.md" in docs_list


def _list_of_attrs(kind: object) -> type | None:
    """The attrs class of the items when `kind` is a list of them, else None."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) is list and args and attrs.has(args[0]):
        return args[0]
    return None


def _field_paths(cls: type, prefix: str = "") -> Iterator[str]:
    """The dotted path of each field of `cls`, nested tables walked into."""
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        kind = hints[field.name]
        if attrs.has(kind):
            yield from _field_paths(kind, f"{prefix}{field.name}.")
        else:
            yield prefix + field.name


def _field_tables() -> tuple[set[str], set[str]]:
    """Names in the session table and in the `[[scanners]]` entry table of configuration.md."""
    fields = _sections((DOCS / "configuration.md").read_text())["Fields"]
    session, scanner = fields.split("Each `[[scanners]]` entry:")
    return _first_column(session), _first_column(scanner)


def test_every_config_field_is_in_the_field_tables():
    session_table, scanner_table = _field_tables()
    for path in _field_paths(SessionConfig):
        assert path in session_table, f"docs/configuration.md: no field table row for `{path}`"
    entries = {
        field.name: _list_of_attrs(kind)
        for field in attrs.fields(SessionConfig)
        if _list_of_attrs(kind := typing.get_type_hints(SessionConfig)[field.name])
    }
    # One list of tables in a session, documented in the one entry table.
    assert entries == {"scanners": config.ScannerConfig}
    for path in _field_paths(config.ScannerConfig):
        assert path in scanner_table, f"docs/configuration.md: no [[scanners]] row for `{path}`"
