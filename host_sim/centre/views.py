"""What the centre stored, as an operator reads it: event kinds by name, times in
London (the table) or ISO 8601 UTC (--json), positions in degrees; filtered by
device, time and kind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from host_sim import wire
from host_sim.centre.episodes import Episode
from host_sim.centre.server import Centre
from host_sim.exits import CliError

LONDON = ZoneInfo("Europe/London")
# columns holding epoch milliseconds, and those holding Unix seconds
_MS = ("received_ms", "last_heard_ms", "raised_ms", "ended_ms", "at_ms")
_S = ("utc", "paired_utc")
_CODES = {name: code for code, name in wire.EVENT_NAMES.items()}


def since(text: str) -> int:
    """A --since in London time, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM", as Unix seconds."""
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(text, fmt).replace(tzinfo=LONDON).timestamp())
        except ValueError:
            pass
    raise CliError(f'--since {text!r}: expected "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" (London time)')


def kind_codes(names: list[str]) -> set[int]:
    unknown = [n for n in names if n not in _CODES]
    if unknown:
        raise CliError(f"--kind {unknown[0]!r}: not an event kind; known: {', '.join(sorted(_CODES))}")
    return {_CODES[n] for n in names}


def rows(centre: Centre, table: str, device: str | None, after: int | None, kinds: set[int],
         machine: bool) -> list[dict[str, Any]]:
    """The table's rows, decoded; machine: times in ISO 8601 UTC, else London local time."""
    got = centre.rejects() if table == "rejects" else getattr(centre, table)(device)
    out = []
    for r in got:
        if device and table == "rejects" and r["device"] != device:
            continue
        if after is not None and _when(r) < after:
            continue
        if kinds and _code(r) not in kinds:
            continue
        out.append(_decoded(r, machine))
    return out


def _when(r: dict[str, Any]) -> float:
    for k in _S:
        if k in r:
            return float(r[k])
    return next(float(r[k]) / 1000 for k in _MS if r.get(k) is not None)


def _code(r: dict[str, Any]) -> int | None:
    kind = r.get("kind")
    if isinstance(kind, str):  # alerts store the name
        return _CODES.get(kind)
    return kind if isinstance(kind, int) else None


def _decoded(r: dict[str, Any], machine: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in r.items():
        if k in _MS or k in _S:
            name = k.removesuffix("_ms").removesuffix("_utc") or k
            out["time" if k == "utc" else name] = None if v is None else _time(v / 1000 if k in _MS else v, machine)
        elif k == "kind" and isinstance(v, int):
            out["kind"] = wire.EVENT_NAMES.get(v, str(v))
            if machine:
                out["kind_code"] = v
        elif k in ("lat_e7", "lon_e7"):
            out[k[:3]] = None if v is None or (r["lat_e7"] == 0 and r["lon_e7"] == 0) else round(v / 1e7, 7)
        elif k == "stamped_at_centre":
            out[k] = bool(v)
        elif k == "frame_id":  # where the evidence lies, not what an operator reads
            continue
        else:
            out[k] = v
    return out


def iso(seconds: float) -> str:
    """Unix seconds as ISO 8601 UTC, as every --json gives times."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(seconds: float, machine: bool) -> str:
    return iso(seconds) if machine else datetime.fromtimestamp(seconds, UTC).astimezone(LONDON).strftime(
        "%Y-%m-%d %H:%M:%S %Z")


def episode_rows(found: list[Episode], after: int | None, machine: bool) -> list[dict[str, Any]]:
    """Drinking episodes as an operator reads them (tagsim centre episodes)."""
    out = []
    for e in found:
        if after is not None and e.start_utc < after:
            continue
        out.append({"device": e.device, "start": _time(e.start_utc, machine),
                    "peak_g_dl": round(e.peak_e4 / 1e4, 4), "peak": _time(e.peak_utc, machine),
                    "end": None if e.end_utc is None else _time(e.end_utc, machine), "readings": e.readings,
                    "rise_g_dl_h": None if e.rise_e4_h is None else round(e.rise_e4_h / 1e4, 4),
                    "fall_g_dl_h": None if e.fall_e4_h is None else round(e.fall_e4_h / 1e4, 4),
                    "centre": e.verdict,
                    "tag": None if e.tag_reported_utc is None else _time(e.tag_reported_utc, machine),
                    "sensor": ", ".join(e.tamper) or None})
    return out if machine else [{k: "-" if v is None else v for k, v in r.items()} for r in out]
