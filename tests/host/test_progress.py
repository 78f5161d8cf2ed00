"""Progress on long runs: the rate and the time left, a line at each tenth into a log."""

import pytest

from host_sim.judge import report


def test_a_log_gets_the_rate_and_time_left(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    clock = [100.0]
    monkeypatch.setattr(report.time, "monotonic", lambda: clock[0])
    report.progress(5, 50, "resumed")  # 5 already done: the rate counts from here
    for done in range(6, 51):
        clock[0] += 30.0  # a tag every 30 s
        report.progress(done, 50, f"tag-{done:04d}")
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == ["5/50 done (resumed)", "10/50 done, 2.0/min, 20m00s left (tag-0010)"]
    assert lines[-2] == "45/50 done, 2.0/min, 2m30s left (tag-0045)" and lines[-1] == "50/50 done (tag-0050)"
    assert len(lines) == 10  # one a tenth of the way
