"""Which segmenter a stream uses: a factory's fresh one, or a given instance, reset."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeAlias

from ._segmenter import IncrementalSegmenter

__all__ = ["SegmenterFactory", "check_segmenter", "make_segmenter", "segmenter_for_stream"]

#: A segmenter for one reply, or a zero-argument factory that makes a fresh one per reply.
SegmenterFactory: TypeAlias = IncrementalSegmenter | Callable[[], IncrementalSegmenter]

#: Segmenter instances segmenting a stream right now: one instance cannot serve two.
_SEGMENTERS_IN_USE: weakref.WeakSet[IncrementalSegmenter] = weakref.WeakSet()


@contextmanager
def segmenter_for_stream(segmenter: SegmenterFactory | None) -> Iterator[IncrementalSegmenter]:
    """Provide a segmenter for one stream: fresh from a factory, or a given instance reset.

    An instance is reset so that an interrupted earlier reply cannot leak its buffered
    text into this one, and it is refused while another stream is using it.

    Raises:
        RuntimeError: If the instance is in use by another stream.
    """
    made = make_segmenter(segmenter)
    if made in _SEGMENTERS_IN_USE:
        raise RuntimeError(
            "this IncrementalSegmenter is already segmenting another stream; to run "
            "streams concurrently pass a factory, e.g. "
            "functools.partial(IncrementalSegmenter, 'de')"
        )
    made.reset()
    _SEGMENTERS_IN_USE.add(made)
    try:
        yield made
    finally:
        _SEGMENTERS_IN_USE.discard(made)


def check_segmenter(segmenter: object) -> None:
    """Raise ``TypeError`` unless ``segmenter`` is None, a segmenter, or a factory of one."""
    if segmenter is None or isinstance(segmenter, IncrementalSegmenter) or callable(segmenter):
        return
    raise TypeError(
        f"segmenter must be an IncrementalSegmenter or a factory of one, "
        f"not a {type(segmenter).__name__}"
    )


def make_segmenter(segmenter: SegmenterFactory | None) -> IncrementalSegmenter:
    """Return the segmenter to use for one reply."""
    check_segmenter(segmenter)
    if segmenter is None:
        return IncrementalSegmenter()
    if isinstance(segmenter, IncrementalSegmenter):
        return segmenter
    made = segmenter()
    if not isinstance(made, IncrementalSegmenter):
        raise TypeError(
            f"the segmenter factory returned a {type(made).__name__}, not an IncrementalSegmenter"
        )
    return made
