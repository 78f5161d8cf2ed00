"""Judging runs: the oracles (zones and curfews, from the true trace only), the
scorers and their verdicts, reports (JUnit, JSON), maps and the fleet's report."""
