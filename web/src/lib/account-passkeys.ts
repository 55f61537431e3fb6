/**
 * Passkeys: the server's WebAuthn options arrive as JSON with base64url strings where the browser
 * wants bytes, and the browser's answer goes back the same way.
 */
import { accountCall } from "./account.svelte.js";

type Json = Record<string, unknown>;

function fromBase64url(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function toBase64url(buffer: ArrayBuffer | null): string | undefined {
  if (!buffer) return undefined;
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptors = (list: unknown) =>
  Array.isArray(list) ? list.map((c: Json) => ({ ...c, id: fromBase64url(String(c.id)) }) as PublicKeyCredentialDescriptor) : undefined;

export const passkeysSupported = (): boolean => typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

/** Registers a passkey for the signed-in account; the browser asks the person to confirm. */
export async function registerPasskey(name: string): Promise<void> {
  const options = await accountCall<Json>("GET", "/api/auth/passkey/generate-register-options");
  const user = options.user as Json;
  const publicKey = {
    ...options,
    challenge: fromBase64url(String(options.challenge)),
    user: { ...user, id: fromBase64url(String(user.id)) },
    excludeCredentials: descriptors(options.excludeCredentials) ?? [],
  } as unknown as PublicKeyCredentialCreationOptions;
  const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new Error("No passkey was created.");
  const response = credential.response as AuthenticatorAttestationResponse;
  await accountCall("POST", "/api/auth/passkey/verify-registration", {
    name,
    response: {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: typeof response.getTransports === "function" ? response.getTransports() : [],
      },
    },
  });
}

/** Signs in with a passkey this device holds (no e-mail needed: the passkey names the account). */
export async function signInWithPasskey(): Promise<void> {
  const options = await accountCall<Json>("GET", "/api/auth/passkey/generate-authenticate-options");
  const publicKey = {
    ...options,
    challenge: fromBase64url(String(options.challenge)),
    allowCredentials: descriptors(options.allowCredentials) ?? [],
  } as unknown as PublicKeyCredentialRequestOptions;
  const credential = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (!credential) throw new Error("No passkey was chosen.");
  const response = credential.response as AuthenticatorAssertionResponse;
  await accountCall("POST", "/api/auth/passkey/verify-authentication", {
    response: {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        authenticatorData: toBase64url(response.authenticatorData),
        signature: toBase64url(response.signature),
        userHandle: toBase64url(response.userHandle),
      },
    },
  });
}
