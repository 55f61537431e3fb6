/** How long cancelled runs get to stop and report before the process ends without them. */
const GRACE_MS = 2000;

export interface Interrupt {
  /** the signal received, if any */
  readonly signal: NodeJS.Signals | undefined;
  dispose(): void;
}

/**
 * Ctrl-C (or SIGTERM) cancels the runs: each stops at its next step and reports "cancelled". An
 * encode in progress cannot be stopped, and libuv waits for it even in `process.exit`, so if the
 * runs have not ended within the grace period, or on a second signal, the temp folder is removed
 * and the signal is raised again with its default action, which ends the process at once. Outputs
 * appear in the output folder whole or not at all (the runner links finished files), so nothing
 * half-written is left behind.
 */
export function handleInterrupts(controller: AbortController, removeTemp: () => void, say: (line: string) => void): Interrupt {
  let received: NodeJS.Signals | undefined;
  let timer: NodeJS.Timeout | undefined;
  const die = (signal: NodeJS.Signals) => {
    removeTemp();
    dispose();
    process.kill(process.pid, signal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return die(signal);
    received = signal;
    say(`${signal}: cancelling (again to quit at once)`);
    controller.abort();
    timer = setTimeout(() => die(signal), GRACE_MS);
    timer.unref();
  };
  const dispose = () => {
    if (timer) clearTimeout(timer);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    get signal() {
      return received;
    },
    dispose,
  };
}

/** The shell's convention for a process ended by a signal: 128 plus its number. */
export function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 130 : 143;
}
