import { createHmac } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { readFile } from "node:fs/promises";
import { unzipSync } from "fflate";
import type { Browser, BrowserContext, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { launchChromium, openWatchedPage, type PageLog, skipBrowser } from "../helpers/browser.js";
import { freePort, startTestServer, type TestServer } from "../helpers/server.js";

const PASSWORD = "correct horse battery staple";
let counter = 0;
const uniqueEmail = (label: string) => `${label}-${Date.now().toString(36)}-${counter++}@example.org`;

/** RFC 6238 (HMAC-SHA1, 30 s, 6 digits), as an authenticator app computes it, for the step `offset` steps from now. */
function totp(base32Secret: string, offset = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of base32Secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counterBytes = Buffer.alloc(8);
  counterBytes.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + offset));
  const mac = createHmac("sha1", key).update(counterBytes).digest();
  const at = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * Accounts in Chromium. The server's PUBLIC_URL is http://localhost:<port> and the pages are opened
 * there: WebAuthn refuses an IP address as relying party, and the server's CSRF rule wants the
 * page's Origin to be PUBLIC_URL exactly.
 */
(skipBrowser ? describe.skip : describe)("accounts in Chromium: sign-up, dashboard, settings, TOTP, passkeys, claiming", () => {
  let srv: TestServer;
  let base: string;
  let browser: Browser;
  let forwarder: Server;
  const forwarded = new Set<Socket>();
  let green: Buffer;
  let blue: Buffer;
  const logs: PageLog[] = [];

  beforeAll(async () => {
    green = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#3a7" } }).jpeg().toBuffer();
    blue = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#37a" } }).png().toBuffer();
    const port = await freePort();
    base = `http://localhost:${port}`;
    const accounts = loadConfig({}).accounts;
    srv = await startTestServer({
      jobWorker: true,
      // A GitHub client is configured (never contacted) so that the sign-in page offers it.
      config: { port, publicUrl: base, accounts: { ...accounts, signInRateLimit: null, requireEmailVerification: false, github: { clientId: "test-client", clientSecret: "test-secret" } } },
    });
    // The test server listens on a port of its own choosing: this one forwards to it, so that the
    // address the pages use is exactly PUBLIC_URL.
    const target = Number(new URL(srv.baseUrl).port);
    forwarder = createServer((socket) => {
      const upstream = connect(target, "127.0.0.1");
      forwarded.add(socket).add(upstream);
      socket.on("close", () => forwarded.delete(socket));
      upstream.on("close", () => forwarded.delete(upstream));
      socket.pipe(upstream).pipe(socket);
      const close = () => (socket.destroy(), upstream.destroy());
      socket.on("error", close);
      upstream.on("error", close);
    });
    await new Promise<void>((resolve) => forwarder.listen(port, "127.0.0.1", resolve));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    // Kept-alive connections would hold the forwarder open for the server's keep-alive timeout.
    for (const socket of forwarded) socket.destroy();
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)));
    await srv?.stop();
  });

  async function open(): Promise<{ context: BrowserContext; page: Page }> {
    const log: PageLog = { requests: [], cspReports: [], pageErrors: [] };
    logs.push(log);
    return openWatchedPage(browser, log);
  }

  async function signUp(page: Page, email: string) {
    await page.goto(`${base}/account/sign-up`);
    await page.getByLabel("Name").fill("Ada");
    await page.getByLabel("E-mail address").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText(`Signed in as ${email}.`).waitFor();
  }

  async function signOut(page: Page) {
    await page.getByRole("button", { name: /^Account menu/ }).click();
    await page.getByRole("banner").getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out.").waitFor();
    await page.getByRole("link", { name: "Sign in", exact: true }).first().waitFor();
  }

  async function signInWithPassword(page: Page, email: string, password = PASSWORD) {
    await page.goto(`${base}/account/sign-in`);
    await page.getByLabel("E-mail address").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  async function uploadOnHomePage(page: Page): Promise<string> {
    await page.goto(`${base}/`);
    await page.locator("input[type=file]").first().setInputFiles({ name: "green.jpg", mimeType: "image/jpeg", buffer: green });
    let id = "";
    await expect
      .poll(async () => {
        const owned = await page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.uploads") ?? "[]") as { id: string }[]);
        id = owned[0]?.id ?? "";
        return id;
      }, { timeout: 30_000 })
      .not.toBe("");
    return id;
  }

  async function runStrip(page: Page): Promise<string> {
    await page.goto(`${base}/tools/strip?on=server`);
    await page.getByLabel("Choose files for this tool").setInputFiles({ name: "plain.png", mimeType: "image/png", buffer: blue });
    await page.getByRole("button", { name: "Upload and run on 1 file" }).click();
    await page.getByRole("status").filter({ hasText: /^Done$/ }).waitFor({ timeout: 30_000 });
    const jobs = await page.evaluate(() => JSON.parse(localStorage.getItem("pixhaven.jobs") ?? "[]") as { id: string }[]);
    expect(jobs).toHaveLength(1);
    return jobs[0]!.id;
  }

  it("signs up, uploads and runs a tool, sees both on the dashboard, manages tokens and sessions, exports, and deletes the account", async () => {
    const { context, page } = await open();
    const email = uniqueEmail("journey");

    // The server says how one signs up and which SSO providers it has; the sign-in page offers them.
    expect(await (await fetch(`${base}/api/v1/auth/providers`)).json()).toEqual({ registration: "open", emailVerification: false, providers: [{ id: "github", name: "GitHub" }] });
    await page.goto(`${base}/`);
    await page.getByRole("link", { name: "Sign in", exact: true }).click();
    await page.getByRole("button", { name: "Sign in with GitHub" }).waitFor();
    await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
    await page.getByRole("link", { name: "Create an account" }).click();
    expect(new URL(page.url()).pathname).toBe("/account/sign-up");
    await signUp(page, email);
    await page.getByRole("button", { name: `Account menu (${email})` }).waitFor();

    const imageId = await uploadOnHomePage(page);
    const jobId = await runStrip(page);

    await page.goto(`${base}/account`);
    const image = page.locator(`li[data-image="${imageId}"]`);
    await image.waitFor();
    await image.getByText("green.jpg").waitFor();
    expect(await image.locator("img").getAttribute("src")).toBe(`/i/${imageId}/thumb`);
    await image.getByRole("button", { name: `Copy link to image ${imageId}` }).waitFor();
    const job = page.locator(`li[data-job="${jobId}"]`);
    await job.locator('[data-status="succeeded"]').waitFor();
    await job.getByRole("link", { name: "Download plain.png" }).waitFor();
    await job.getByText("Files deleted").waitFor();
    await page.locator('[data-stat="images"]').filter({ hasText: "1" }).waitFor();
    await page.getByRole("row", { name: /strip 1 0 0/ }).waitFor();
    // Made while signed in: the account's already, so nothing is offered for claiming.
    expect(await page.getByRole("heading", { name: "Made in this browser before you signed in" }).count()).toBe(0);

    await page.goto(`${base}/account/settings`);
    await page.locator("[data-profile]").getByText(email).waitFor();

    // API token: shown once, with a ShareX uploader and a curl example; usable, then revoked.
    await page.getByLabel("Name", { exact: true }).fill("ShareX desktop");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = await page.getByRole("textbox", { name: "API token" }).inputValue();
    expect(token.length).toBeGreaterThan(20);
    expect(await page.locator("[data-curl]").textContent()).toContain(`Authorization: Bearer ${token}`);
    const [sxcu] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download ShareX uploader (.sxcu)" }).click()]);
    expect(sxcu.suggestedFilename()).toBe("pixhaven-ShareX-desktop.sxcu");
    const uploader = JSON.parse(await readFile((await sxcu.path())!, "utf8"));
    expect(uploader).toMatchObject({ RequestURL: `${base}/api/v1/images`, Headers: { Authorization: `Bearer ${token}` }, FileFormName: "file" });
    const withToken = () => fetch(`${base}/api/v1/me/images`, { headers: { authorization: `Bearer ${token}` } });
    expect((await withToken()).status).toBe(200);
    await page.reload();
    await page.locator("tr[data-token]").filter({ hasText: "ShareX desktop" }).waitFor();
    expect(await page.getByRole("textbox", { name: "API token" }).count()).toBe(0); // never shown again
    await page.getByRole("button", { name: "Revoke token ShareX desktop" }).click();
    await page.getByText("No API tokens.").waitFor();
    expect((await withToken()).status).toBe(401);

    // Sessions: another sign-in appears in the list and is signed out from here.
    const other = await fetch(`${base}/api/auth/sign-in/email`, { method: "POST", headers: { origin: base, "content-type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) });
    expect(other.status).toBe(200);
    const otherCookie = other.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const otherMe = () => fetch(`${base}/api/v1/me`, { headers: { cookie: otherCookie } });
    expect((await otherMe()).status).toBe(200);
    await page.reload();
    const sessions = page.locator("li[data-session]");
    await expect.poll(() => sessions.count()).toBe(2);
    await sessions.filter({ hasNotText: "this browser" }).getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => sessions.count()).toBe(1);
    expect((await otherMe()).status).toBe(401);

    // Export: a ZIP with account.json and the image.
    const [exported] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download my data (ZIP)" }).click()]);
    const files = unzipSync(new Uint8Array(await readFile((await exported.path())!)));
    const manifest = JSON.parse(new TextDecoder().decode(files["account.json"]!));
    expect(manifest.account.email).toBe(email);
    expect(manifest.images.map((i: { id: string }) => i.id)).toEqual([imageId]);
    expect(manifest.jobs.map((j: { id: string }) => j.id)).toEqual([jobId]);
    const imageEntry = Object.keys(files).find((name) => name.includes(imageId));
    expect(imageEntry).toBeTruthy();
    expect((await sharp(Buffer.from(files[imageEntry!]!)).metadata()).width).toBe(64);

    // Deletion: a wrong password is refused; the right one deletes everything and signs out.
    const rawStatus = async () => (await fetch(`${base}/i/${imageId}/raw`)).status;
    expect(await rawStatus()).toBe(200);
    const zone = page.getByRole("region", { name: "Delete account" });
    await zone.getByLabel("Password").fill("not the password at all");
    await zone.getByRole("button", { name: "Delete my account" }).click();
    await zone.getByRole("button", { name: "Yes, delete everything" }).click();
    await zone.getByText("The password is wrong.").waitFor();
    await zone.getByLabel("Password").fill(PASSWORD);
    await zone.getByRole("button", { name: "Delete my account" }).click();
    await zone.getByRole("button", { name: "Yes, delete everything" }).click();
    await page.getByRole("heading", { name: "Your account was deleted" }).waitFor();
    await page.getByRole("link", { name: "Sign in", exact: true }).first().waitFor();
    expect([404, 410]).toContain(await rawStatus());
    expect((await context.request.get(`${base}/api/v1/me`)).status()).toBe(401);
    await signInWithPassword(page, email);
    await page.getByText("Wrong e-mail address or password.").waitFor();
    await context.close();
  });

  it("enrols TOTP on the settings page (QR and recovery codes), then a sign-in asks for the code or a recovery code", async () => {
    const { context, page } = await open();
    const email = uniqueEmail("totp");
    // The landings of the e-mailed links, and the request for one.
    await page.goto(`${base}/account/reset?error=INVALID_TOKEN`);
    await page.getByText("This link is invalid, expired or was used already.").waitFor();
    await page.goto(`${base}/account/verified?error=invalid_token`);
    await page.getByRole("heading", { name: "This link did not work" }).waitFor();
    await page.goto(`${base}/account/sign-in`);
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("E-mail address").fill(email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByText("If an account uses this address, a link is on its way.").waitFor();
    await signUp(page, email);
    await page.goto(`${base}/account/settings`);
    const section = page.getByRole("region", { name: "Second factor" });
    await section.getByLabel("Password").fill(PASSWORD);
    await section.getByRole("button", { name: "Set up an authenticator app" }).click();
    const qr = section.getByRole("img", { name: "QR code for your authenticator app" });
    await qr.waitFor();
    expect(await qr.evaluate((el) => el.tagName.toLowerCase())).toBe("svg");
    expect((await qr.locator("path").getAttribute("d"))!.length).toBeGreaterThan(1000);
    const secret = (await section.locator("[data-totp-secret]").textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    // Clear of a step's end, so that "this step" and "the next" below stay what they say.
    const intoStep = Date.now() % 30_000;
    if (intoStep > 25_000) await new Promise((r) => setTimeout(r, 30_000 - intoStep + 200));
    await section.getByLabel("Code from the app").fill(totp(secret));
    await section.getByRole("button", { name: "Confirm" }).click();
    await section.getByText("The second factor is on.").waitFor();
    const recovery = (await section.locator("[data-recovery-codes]").textContent())!.split("\n").filter(Boolean);
    expect(recovery.length).toBeGreaterThanOrEqual(8);
    await section.getByRole("button", { name: "I have saved them" }).click();
    await section.getByText("On: signing in with your password").waitFor();
    expect(await section.locator("[data-recovery-codes]").count()).toBe(0); // shown once only

    await signOut(page);
    await signInWithPassword(page, email, "not the password at all");
    await page.getByText("Wrong e-mail address or password.").waitFor();
    await signInWithPassword(page, email);
    await page.getByRole("heading", { name: "Second factor" }).waitFor();
    expect((await context.request.get(`${base}/api/v1/me`)).status()).toBe(401);
    await page.getByLabel("Code").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText("This code is not valid.").waitFor();
    // The enrolment code was spent; the next step's code is what the app shows next.
    await page.getByLabel("Code").fill(totp(secret, 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText(`Signed in as ${email}.`).waitFor();

    await signOut(page);
    await signInWithPassword(page, email);
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    await page.getByLabel("Recovery code").fill(recovery[0]!);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText(`Signed in as ${email}.`).waitFor();
    await context.close();
  });

  it("claims what this browser made anonymously, then registers a passkey and signs in with it (virtual authenticator)", async () => {
    const { context, page } = await open();
    const imageId = await uploadOnHomePage(page);
    const jobId = await runStrip(page);
    expect((await (await fetch(`${base}/api/v1/images/${imageId}`)).json()).id).toBe(imageId);

    const email = uniqueEmail("claim");
    await signUp(page, email);
    const offer = page.getByRole("region", { name: "Made in this browser before you signed in" });
    await offer.getByText("1 image and 1 tool job").waitFor();
    expect(await page.locator(`li[data-image="${imageId}"]`).count()).toBe(0);
    await offer.getByRole("button", { name: "Add them to my account" }).click();
    await page.getByText("Added to your account: 1 image, 1 tool job.").waitFor();
    await page.locator(`li[data-image="${imageId}"]`).waitFor();
    await page.locator(`li[data-job="${jobId}"]`).waitFor();
    await page.reload();
    await page.locator(`li[data-image="${imageId}"]`).waitFor();
    expect(await page.getByRole("region", { name: "Made in this browser before you signed in" }).count()).toBe(0);

    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });
    await page.goto(`${base}/account/settings`);
    const section = page.getByRole("region", { name: "Passkeys" });
    await section.getByText("No passkeys yet.").waitFor();
    await section.getByLabel("Name of the new passkey").fill("laptop");
    await section.getByRole("button", { name: "Add a passkey" }).click();
    await section.getByText("Passkey added.").waitFor();
    await section.locator("li[data-passkey]").filter({ hasText: "laptop" }).waitFor();
    expect((await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials).toHaveLength(1);

    await signOut(page);
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await page.getByText(`Signed in as ${email}.`).waitFor();
    await page.locator(`li[data-image="${imageId}"]`).waitFor();
    await context.close();
  });

  it("every account page stayed on its own origin, without CSP violations or script errors", () => {
    expect(logs).toHaveLength(3);
    for (const log of logs) {
      const network = log.requests.filter((url) => !url.startsWith("data:") && !url.startsWith("blob:"));
      expect(network.length).toBeGreaterThan(0);
      expect(network.filter((url) => new URL(url).origin !== base)).toEqual([]);
      expect(log.cspReports).toEqual([]);
      expect(log.pageErrors).toEqual([]);
    }
  });
});
