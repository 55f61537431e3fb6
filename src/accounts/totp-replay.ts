import { createOTP } from "@better-auth/utils/otp";
import { APIError, getSessionFromCtx } from "better-auth/api";
import { symmetricDecrypt } from "better-auth/crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

const PERIOD_S = 30;
const DIGITS = 6;
/** better-auth accepts the code of the previous, current and next time-step. */
const WINDOW = 1;
const TWO_FACTOR_COOKIE = "two_factor";

/** The parts of better-auth's endpoint context the guard reads (the full type is internal to it). */
type VerifyContext = Parameters<typeof getSessionFromCtx>[0] & { body?: unknown };

/**
 * A TOTP code is good once: better-auth checks only that a code matches a time-step near now, so
 * the code typed to enrol (or an observed one) would open a second sign-in within the same 90 s.
 * Before better-auth verifies, this finds the time-step the code belongs to and claims it for the
 * user; a step at or before the last one claimed is refused. The claim is one conditional write,
 * so two requests racing with the same code cannot both pass.
 */
export class TotpReplayGuard {
  constructor(private readonly db: Kysely<Database>) {}

  async check(ctx: VerifyContext): Promise<void> {
    const code = (ctx.body as { code?: unknown } | undefined)?.code;
    if (typeof code !== "string") return;
    const userId = await this.userOf(ctx);
    if (!userId) return; // better-auth answers for a missing session or sign-in cookie
    const row = await ctx.context.adapter.findOne<{ secret: string }>({ model: "twoFactor", where: [{ field: "userId", value: userId }] });
    if (!row) return;
    const secret = await symmetricDecrypt({ key: ctx.context.secretConfig, data: row.secret });
    const otp = createOTP(secret, { period: PERIOD_S, digits: DIGITS });
    const now = Math.floor(Date.now() / 1000 / PERIOD_S);
    let step: number | undefined;
    for (let s = now - WINDOW; s <= now + WINDOW; s++) if ((await otp.hotp(s)) === code) step = s;
    if (step === undefined) return; // a wrong code: better-auth counts the failure
    if (!(await this.claim(userId, step))) {
      throw APIError.from("UNAUTHORIZED", { message: "This code has been used already; wait for the next one.", code: "TOTP_CODE_REUSED" });
    }
  }

  private async userOf(ctx: VerifyContext): Promise<string | undefined> {
    const session = await getSessionFromCtx(ctx);
    if (session) return session.user.id;
    const cookie = ctx.context.createAuthCookie(TWO_FACTOR_COOKIE);
    const signed = await ctx.getSignedCookie(cookie.name, ctx.context.secret);
    if (!signed) return undefined;
    const verification = await ctx.context.internalAdapter.findVerificationValue(signed);
    return verification?.value;
  }

  /** True when `step` is later than any step this user has used. */
  private async claim(userId: string, step: number): Promise<boolean> {
    await this.db.insertInto("totp_steps").values({ user_id: userId, step: -1 }).onConflict((oc) => oc.column("user_id").doNothing()).execute();
    const result = await this.db.updateTable("totp_steps").set({ step }).where("user_id", "=", userId).where("step", "<", step).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
