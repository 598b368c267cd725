from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from attrs import frozen

from scanner_core import BaseScanner, IndicatorConfig, ScanContext, ScanResult
from scanner_core.calendar import TimeManager
from scanner_core.config import ConfigError
from scanner_core.session import SessionData
from scanner_core.view import TradingDay


@frozen
class Thresholds:
    rsi_min: float = 70.0
    period: int = 14


class Configured(BaseScanner[Thresholds]):
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


NY = ZoneInfo("America/New_York")


def context_at(current_time: datetime, clock: str | None = None, calendar=None) -> ScanContext:
    data = SessionData()
    if clock is not None:
        data.set_time(clock)
    return ScanContext(data, calendar, "backtest", current_time)


def test_trading_day_reads_the_session_clock_in_exchange_time():
    # 14:35 UTC on 2024-01-04 is 09:35 in New York; current_time is ignored while the clock is set
    context = context_at(datetime(2020, 1, 1, tzinfo=UTC), clock="2024-01-04 14:35")
    today = context.trading_day()
    assert today == TradingDay(
        date(2024, 1, 4),
        datetime(2024, 1, 4, 9, 30, tzinfo=NY),
        datetime(2024, 1, 4, 16, 0, tzinfo=NY),
        datetime(2024, 1, 4, 9, 35, tzinfo=NY),
    )
    assert str(today.now.tzinfo) == "America/New_York"
    assert today.minutes_since_open == 5


def test_trading_day_falls_back_to_current_time_and_takes_the_exchange_date():
    # 01:00 UTC on the 5th is 20:00 on the 4th in New York: after hours, 4 h past the close
    today = context_at(datetime(2024, 1, 5, 1, 0, tzinfo=UTC)).trading_day()
    assert today.day == date(2024, 1, 4)
    assert today.now > today.close
    assert today.minutes_since_open == 10 * 60 + 30


def test_trading_day_before_the_open_and_on_an_early_close():
    tm = TimeManager("XNYS")
    today = context_at(datetime(2023, 11, 24, 7, 0), calendar=tm).trading_day()
    assert today.minutes_since_open == -150  # a naive time is exchange time
    assert today.close == datetime(2023, 11, 24, 13, 0, tzinfo=NY)


@pytest.mark.parametrize("when", ["2024-01-06 15:00", "2024-12-25 15:00"])
def test_no_trading_day_on_a_weekend_or_holiday(when):
    context = context_at(datetime(2024, 1, 4, tzinfo=UTC), clock=when)
    assert context.trading_day() is None
    assert context.exchange_time().date().isoformat() == when[:10]


def test_closed_result_names_the_exchange_date():
    context = context_at(datetime(2024, 1, 4, tzinfo=UTC), clock="2024-01-07 02:00")
    result = context.closed_result()
    assert result.symbols == []
    assert result.metadata == {"reason": "2024-01-06 is not a trading session"}


def test_setup_registers_the_declared_indicators_for_the_universe():
    sma = IndicatorConfig("sma", 30, "1d")

    class Declared(BaseScanner):
        @classmethod
        def declare_indicators(cls, settings):
            return (sma,)

        def scan(self, context):
            return ScanResult()

    context = context_at(datetime(2024, 1, 4, tzinfo=UTC))
    assert Declared().setup(context) is True
    assert context.session_data.declared == {sma}


def test_an_overridden_setup_still_registers_the_declared_indicators():
    rsi = IndicatorConfig("rsi", 14, "1m")

    class OwnSetup(BaseScanner):
        @classmethod
        def declare_indicators(cls, settings):
            return (rsi,)

        def setup(self, context):
            return True  # no super() call

        def scan(self, context):
            return ScanResult()

    context = context_at(datetime(2024, 1, 4, tzinfo=UTC))
    assert OwnSetup().setup(context) is True
    assert context.session_data.declared == {rsi}


def test_settings_class_comes_from_the_type_argument():
    assert Configured.settings_class is Thresholds
    assert Configured({"period": 5}).settings.period == 5


def test_an_indicators_class_attribute_is_refused_naming_the_one_way():
    with pytest.raises(TypeError, match=r"Old: declare indicators with a declare_indicators"):

        class Old(BaseScanner):
            indicators = (IndicatorConfig("sma", 20, "1d"),)

            def scan(self, context):
                return ScanResult()


def test_setting_indicators_in_init_is_refused_naming_the_one_way():
    class InInit(BaseScanner):
        def __init__(self, config=None, **kwargs):
            super().__init__(config, **kwargs)
            self.indicators = (IndicatorConfig("sma", 20, "1d"),)

        def scan(self, context):
            return ScanResult()

    with pytest.raises(TypeError, match=r"InInit: declare indicators with a declare_indicators"):
        InInit()
