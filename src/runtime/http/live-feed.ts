// What the dashboard's pages are told, over one SSE stream each: a snapshot when they connect (and after
// the stack's shape changed), then updates coalesced to one frame per flush: every 2 s the status
// document as status.json was last written (the supervisor renders it anyway, at least once a second
// while anything changes), in between the instances that events touched; the new events; the followed
// instance's output. Every open page gets the same update text, built once.
import type { Clock, TimerHandle } from "../../core/clock.js";
import type { DomainEvent } from "../../core/stack/domain-events.js";
import type { ServiceDoc, StatusDocument } from "../../control/status-document.js";
import { UnknownServiceError, type ApiBackend, type DashboardSource, type OutputLine } from "./backend.js";
import { sseComment, sseFrame, type SseSink } from "./sse.js";

export interface LiveFeedOptions {
  /** at most one update per this long (a few a second) */
  readonly flushMs?: number;
  /** status.json's text is sent at most this often (it is some hundred KiB at 1,000 services) */
  readonly statusEveryMs?: number;
  /** a keepalive comment this often */
  readonly pingMs?: number;
  /** what the pages may do: act with a token, or only look (no token configured) */
  readonly actions: "token" | "disabled";
}

/** events, lines and journal entries a page is sent at most, at once */
export const EVENTS_PER_FRAME = 200;
export const LOG_LINES_PER_FRAME = 500;
export const LOG_TAIL_LINES = 200;
export const JOURNAL_EVENTS = 200;
/** these change the list's shape: the pages get a new snapshot */
const STRUCTURAL = new Set<DomainEvent["kind"]>(["config-applied", "scaled", "removed", "up"]);

interface Page {
  readonly sink: SseSink;
  /** lines of the followed instance not yet sent */
  lines: OutputLine[];
  dropped: number;
  /** still being sent its snapshot: updates wait */
  opening: boolean;
}

export class LiveFeed {
  readonly #pages = new Set<Page>();
  readonly #dirty = new Set<string>();
  #structural = false;
  /** status.json's text as last written, not sent yet */
  #status: string | null = null;
  #statusSentAt = -Infinity;
  #events: DomainEvent[] = [];
  #flushTimer: TimerHandle | null = null;
  #flushAt = 0;
  #pingTimer: TimerHandle | null = null;
  #unsubscribe: (() => void)[] = [];
  readonly #flushMs: number;
  readonly #pingMs: number;
  readonly #statusEveryMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly backend: Pick<ApiBackend, "status">,
    private readonly source: DashboardSource,
    private readonly opts: LiveFeedOptions,
  ) {
    this.#flushMs = opts.flushMs ?? 250;
    this.#pingMs = opts.pingMs ?? 15_000;
    this.#statusEveryMs = opts.statusEveryMs ?? 2_000;
  }

  get pages(): number {
    return this.#pages.size;
  }

  /** A page connected: it gets the snapshot, then every update. */
  async open(sink: SseSink): Promise<void> {
    const page: Page = { sink, lines: [], dropped: 0, opening: true };
    if (this.#pages.size === 0) this.#start();
    this.#pages.add(page);
    // the list first, at once; the files (the journal's end, the followed output's tail) after it
    sink.write(sseFrame("snapshot", JSON.stringify({ ...this.#snapshot(), events: [] })));
    const [journal, tail] = await Promise.all([
      this.source.journal(JOURNAL_EVENTS).catch(() => []),
      sink.follow === null ? Promise.resolve([]) : this.source.logTail(sink.follow, LOG_TAIL_LINES).catch(() => []),
    ]);
    if (!this.#pages.has(page)) return;
    sink.write(sseFrame("journal", JSON.stringify({ events: journal })));
    if (sink.follow !== null) sink.write(sseFrame("log", JSON.stringify({ instance: sink.follow, reset: true, lines: tail.map(lineDoc) })));
    page.opening = false;
    if (page.lines.length > 0) this.#arm();
  }

  /** The page went away. */
  close(sink: SseSink): void {
    for (const page of this.#pages) if (page.sink === sink) this.#pages.delete(page);
    if (this.#pages.size === 0) this.#stop();
  }

  /** Ends every stream (the server is closing); pages reconnect to whatever serves next. */
  closeAll(): void {
    for (const page of [...this.#pages]) page.sink.close();
    this.#pages.clear();
    this.#stop();
  }

  #start(): void {
    this.#unsubscribe = [
      this.source.subscribe((e) => this.#event(e)),
      this.source.onOutput((line) => this.#line(line)),
      this.source.onStatus((json) => {
        this.#status = json;
        this.#arm();
      }),
    ];
    const ping = (): void => {
      for (const page of this.#pages) page.sink.write(sseComment("ping"));
      this.#pingTimer = this.clock.setTimer(this.#pingMs, ping);
    };
    this.#pingTimer = this.clock.setTimer(this.#pingMs, ping);
  }

  #stop(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    for (const timer of [this.#flushTimer, this.#pingTimer]) if (timer !== null) this.clock.clearTimer(timer);
    this.#flushTimer = this.#pingTimer = null;
    this.#dirty.clear();
    this.#events = [];
    this.#status = null;
    this.#structural = false;
  }

  #event(event: DomainEvent): void {
    if (STRUCTURAL.has(event.kind)) this.#structural = true;
    if (event.instance !== null) this.#dirty.add(event.instance);
    // state changes are shown by the list itself; the timeline keeps what a person would look for
    if (event.level !== "debug") {
      this.#events.push(event);
      if (this.#events.length > EVENTS_PER_FRAME) this.#events.splice(0, this.#events.length - EVENTS_PER_FRAME);
    }
    this.#arm();
  }

  #line(line: OutputLine): void {
    let wanted = false;
    for (const page of this.#pages) {
      if (page.sink.follow !== line.instance) continue;
      wanted = true;
      page.lines.push(line);
      if (page.lines.length > LOG_LINES_PER_FRAME) {
        page.dropped += page.lines.length - LOG_LINES_PER_FRAME;
        page.lines.splice(0, page.lines.length - LOG_LINES_PER_FRAME);
      }
    }
    if (wanted) this.#arm();
  }

  #arm(): void {
    if (this.#pages.size === 0) return;
    // a status text alone waits for its turn; anything else goes at the next flush
    const other = this.#structural || this.#dirty.size > 0 || this.#events.length > 0 || [...this.#pages].some((p) => p.lines.length > 0);
    const now = this.clock.now();
    const delay = other ? this.#flushMs : Math.max(this.#flushMs, this.#statusSentAt + this.#statusEveryMs - now);
    if (this.#flushTimer !== null) {
      if (this.#flushAt <= now + delay) return;
      this.clock.clearTimer(this.#flushTimer); // waiting for the status text's turn, and now there is more
    }
    this.#flushAt = now + delay;
    this.#flushTimer = this.clock.setTimer(delay, () => {
      this.#flushTimer = null;
      this.#flush();
    });
  }

  #flush(): void {
    const frames: string[] = [];
    const statusDue = this.#status !== null && this.clock.now() - this.#statusSentAt >= this.#statusEveryMs;
    if (this.#structural) {
      // the page keeps its timeline: these events come after it
      frames.push(sseFrame("snapshot", JSON.stringify({ ...this.#snapshot(), events: this.#events, append: true })));
    } else if (statusDue && this.#status !== null) {
      // every instance as the supervisor last wrote it: the events' instances among them
      frames.push(sseFrame("status", this.#status));
      this.#statusSentAt = this.clock.now();
      this.#status = null;
      frames.push(sseFrame("update", JSON.stringify({ now: this.clock.wallNow(), supervisor: null, services: [], events: this.#events })));
    } else if (this.#dirty.size > 0 || this.#events.length > 0) {
      const doc = this.#changed();
      frames.push(sseFrame("update", JSON.stringify({ now: this.clock.wallNow(), supervisor: doc.supervisor, services: doc.services.map(slim), events: this.#events })));
    }
    if (this.#structural) this.#status = null;
    this.#dirty.clear();
    this.#events = [];
    this.#structural = false;
    for (const page of this.#pages) {
      if (page.opening) continue;
      // written frame by frame: the status frame is not copied again into one text
      for (const frame of frames) page.sink.write(frame);
      if (page.lines.length > 0) {
        const data = { instance: page.sink.follow, dropped: page.dropped, lines: page.lines.map(lineDoc) };
        page.sink.write(sseFrame("log", JSON.stringify(data)));
        page.lines = [];
        page.dropped = 0;
      }
    }
    // a status text that waits for its turn
    if (this.#status !== null) this.#arm();
  }

  /** the instances events touched; one removed meanwhile makes it all */
  #changed(): StatusDocument {
    if (this.#dirty.size === 0) return { supervisor: this.source.supervisor(), services: [] };
    try {
      return this.backend.status([...this.#dirty]);
    } catch (err) {
      if (err instanceof UnknownServiceError) return this.backend.status();
      throw err;
    }
  }

  #snapshot(): object {
    const doc = this.backend.status();
    return { now: this.clock.wallNow(), actions: this.opts.actions, layout: this.source.layout(), supervisor: doc.supervisor, services: doc.services.map(slim) };
  }
}

/**
 * An instance's document as the page needs it: without the command (it may hold a secret), the last
 * beat's data (up to 16 KiB each) and the figures the page does not show
 */
export function slim(doc: ServiceDoc): PageServiceDoc {
  const { command: _command, last_beat_data: _data, own_cpu_percent: _cpu, own_memory_bytes: _mem, rejected_messages: _rejected, ...kept } = doc;
  return kept;
}

export type PageServiceDoc = Omit<ServiceDoc, "command" | "last_beat_data" | "own_cpu_percent" | "own_memory_bytes" | "rejected_messages">;

function lineDoc(line: OutputLine): { at: number; stream: "out" | "err"; text: string } {
  return { at: line.atMs, stream: line.stream, text: line.text };
}
