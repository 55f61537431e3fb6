import { t } from "./i18n/index.svelte.js";

export async function copyText(text: string): Promise<void> {
  // The async clipboard API exists only in secure contexts; plain-HTTP
  // self-hosted instances need the legacy path.
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Fall through: permission or focus problems still allow execCommand.
    }
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "visually-hidden";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error(t("errors.copyBlocked"));
}
