"""Settings: explicit option > LAMBDA_TRACE_* environment > default; bad values warn once."""

from __future__ import annotations

import pytest

from lambda_trace._config import Settings, resolve


def test_defaults_without_options_or_environment():
    assert resolve({}, env={}) == Settings()


def test_environment_overrides_defaults():
    env = {
        "LAMBDA_TRACE_CALL_LINES": "slow",
        "LAMBDA_TRACE_SLOW_MS": "250",
        "LAMBDA_TRACE_MAX_CALL_LINES": "10",
        "LAMBDA_TRACE_METRICS": "false",
        "LAMBDA_TRACE_NAMESPACE": "Shop",
        "LAMBDA_TRACE_TIMEOUT_MARGIN_MS": "75",
        "LAMBDA_TRACE_MEMORY_WARNING": "0.8",
        "LAMBDA_TRACE_MEMORY_POLL_MS": "5",
        "LAMBDA_TRACE_WATCHDOG": "0",
        "LAMBDA_TRACE_AWS": "no",
        "LAMBDA_TRACE_HTTP": "off",
    }
    assert resolve({}, env=env) == Settings(
        call_lines="slow",
        slow_ms=250.0,
        max_call_lines=10,
        metrics=False,
        namespace="Shop",
        timeout_margin_ms=75.0,
        memory_warning_ratio=0.8,
        memory_poll_ms=5.0,
        watchdog=False,
        aws=False,
        http=False,
    )


def test_explicit_options_override_environment():
    env = {"LAMBDA_TRACE_CALL_LINES": "slow", "LAMBDA_TRACE_SLOW_MS": "250"}
    settings = resolve({"call_lines": "none", "slow_ms": 5}, env=env)
    assert (settings.call_lines, settings.slow_ms) == ("none", 5.0)


def test_none_means_not_given():
    settings = resolve({"call_lines": None}, env={"LAMBDA_TRACE_CALL_LINES": "slow"})
    assert settings.call_lines == "slow"


def test_namespace_falls_back_to_powertools_variable():
    assert resolve({}, env={"POWERTOOLS_METRICS_NAMESPACE": "Pt"}).namespace == "Pt"
    both = {"POWERTOOLS_METRICS_NAMESPACE": "Pt", "LAMBDA_TRACE_NAMESPACE": "Lt"}
    assert resolve({}, env=both).namespace == "Lt"


def test_kill_switch_from_environment_and_option():
    assert resolve({}, env={"LAMBDA_TRACE_DISABLED": "1"}).enabled is False
    assert resolve({}, env={"LAMBDA_TRACE_DISABLED": "0"}).enabled is True
    assert resolve({"enabled": False}, env={}).enabled is False
    assert resolve({"enabled": True}, env={"LAMBDA_TRACE_DISABLED": "1"}).enabled is True


def test_bad_environment_value_falls_back_to_default_with_one_warning(capsys):
    env = {"LAMBDA_TRACE_SLOW_MS": "fast", "LAMBDA_TRACE_CALL_LINES": "some"}
    first = resolve({}, env=env)
    second = resolve({}, env=env)
    assert first == second == Settings()
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert any("LAMBDA_TRACE_SLOW_MS='fast'" in line and "100.0" in line for line in err)
    assert any("LAMBDA_TRACE_CALL_LINES='some'" in line for line in err)


def test_bad_explicit_value_falls_back_to_default_with_a_warning(capsys):
    settings = resolve({"memory_warning_ratio": 7, "max_call_lines": -1}, env={})
    assert settings.memory_warning_ratio == 0.9 and settings.max_call_lines == 1000
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_unknown_option_is_a_programming_error():
    with pytest.raises(TypeError, match="bogus"):
        resolve({"bogus": 1}, env={})


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().call_lines = "none"  # type: ignore[misc]
