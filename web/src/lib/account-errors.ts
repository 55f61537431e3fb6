import { ApiError } from "./api.js";
import { t } from "./i18n/index.svelte.js";

/** better-auth's and Pixhaven's error codes, in the reader's language; anything else as the server said it. */
export function describeAccountError(err: unknown): string {
  if (err instanceof DOMException && (err.name === "NotAllowedError" || err.name === "AbortError")) return t("account.errors.passkeyCancelled");
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  switch (err.code) {
    case "INVALID_EMAIL_OR_PASSWORD":
    case "INVALID_PASSWORD":
    case "invalid_password":
      return err.code === "INVALID_EMAIL_OR_PASSWORD" ? t("account.errors.wrongCredentials") : t("account.errors.wrongPassword");
    case "USER_ALREADY_EXISTS":
    case "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL":
      return t("account.errors.exists");
    case "PASSWORD_TOO_SHORT":
      return t("account.errors.weakPassword", 10);
    case "INVALID_CODE":
    case "INVALID_TWO_FACTOR_AUTHENTICATION":
    case "INVALID_BACKUP_CODE":
      return t("account.errors.wrongCode");
    case "TOTP_CODE_REUSED":
      return t("account.errors.codeReused");
    case "EMAIL_NOT_VERIFIED":
      return t("account.errors.notVerified");
    case "REGISTRATION_CLOSED":
      return t("account.errors.closed");
    case "INVITATION_REQUIRED":
      return t("account.errors.invite");
    case "INVALID_TOKEN":
      return t("account.reset.invalid");
    case "SESSION_NOT_FRESH":
    case "reauthentication_required":
      return t("account.errors.notFresh");
    case "origin_refused":
      return t("account.errors.origin");
  }
  if (err.status === 429) return t("account.errors.tooMany");
  return err.message;
}
