import { ApiError } from "./api.js";
import { t } from "./i18n/index.svelte.js";

/** The accounts API's error codes, in the reader's language; anything else as the server said it. */
export function describeAccountError(err: unknown): string {
  if (err instanceof DOMException && (err.name === "NotAllowedError" || err.name === "AbortError")) return t("account.errors.passkeyCancelled");
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  switch (err.code) {
    case "invalid_email_or_password":
    case "invalid_password":
      return err.code === "invalid_email_or_password" ? t("account.errors.wrongCredentials") : t("account.errors.wrongPassword");
    case "user_already_exists":
    case "user_already_exists_use_another_email":
      return t("account.errors.exists");
    case "password_too_short":
      return t("account.errors.weakPassword", 10);
    case "invalid_code":
    case "invalid_two_factor_authentication":
    case "invalid_backup_code":
      return t("account.errors.wrongCode");
    case "totp_code_reused":
      return t("account.errors.codeReused");
    case "email_not_verified":
      return t("account.errors.notVerified");
    case "registration_closed":
      return t("account.errors.closed");
    case "invitation_required":
      return t("account.errors.invite");
    case "invalid_token":
      return t("account.reset.invalid");
    case "session_not_fresh":
    case "reauthentication_required":
      return t("account.errors.notFresh");
    case "origin_refused":
      return t("account.errors.origin");
  }
  if (err.status === 429) return t("account.errors.tooMany");
  return err.message;
}
