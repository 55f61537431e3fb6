import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../common/clock.js";
import { AppError } from "../common/errors.js";
import { leadingZeroBits, proofInput } from "../common/proof-of-work.js";
import type { Database } from "../db/schema.js";

/** How long a challenge may be solved and used. */
const CHALLENGE_TTL_MS = 10 * 60_000;

export interface Challenge {
  challenge: string;
  bits: number;
  expiresAt: number;
}

/**
 * The bot check without a third party (P16): an anonymous upload carries the answer to a puzzle the
 * server set, a number `nonce` such that SHA-256("<challenge>:<nonce>") starts with `bits` zero
 * bits (about 2^bits hashes for the browser, one for the server). Challenges are signed, not
 * stored, so any process of the server checks them; a solved one is recorded as spent in the
 * database, so it passes once in the whole cluster, and the record goes when the challenge expires.
 */
export class ProofOfWork {
  private readonly key: Buffer;

  constructor(
    secret: string,
    readonly bits: number,
    private readonly clock: Clock,
    private readonly db: Kysely<Database>,
  ) {
    this.key = Buffer.from(hkdfSync("sha256", secret, "", "pixhaven proof-of-work", 32));
  }

  issue(): Challenge {
    const expiresAt = this.clock.now() + CHALLENGE_TTL_MS;
    const body = `${expiresAt}.${this.bits}.${randomBytes(12).toString("base64url")}`;
    return { challenge: `${body}.${this.sign(body)}`, bits: this.bits, expiresAt };
  }

  /** Throws 400 `proof_of_work_required` without an answer, `invalid_proof_of_work` for a wrong, stale or used one. */
  async check(answer: string | undefined): Promise<void> {
    if (!answer) throw new AppError("proof_of_work_required", 400, "An anonymous upload needs a proof of work: GET /api/v1/pow, then send X-Proof-Of-Work: <challenge>:<nonce>.");
    const invalid = (why: string) => new AppError("invalid_proof_of_work", 400, `The proof of work ${why}; ask for a new challenge.`);
    const match = /^((\d{13})\.(\d{1,2})\.[A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43}):(\d{1,15})$/.exec(answer);
    if (!match) throw invalid("is malformed");
    const [, body, expires, bits, mac, nonce] = match as unknown as [string, string, string, string, string, string];
    const challenge = `${body}.${mac}`;
    const expected = Buffer.from(this.sign(body));
    if (!timingSafeEqual(Buffer.from(mac), expected)) throw invalid("was not issued by this server");
    const now = this.clock.now();
    if (Number(expires) < now) throw invalid("has expired");
    if (Number(bits) < this.bits) throw invalid("is too easy");
    const digest = createHash("sha256").update(proofInput(challenge, Number(nonce))).digest();
    if (leadingZeroBits(digest) < Number(bits)) throw invalid("does not solve its challenge");
    // One conditional insert: of two processes taking the same proof at once, one wins.
    const spent = await this.db.insertInto("spent_proofs").values({ mac, expires_at: Number(expires) }).onConflict((oc) => oc.column("mac").doNothing()).executeTakeFirst();
    if (Number(spent.numInsertedOrUpdatedRows ?? 0) === 0) throw invalid("was used already");
  }

  /** Spent proofs whose challenge has expired: they could not pass again anyway. */
  async purgeSpent(): Promise<number> {
    const result = await this.db.deleteFrom("spent_proofs").where("expires_at", "<", this.clock.now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private sign(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}
