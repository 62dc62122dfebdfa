"""JSON answers rendered by orjson, for the answers FastAPI does not serialise itself (a command's stored answer,
a problem): the same bytes as Starlette's `JSONResponse` (compact, UTF-8, no ASCII escapes) for the JSON data
the services answer with, in a fraction of the time."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
