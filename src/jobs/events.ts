import { EventEmitter } from "node:events";

/**
 * Tells listeners in this process that a job's row changed (progress, status), so a live view
 * reads it at once instead of at its next poll. Changes made by a worker in another process are
 * still seen, by the poll.
 */
export class JobEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open live view; many may watch at once.
    this.emitter.setMaxListeners(0);
  }

  changed(jobId: string): void {
    this.emitter.emit(jobId);
  }

  watch(jobId: string, listener: () => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }
}
