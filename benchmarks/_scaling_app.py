"""The host of ``benchmarks/scaling.py``: one SSE endpoint streaming a ``stream_reply``.

``GET /reply?tokens=N`` streams the events of one reply of the load benchmark's world
(the fake LLM and TTS of ``e2estream.testing``) as server-sent events, audio events as
metadata only (a real host would send the bytes as binary WebSocket frames; here the
point is the pipeline's cost, not base64). Run it with ``uvicorn --workers N``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from e2estream import AudioEvent, stream_reply
from e2estream.testing import FakeSynthesizer, scripted_tokens
from latency import make_reply

TTS = FakeSynthesizer(ttfb=0.2, realtime_factor=0.3)
REPLIES: dict[int, str] = {}


async def reply_events(tokens: int) -> AsyncIterator[bytes]:
    text = REPLIES.setdefault(tokens, make_reply(tokens))
    source = scripted_tokens(text, tokens_per_second=40.0, first_token_delay=0.3)
    async with stream_reply(source, TTS) as events:
        async for event in events:
            data = event.to_dict(include_data=False) if isinstance(event, AudioEvent) else None
            payload = json.dumps(data if data is not None else event.to_dict())
            yield f"data: {payload}\n\n".encode()


async def reply(request: Request) -> StreamingResponse:
    tokens = int(request.query_params.get("tokens", "300"))
    return StreamingResponse(reply_events(tokens), media_type="text/event-stream")


app = Starlette(routes=[Route("/reply", reply)])
