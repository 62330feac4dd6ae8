"use strict";
// The e2estream demo page. One WebSocket: JSON events as text frames, each "audio"
// message followed by a binary frame of 16-bit PCM, scheduled on an AudioContext right
// after the previous chunk (gap-free unless the audio ran dry: a stall). Everything the
// page sees is kept in `record` (window.e2estreamDemo.record) and drawn as a timeline.

const LEAD = 0.1; // seconds between the first audio's arrival and the start of playback
const METER_MS = 5; // how often the output level is read, ms
const LOUD = 1e-3; // peak amplitude above which the output counts as sound
const REPORT_MS = 250; // how often the playback position goes to the server, ms
const MEASURE_AFTER_INTERRUPT = 0.6; // seconds the output is watched after Interrupt

const $ = (id) => document.getElementById(id);

class Player {
  constructor() {
    this.context = null;
    this.reset();
  }

  async start() {
    if (this.context === null) {
      this.context = new AudioContext();
      this.output = this.context.createGain();
      this.analyser = this.context.createAnalyser();
      this.analyser.fftSize = 256;
      this.output.connect(this.analyser);
      this.analyser.connect(this.context.destination);
      this.samples = new Float32Array(this.analyser.fftSize);
    }
    await this.context.resume();
  }

  reset() {
    this.sources = [];
    this.chunks = [];
    this.playAt = null; // where the next chunk starts, in AudioContext time
  }

  now() {
    return this.context.currentTime;
  }

  // Schedule one chunk of pcm_s16le; return {start, duration, stall} (AudioContext time).
  schedule(data, format) {
    const channels = format.channels;
    const frames = data.byteLength / (2 * channels);
    const view = new DataView(data);
    const buffer = this.context.createBuffer(channels, frames, format.sample_rate);
    for (let channel = 0; channel < channels; channel++) {
      const samples = buffer.getChannelData(channel);
      for (let i = 0; i < frames; i++) {
        samples[i] = view.getInt16((i * channels + channel) * 2, true) / 32768;
      }
    }
    const now = this.now();
    let start = this.playAt;
    let stall = 0;
    if (start === null) {
      start = now + LEAD;
    } else if (start < now) {
      stall = now - start; // the queue ran dry: this chunk comes late
      start = now;
    }
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.output);
    source.start(start);
    this.sources.push(source);
    this.playAt = start + buffer.duration;
    const chunk = { start, duration: buffer.duration, stall };
    this.chunks.push(chunk);
    return chunk;
  }

  // Seconds of this reply's audio played by AudioContext time `at`.
  played(at) {
    let played = 0;
    for (const chunk of this.chunks) {
      played += Math.min(Math.max(at - chunk.start, 0), chunk.duration);
    }
    return played;
  }

  // Stop every scheduled source now; return the AudioContext time it happened.
  stop() {
    const at = this.now();
    for (const source of this.sources) source.stop();
    this.sources = [];
    return at;
  }

  peak() {
    this.analyser.getFloatTimeDomainData(this.samples);
    let peak = 0;
    for (const value of this.samples) peak = Math.max(peak, Math.abs(value));
    return peak;
  }
}

const player = new Player();
let config = null;
let socket = null;
let record = null;
let pendingAudio = null; // the "audio" message whose bytes come in the next binary frame
let drawQueued = false;

function newRecord(text, language) {
  return {
    t0: performance.now(),
    asked: { text, language },
    format: null,
    text: "",
    tokens: [], // {t, offset, size}
    segments: [], // {t, index, start, end, text}
    audio: [], // {t, segment_index, offset, size, reply_time, start, duration, stall, dropped}
    segmentsDone: [],
    errors: [],
    serverStalls: [], // {t, reply_time}: stall events from the server
    meter: [], // {at, peak}: AudioContext time and output peak
    contextOffset: null, // page seconds minus AudioContext seconds
    done: null,
    baseline: null,
    interrupt: null,
    spoken: null,
    finished: false, // the server's reply is over
    playbackEnded: false, // and the page has played all of it
  };
}

function seconds() {
  return (performance.now() - record.t0) / 1000;
}

function pageTime(contextTime) {
  return contextTime + record.contextOffset;
}

function connect() {
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  socket.onopen = () => {
    setStatus("Ready.");
    $("speak").disabled = false;
  };
  socket.onclose = () => {
    setStatus("Disconnected from the server: reload the page.");
    $("speak").disabled = true;
    $("interrupt").disabled = true;
  };
  socket.onmessage = ({ data }) => {
    if (record === null) return;
    if (data instanceof ArrayBuffer) onAudioBytes(data);
    else onMessage(JSON.parse(data));
    queueDraw();
  };
}

function onMessage(message) {
  const t = seconds();
  switch (message.type) {
    case "voice":
      $("voice").textContent = message.description;
      break;
    case "format":
      record.format = message.audio;
      if (message.audio.encoding !== "pcm_s16le") {
        setStatus(`This page plays pcm_s16le, not ${message.audio.encoding}.`);
      }
      break;
    case "token":
      record.tokens.push({ t, offset: message.offset, size: message.text.length });
      record.text += message.text;
      $("reply").textContent = record.text;
      break;
    case "segment":
      record.segments.push({ t, index: message.index, start: message.start, end: message.end, text: message.text });
      break;
    case "audio":
      pendingAudio = { ...message, t };
      break;
    case "segment_done":
      record.segmentsDone.push({ t, index: message.segment_index, failed: message.failed });
      break;
    case "error":
      record.errors.push(message);
      break;
    case "stall": // the server's model of the player ran dry (the page measures its own)
      record.serverStalls.push({ t, reply_time: message.reply_time });
      break;
    case "done":
      record.done = { ...message, t };
      if (message.interrupted) showSpoken(message.spoken);
      endOfReply(message.interrupted ? "Interrupted." : "Reply complete; playing the rest.");
      break;
    case "baseline":
      record.baseline = message.tts_first_byte;
      break;
    case "spoken": // an interrupt after the server's reply had ended
      showSpoken(message.spoken);
      break;
    case "reply_failed":
      endOfReply(`The reply failed: ${message.error}: ${message.message}`);
      break;
    case "protocol_error":
      setStatus(`The server did not understand: ${message.message}`);
      if (record.done === null && record.format === null) endOfReply(null);
      break;
  }
}

function onAudioBytes(data) {
  const meta = pendingAudio;
  pendingAudio = null;
  const entry = {
    t: meta.t,
    segment_index: meta.segment_index,
    offset: meta.offset,
    size: data.byteLength,
    announced: meta.size,
    reply_time: meta.reply_time,
    start: null, // AudioContext time its playback starts
    scheduledAt: null, // page time it was scheduled
    duration: meta.duration,
    stall: 0,
    dropped: record.interrupt !== null, // stopped in the browser: never played
  };
  record.audio.push(entry);
  if (entry.dropped || record.format === null) return;
  if (record.contextOffset === null) record.contextOffset = seconds() - player.now();
  const chunk = player.schedule(data, record.format);
  entry.start = chunk.start;
  entry.scheduledAt = seconds();
  entry.duration = chunk.duration;
  entry.stall = chunk.stall;
  $("interrupt").disabled = false;
}

function endOfReply(status) {
  record.finished = true;
  $("speak").disabled = false;
  if (status !== null) setStatus(status);
}

function showSpoken(spoken) {
  record.spoken = spoken === null ? "" : spoken.text;
  $("spoken").textContent = record.spoken || "(nothing)";
  $("spoken-line").hidden = false;
  // In the reply, mark the part that was heard.
  const heard = document.createElement("mark");
  heard.textContent = record.text.slice(0, spoken === null ? 0 : spoken.end);
  $("reply").replaceChildren(heard, record.text.slice(heard.textContent.length));
}

function setStatus(text) {
  $("status").textContent = text;
}

async function speak() {
  const text = $("text").value;
  const language = $("language").value;
  await player.start();
  if (record !== null && record.interrupt === null) player.stop();
  player.reset();
  pendingAudio = null;
  record = newRecord(text, language);
  window.e2estreamDemo.record = record;
  $("reply").textContent = "";
  $("spoken-line").hidden = true;
  $("speak").disabled = true;
  $("interrupt").disabled = false;
  setStatus("Speaking…");
  socket.send(JSON.stringify({ type: "ask", text, language }));
}

function interrupt() {
  if (record === null || record.interrupt !== null) return;
  const at = player.stop();
  const scheduledUntil = player.playAt === null ? at : player.playAt;
  const played = player.played(at);
  record.interrupt = { at, t: seconds(), played, scheduledUntil, lastSound: null };
  $("interrupt").disabled = true;
  socket.send(JSON.stringify({ type: "interrupt", played }));
  setStatus("Interrupting…");
}

// Read the output level every few ms, on the AudioContext clock: the timeline shows it,
// and after Interrupt it says when the output really went silent.
function meter() {
  if (record === null || player.context === null) return;
  const at = player.now();
  const watching = record.interrupt !== null && at - record.interrupt.at < MEASURE_AFTER_INTERRUPT;
  const playing = player.playAt !== null && at < player.playAt + 0.2 && record.interrupt === null;
  if (!watching && !playing) return;
  const peak = player.peak();
  record.meter.push({ at, peak });
  if (record.interrupt !== null && peak > LOUD && at > record.interrupt.at) {
    record.interrupt.lastSound = at;
  }
}

function reportPlayed() {
  if (record === null || record.interrupt !== null) return;
  if (record.finished && !record.playbackEnded && player.playAt !== null && player.now() > player.playAt) {
    record.playbackEnded = true;
    $("interrupt").disabled = true;
    setStatus("Done: the whole reply was played.");
  }
  if (record.finished) return;
  if (player.chunks.length === 0 || socket.readyState !== WebSocket.OPEN) return;
  socket.send(JSON.stringify({ type: "played", played: player.played(player.now()) }));
}

// -- the timeline -------------------------------------------------------------------

function facts() {
  const r = record;
  const fmt = (x) => (x === null || x === undefined ? "n/a" : `${x.toFixed(2)} s`);
  const firstAudio = r.audio.find((a) => a.start !== null);
  const lastToken = r.tokens.length ? r.tokens[r.tokens.length - 1].t : null;
  const stalls = r.audio.filter((a) => a.stall > 0);
  const lines = [
    ["first token", fmt(r.tokens.length ? r.tokens[0].t : null)],
    ["first segment handed to the TTS", fmt(r.segments.length ? r.segments[0].t : null)],
    ["first audio arrived", fmt(firstAudio ? firstAudio.t : null)],
    ["first audio plays", fmt(firstAudio ? pageTime(firstAudio.start) : null)],
    [
      r.done !== null && r.done.interrupted ? "last token (then the LLM was cancelled)" : "last token (LLM done)",
      fmt(r.finished || r.done ? lastToken : null),
    ],
  ];
  if (r.baseline !== null && lastToken !== null) {
    const sequential = lastToken + r.baseline + LEAD;
    const ours = firstAudio ? pageTime(firstAudio.start) : null;
    const ratio = ours ? ` (${(sequential / ours).toFixed(1)}× later)` : "";
    lines.push(["LLM first, then TTS: first audio", `${fmt(sequential)}${ratio}`]);
  }
  lines.push(["segments", String(r.segments.length)]);
  lines.push(["stall events from the server", String(r.serverStalls.length)]);
  lines.push([
    "stalls (audio ran dry)",
    stalls.length ? `${stalls.length}, ${stalls.reduce((s, a) => s + a.stall, 0).toFixed(2)} s` : "none",
  ]);
  if (r.interrupt !== null) {
    const silent = r.interrupt.lastSound === null ? 0 : r.interrupt.lastSound - r.interrupt.at;
    lines.push(["interrupted after playing", fmt(r.interrupt.played)]);
    lines.push(["output silent within", `${(silent * 1000).toFixed(0)} ms (AudioContext clock)`]);
  }
  return lines;
}

function queueDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    draw();
  });
}

function draw() {
  if (record === null) return;
  const r = record;
  const list = $("facts");
  list.replaceChildren(
    ...facts().map(([label, value]) => {
      const item = document.createElement("li");
      item.textContent = `${label}: ${value}`;
      if (label.startsWith("stalls") && value !== "none") item.className = "stall";
      return item;
    }),
  );
  const svg = $("timeline");
  const width = svg.clientWidth || 800;
  const left = 110;
  let end = 1;
  for (const token of r.tokens) end = Math.max(end, token.t);
  const stopped = r.interrupt === null ? Infinity : r.interrupt.at;
  for (const a of r.audio) {
    if (a.start !== null) end = Math.max(end, pageTime(Math.min(a.start + a.duration, stopped)));
  }
  const lastToken = r.tokens.length ? r.tokens[r.tokens.length - 1].t : null;
  const sequential = r.baseline !== null && lastToken !== null ? lastToken + r.baseline + LEAD : null;
  if (sequential !== null) end = Math.max(end, sequential);
  const x = (t) => left + (t / end) * (width - left - 10);
  const parts = [];
  const row = (y, label) => parts.push(`<text x="4" y="${y + 4}">${label}</text>`);
  row(20, "LLM tokens");
  row(50, "segment → TTS");
  row(80, "audio arrives");
  row(110, "playback");
  for (const token of r.tokens) parts.push(`<line x1="${x(token.t)}" x2="${x(token.t)}" y1="14" y2="26" stroke="#888"/>`);
  for (const segment of r.segments) {
    parts.push(`<line x1="${x(segment.t)}" x2="${x(segment.t)}" y1="42" y2="58" stroke="#36c" stroke-width="2"/>`);
    parts.push(`<text x="${x(segment.t) + 2}" y="40">S${segment.index}</text>`);
  }
  const seen = new Set();
  for (const a of r.audio) {
    if (seen.has(a.segment_index)) continue;
    seen.add(a.segment_index);
    parts.push(`<circle cx="${x(a.t)}" cy="80" r="4" fill="#0a7"/>`);
  }
  for (const a of r.audio) {
    if (a.start === null || a.start >= stopped) continue;
    const from = x(pageTime(a.start));
    const to = x(pageTime(Math.min(a.start + a.duration, stopped)));
    const fill = a.segment_index % 2 ? "#7cc" : "#5a9";
    parts.push(`<rect x="${from}" y="102" width="${Math.max(to - from, 0.5)}" height="16" fill="${fill}"/>`);
    if (a.stall > 0) {
      const stallFrom = x(pageTime(a.start - a.stall));
      parts.push(`<rect x="${stallFrom}" y="100" width="${from - stallFrom}" height="20" fill="#c22"/>`);
    }
  }
  if (sequential !== null) {
    parts.push(`<line x1="${x(sequential)}" x2="${x(sequential)}" y1="8" y2="135" stroke="#e80" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${x(sequential) - 150}" y="145">LLM first, then TTS: first audio</text>`);
  }
  if (r.interrupt !== null) {
    const at = x(r.interrupt.t);
    parts.push(`<line x1="${at}" x2="${at}" y1="8" y2="135" stroke="#c22" stroke-width="2"/>`);
    const anchor = at > width - 80 ? `x="${at - 3}" text-anchor="end"` : `x="${at + 3}"`;
    parts.push(`<text ${anchor} y="135">interrupt</text>`);
  }
  svg.innerHTML = parts.join("");
}

// -- start-up -----------------------------------------------------------------------

async function main() {
  window.e2estreamDemo = { record: null, player };
  config = await (await fetch("/config.json")).json();
  $("llm").textContent = config.llm;
  $("voice").textContent = "chosen on the first reply";
  if (!config.scripted) {
    $("text-label").textContent = "Your question (sent to the LLM)";
    $("text").value = "Tell me about streaming text to speech, in three sentences.";
  }
  for (const language of config.languages) {
    const option = document.createElement("option");
    option.value = option.textContent = language;
    $("language").append(option);
  }
  const fill = () => {
    if (config.scripted) $("text").value = config.replies[$("language").value];
  };
  $("language").addEventListener("change", fill);
  if (config.languages.includes(config.language)) $("language").value = config.language;
  fill();
  if (config.text !== null) $("text").value = config.text; // --text
  $("speak").addEventListener("click", speak);
  $("interrupt").addEventListener("click", interrupt);
  setInterval(meter, METER_MS);
  setInterval(reportPlayed, REPORT_MS);
  setInterval(queueDraw, 200);
  connect();
}

main();
