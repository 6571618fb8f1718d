"""Registers the channel adapters that have credentials, and their periodic jobs.

LINE: enabled when MADOGUCHI_LINE_CHANNEL_SECRET and MADOGUCHI_LINE_CHANNEL_ACCESS_TOKEN are set.
Without them, dev/test mode wires the sandbox adapter instead (config.wiring).
"""

from __future__ import annotations

from config.jobs import PeriodicJob
from config.wiring import Runtime, register_extension


@register_extension
def wire_channels(runtime: Runtime) -> None:
    if runtime.settings.line_enabled:
        from channels.line.adapter import LineAdapter
        from channels.line.jobs import sweep

        runtime.adapters["line"] = LineAdapter(runtime.settings)
        runtime.periodic.append(PeriodicJob(sweep, every_seconds=15))
