"""One segment's synthesis: run a backend's iterator into the segment's job.

Frame realignment, the pipeline's own time-to-first-audio and stall bounds (for any
backend), timings passed through, and "no audio" treated as the failure it is.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import anyio

from ._audio import Synthesizer, TextTiming
from ._exceptions import SynthesisError, SynthesisTimeout
from ._jobs import ByteBudget, Job
from ._loopclock import loop_clock
from ._pacing import Pacer
from ._request import RequestSynthesizer, SynthesisRequest
from ._timeouts import SynthesisTimeouts
from ._util import aclosing

__all__ = ["SynthesisRun", "synthesize_segment"]

logger = logging.getLogger("e2estream")


@dataclass(frozen=True, slots=True)
class SynthesisRun:
    """What every segment's synthesis of one stream shares."""

    synthesizer: Synthesizer | RequestSynthesizer
    #: ``isinstance(synthesizer, RequestSynthesizer)``, decided once: a runtime protocol
    #: check costs about 8 us, too much to pay per segment.
    takes_requests: bool
    timeouts: SynthesisTimeouts
    frame_size: int
    budget: ByteBudget
    pacer: Pacer
    slots: anyio.Semaphore


async def synthesize_segment(run: SynthesisRun, job: Job, previous_text: str | None) -> None:
    """Synthesize one segment into its job; any failure becomes the job's error."""
    frame = run.frame_size
    timeouts = run.timeouts
    clock = loop_clock()
    requested = clock()
    started = False
    try:
        with anyio.CancelScope(deadline=timeouts.deadline(requested, started=False)) as watchdog:
            synthesizer = run.synthesizer
            if run.takes_requests:
                request = SynthesisRequest(job.segment.speech_text, job.segment, previous_text)
                result: object = cast(RequestSynthesizer, synthesizer).synthesize_request(request)
            else:
                result = cast(Synthesizer, synthesizer).synthesize(job.segment.speech_text)
            audio = _audio_iterator(result, run.synthesizer)
            async with aclosing(audio):
                async for data in audio:
                    now = clock()
                    if not started:
                        run.pacer.record_ttfb(now - requested)
                        started = True
                        watchdog.deadline = timeouts.stall_deadline(now)
                    elif watchdog.deadline < now + timeouts.stall_bound:
                        # Re-armed lazily, not per chunk (a timer cancelled and made
                        # again for every chunk of every reply): see stall_deadline.
                        watchdog.deadline = timeouts.stall_deadline(now)
                    if isinstance(data, TextTiming):
                        job.timings.append(data)
                        continue
                    if not isinstance(data, (bytes, bytearray, memoryview)):
                        raise TypeError(
                            f"{type(run.synthesizer).__name__}.synthesize() yielded a "
                            f"{type(data).__name__}; it must yield bytes (or TextTiming)"
                        )
                    data = job.carry + bytes(data) if job.carry else bytes(data)
                    if frame > 1:
                        # Keep chunks frame-aligned so each can be played on its own.
                        usable = len(data) - len(data) % frame
                        data, job.carry = data[:usable], data[usable:]
                    if data and run.budget.allows(job, len(data)):
                        run.budget.put(job, data)  # room: no wait, no re-arming
                    elif data:
                        # Waiting for a slow consumer is not the backend stalling.
                        watchdog.deadline = math.inf
                        await run.budget.add(job, data)
                        watchdog.deadline = timeouts.stall_deadline(clock())
        if watchdog.cancelled_caught:
            bound, what = (
                (timeouts.stall, "no audio for")
                if started
                else (timeouts.first_byte, "no first audio within")
            )
            raise SynthesisTimeout(
                f"{type(run.synthesizer).__name__}: {what} {bound:g} s in segment "
                f"{job.segment.index} ({job.segment.speech_text[:40]!r})"
            )
        if job.carry:
            # A TTS that ends mid-frame: complete the frame with silence rather than
            # shift every later sample of the reply by a byte.
            logger.debug("segment %d ended mid-frame; padded", job.segment.index)
            await run.budget.add(job, job.carry.ljust(frame, b"\0"))
            job.carry = b""
        if not job.has_audio:
            # A sentence nobody will hear must not pass for a spoken one.
            raise SynthesisError(
                f"{type(run.synthesizer).__name__} produced no audio for segment "
                f"{job.segment.index} ({job.segment.speech_text[:40]!r})"
            )
    except Exception as exc:
        logger.debug("synthesis of segment %d failed: %r", job.segment.index, exc)
        job.error = exc
    finally:
        job.done = True
        job.notify()
        run.slots.release()


def _audio_iterator(result: object, synthesizer: object) -> AsyncIterator[object]:
    """Check what ``synthesize()`` returned (an untyped backend may return anything)."""
    if isinstance(result, AsyncIterator):
        return result
    if inspect.iscoroutine(result):
        # ``async def synthesize`` that returns instead of yielding: close the coroutine
        # so Python does not also warn that it was never awaited.
        result.close()
    raise TypeError(
        f"{type(synthesizer).__name__}.synthesize() returned a {type(result).__name__}; "
        "it must return an async iterator of bytes (write it as an async generator: "
        "async def synthesize(self, text): ... yield chunk)"
    )
