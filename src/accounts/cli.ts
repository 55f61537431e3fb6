import type { Config } from "../config.js";
import { createCore } from "../core.js";

export const USERS_USAGE = `  users add EMAIL [--admin]
            create an account (its e-mail taken as verified) and print a one-time
            password to sign in with and change; --admin makes it an administrator
            (who must enrol a second factor before reaching admin pages)`;

/** `pixhaven users ...`: account administration from the shell. */
export async function usersCommand(args: string[], config: Config): Promise<number> {
  const [sub, email, ...rest] = args;
  if (sub !== "add" || !email || !/^[^\s@]+@[^\s@]+$/.test(email) || rest.some((a) => a !== "--admin")) {
    console.error(`usage:\n${USERS_USAGE}`);
    return 2;
  }
  const core = await createCore(config);
  try {
    const { password } = await core.accounts.createUser(email, rest.includes("--admin"));
    console.log(`created ${email}${rest.includes("--admin") ? " (administrator)" : ""}\none-time password: ${password}\nsign in at ${config.publicUrl} and change it`);
    return 0;
  } catch (err) {
    console.error(`could not create ${email}: ${(err as Error).message}`);
    return 1;
  } finally {
    await core.close();
  }
}
