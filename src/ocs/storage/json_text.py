"""JSON text for the columns that hold a record's free-form detail.

Through orjson: about a tenth of the json module's cost, and the charging engine writes an
EDR detail with every request. Keys sorted; datetimes and anything else orjson does not take
as JSON are written as str() gives them, as json.dumps(default=str) did. Text is UTF-8 rather
than escaped to ASCII: both read back the same."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def detail_text(detail: Any) -> str:
    return orjson.dumps(detail, default=str, option=_OPTIONS).decode()
