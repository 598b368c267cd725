"""The docs say what the code does: config examples load, every hook is documented."""

import re
import tomllib
from pathlib import Path

import pytest

from scanner_core import hookspecs
from scanner_core.config import ConfigError, parse_config

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
