"""docs/composition.md: its Python runs, its configs load and build, its error line is real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner_core.config import ConfigError, load_config
from scanner_core.plugins import check_scanners

DOC = Path(__file__).resolve().parents[2] / "docs/composition.md"
TEXT = DOC.read_text()


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", TEXT, re.S)


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.splitlines()[0][:40])
def test_the_python_examples_run(code):
    exec(compile(code, str(DOC), "exec"), {"__name__": "composition_doc"})


@pytest.mark.parametrize("toml", blocks("toml"))
def test_the_config_examples_load_and_every_composition_builds(tmp_path, toml):
    config = tmp_path / "session.toml"
    config.write_text(toml)
    session = load_config(config)
    assert any(s.compose for s in session.scanners)
    built: list = []
    assert check_scanners(session.scanners, file=str(config), built=built) == []
    assert [cfg.name for _, cfg, _ in built] == [s.name for s in session.scanners if s.enabled]


def test_the_documented_error_line_is_what_the_loader_prints(tmp_path):
    (line,) = blocks("text")
    config = tmp_path / "session.toml"
    config.write_text(blocks("toml")[0].replace('"gap & momentum"', '"gap &"'))
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert str(error.value).replace(str(config), "session.toml") == line.strip()
