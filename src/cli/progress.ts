/** Where progress is drawn: stderr, or a stand-in in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 80;
const BAR = 24;

interface Active {
  label: string;
  fraction: number;
  startedAt: number;
}

/**
 * Progress of a batch of files. On a terminal: a bar per file being processed and one for the
 * batch, redrawn in place below the lines already written. Elsewhere (CI logs, pipes): one plain
 * line when a file starts and one when it ends, with no control characters.
 */
export class Progress {
  private readonly active = new Map<number, Active>();
  private readonly fractions: number[];
  private finished = 0;
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private readonly live: boolean;

  constructor(
    private readonly stream: ProgressStream,
    private readonly total: number,
  ) {
    this.fractions = new Array<number>(total).fill(0);
    this.live = stream.isTTY === true;
  }

  start(index: number, label: string): void {
    this.active.set(index, { label, fraction: 0, startedAt: Date.now() });
    if (this.live) this.redrawSoon();
    else this.stream.write(`${this.counter(index)} ${label}: started\n`);
  }

  update(index: number, fraction: number): void {
    const file = this.active.get(index);
    if (!file) return;
    file.fraction = fraction;
    this.fractions[index] = fraction;
    if (this.live) this.redrawSoon();
  }

  /** Ends a file's line; `detail` says how it ended ("done", "failed: code"). */
  end(index: number, detail: string): void {
    const file = this.active.get(index);
    this.active.delete(index);
    this.fractions[index] = 1;
    this.finished++;
    if (!this.live && file) this.stream.write(`${this.counter(index)} ${file.label}: ${detail} in ${seconds(Date.now() - file.startedAt)}\n`);
    if (this.live) this.redrawSoon();
  }

  /** Writes lines that stay (results, errors) above the bars; `write` may use any stream. */
  print(write: () => void): void {
    this.clear();
    write();
    if (this.live) this.redraw();
  }

  /** Removes the bars and writes the batch's last line. */
  close(summary: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
    if (this.total > 1) this.stream.write(`${summary} in ${seconds(Date.now() - this.startedAt)}\n`);
  }

  private counter(index: number): string {
    return `[${index + 1}/${this.total}]`;
  }

  private redrawSoon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, REDRAW_MS);
  }

  private redraw(): void {
    const width = Math.max(40, (this.stream.columns || 80) - 1);
    const lines = [...this.active.values()].map((f) => barLine(f.label, f.fraction, width));
    if (this.total > 1) {
      const overall = this.fractions.reduce((a, b) => a + b, 0) / this.total;
      lines.push(barLine(`total: ${this.finished}/${this.total} files`, overall, width));
    }
    this.clear();
    this.stream.write(lines.map((l) => `${l}\n`).join(""));
    this.drawnLines = lines.length;
  }

  private clear(): void {
    if (!this.live || this.drawnLines === 0) return;
    // To the start of the first bar line, then erase to the end of the screen.
    this.stream.write(`\x1b[${this.drawnLines}F\x1b[0J`);
    this.drawnLines = 0;
  }
}

function barLine(label: string, fraction: number, width: number): string {
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const room = Math.max(8, width - BAR - pct.length - 2);
  const name = label.length > room ? `…${label.slice(label.length - room + 1)}` : label.padEnd(room);
  const filled = Math.round(fraction * BAR);
  return `${name} ${"█".repeat(filled)}${"·".repeat(BAR - filled)} ${pct}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}
