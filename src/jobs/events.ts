import { EventEmitter } from "node:events";

/** Not a job id (those are 11 symbols of the share-id alphabet). */
const CANCELLED = "job cancelled";

/**
 * Tells listeners in this process that a job's row changed (progress, status), so a live view
 * reads it at once instead of at its next poll. Changes made by a worker in another process are
 * still seen, by the poll (and a cancelled job there stops at its next lease renewal).
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

  /**
   * The job was cancelled or withdrawn: a worker of this process running it stops at once. The
   * caller says `changed` once its row and files are settled.
   */
  cancelled(jobId: string): void {
    this.emitter.emit(CANCELLED, jobId);
  }

  onCancelled(listener: (jobId: string) => void): () => void {
    this.emitter.on(CANCELLED, listener);
    return () => this.emitter.off(CANCELLED, listener);
  }

  watch(jobId: string, listener: () => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }
}
