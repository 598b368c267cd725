import pytest
from attrs import frozen

from scanner_core import BaseScanner, ScanResult
from scanner_core.config import ConfigError


@frozen
class Thresholds:
    rsi_min: float = 70.0
    period: int = 14


class Configured(BaseScanner):
    settings_class = Thresholds

    def scan(self, context):
        return ScanResult()


def test_settings_are_structured_from_the_config_table():
    scanner = Configured({"rsi_min": 65, "period": 10})
    assert scanner.settings == Thresholds(rsi_min=65.0, period=10)
    assert Configured().settings == Thresholds()


def test_bad_settings_name_file_and_field_path():
    with pytest.raises(ConfigError) as info:
        Configured({"period": "ten"}, file="session.toml", path="scanners[2].config")
    assert str(info.value) == (
        "session.toml: scanners[2].config.period: got 'ten', expected a whole number"
    )


def test_unknown_setting_is_reported_with_its_path():
    with pytest.raises(ConfigError) as info:
        Configured({"rsi_mni": 60}, path="scanners[0].config")
    assert "scanners[0].config.rsi_mni: unknown key" in str(info.value)


def test_scanner_without_settings_class_keeps_raw_config():
    class Plain(BaseScanner):
        def scan(self, context):
            return ScanResult()

    scanner = Plain({"anything": 1})
    assert scanner.config == {"anything": 1}
    assert scanner.settings is None
