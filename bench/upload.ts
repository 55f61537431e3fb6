/**
 * Upload path benchmark: a 4032×3024 phone photo (JPEG 4:2:0) carrying EXIF, XMP, IPTC and a
 * comment, uploaded over HTTP to a real Pixhaven process at concurrency 1, 2 and 4, upright and
 * with orientation 6 (how phones store portrait photos: the common case) measured separately, then
 * a rotated 4:4:4 photo. Beside it, in this process, raw sharp doing the work a host must do at
 * minimum (decode for the thumbnail), and the plain re-encode (sharp's `.rotate().jpeg()` with its
 * defaults, then a thumbnail) that a simple host does. Prints uploads/s, p50/p99 latency, the
 * server's peak RSS over all the uploads and its RSS at the end, as Markdown tables.
 *
 *   npm run bench:upload            (builds first; BENCH_UPLOADS=n per level, default 24)
 */
import { Agent, request } from "node:http";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { freePort } from "../test/helpers/server.js";
import { addJpegMetadata } from "../test/fixtures/metadata.js";
import { measure, probeHealth, type Run } from "./measure.js";
import { startServer } from "./server-process.js";

const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 24);
const LEVELS = [1, 2, 4];
/** rounds of the head-to-head with the plain server, per level */
const ROUNDS = 4;


async function makePhoto(orientation: number, chromaSubsampling = "4:2:0"): Promise<Uint8Array> {
  // Blurred noise compresses like a detailed photo (several MB at quality 90), unlike a flat fill.
  const noise = await sharp({ create: { width: 4032, height: 3024, channels: 3, background: "#000", noise: { type: "gaussian", mean: 128, sigma: 60 } } })
    .blur(1.5)
    .jpeg({ quality: 90, chromaSubsampling: chromaSubsampling as "4:2:0" | "4:4:4" })
    .toBuffer();
  return addJpegMetadata(noise, orientation);
}

const thumbnailOnly = (photo: Uint8Array) => async () => {
  await sharp(photo).rotate().resize(400, 400, { fit: "inside" }).webp({ quality: 75 }).toBuffer();
};
/** What a simple host does to drop metadata and turn the photo: sharp's defaults, then a thumbnail. */
const reencodeAndThumbnail = (photo: Uint8Array) => async () => {
  const stripped = await sharp(photo).rotate().jpeg().toBuffer();
  await sharp(stripped).resize(400, 400, { fit: "inside" }).webp({ quality: 75 }).toBuffer();
};

const BOUNDARY = "pixhaven-bench-boundary";

/** Waits until every image named has its NSFW classification (P9). */
async function classified(port: number, ids: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (const id of ids) {
    for (;;) {
      const image = (await (await fetch(`http://127.0.0.1:${port}/api/v1/images/${id}`)).json()) as { nsfw?: unknown };
      if (image.nsfw) break;
      if (Date.now() > deadline) throw new Error(`image ${id} was not classified within 5 minutes`);
      // Often, so that a level's time does not end up to 100 ms after its last classification.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Posts one upload; resolves with the answer's body. */
function postMultipart(agent: Agent, port: number, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: "/api/v1/images", method: "POST", agent, headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "content-length": body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => (res.statusCode === 201 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`upload answered ${res.statusCode}: ${Buffer.concat(chunks)}`))));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function multipartBody(photo: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="IMG_0001.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`),
    photo,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

const KINDS = ["upright", "rotated"] as const;
type Kind = (typeof KINDS)[number];

async function main() {
  const photos: Record<Kind, Uint8Array> = { upright: await makePhoto(1), rotated: await makePhoto(6) };
  const rotated444 = await makePhoto(6, "4:4:4");
  const meta = await sharp(photos.upright).metadata();
  console.log(
    `input: ${meta.width}×${meta.height} JPEG 4:2:0, ${(photos.upright.length / 1e6).toFixed(2)} MB with EXIF/XMP/IPTC, upright and with orientation 6; ` +
      `${UPLOADS} uploads per level; ${os.availableParallelism()} cores, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}\n`,
  );

  const baseline = new Map<string, [Run, Run]>();
  for (const kind of KINDS) for (const c of LEVELS) baseline.set(`${kind}/${c}`, [await measure(UPLOADS, c, thumbnailOnly(photos[kind])), await measure(UPLOADS, c, reencodeAndThumbnail(photos[kind]))]);
  const baselineRss = process.resourceUsage().maxRSS / 1024;

  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-"));
  const server = await startServer({ dataDir });
  const port = server.port;
  const http = new Map<string, Run & { sustained: number }>();
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  // An event loop blocked by image work would show here as slow health checks.
  const probe = probeHealth(port);
  const healthLatencies = probe.latencies;
  let serverPeak = 0;
  let mixedPeak = 0;
  let mixedUploads = 0;
  const headToHead = new Map<number, { ours: number; oursClassified: number; theirs: number }>();
  let serverEnd = 0;
  let uploads = 0;
  try {
    // The body is encoded once, so the figures measure the server rather than a client's encoder.
    // Each level ends when its images are classified too (P9 runs after the answer): no level
    // pays for the classifications of the one before, and the sustained rate includes them.
    const level = async (key: string, c: number, body: Buffer) => {
      const ids: string[] = [];
      const started = performance.now();
      const run = await measure(UPLOADS, c, async () => void ids.push((JSON.parse(await postMultipart(agent, port, body)) as { id: string }).id));
      await classified(port, ids);
      http.set(key, { ...run, sustained: UPLOADS / ((performance.now() - started) / 1000) });
      uploads += UPLOADS;
    };
    for (const kind of KINDS) {
      const body = multipartBody(photos[kind]);
      for (const c of LEVELS) await level(`${kind}/${c}`, c, body);
    }
    mixedPeak = server.peakRssMb();
    mixedUploads = uploads;
    await level("rotated 4:4:4/4", 4, multipartBody(rotated444));
    serverPeak = server.peakRssMb();
    await probe.stop();

    // Head to head with the plain re-encoding server, over the same HTTP client and body, taking
    // turns level by level (this machine's speed drifts by a quarter within minutes; measured one
    // after the other, the two would not see the same machine).
    const plainDir = await fs.mkdtemp(path.join(os.tmpdir(), "pixhaven-bench-plain-"));
    const plainPort = await freePort();
    // With glibc's allocator as it comes: Pixhaven's 128 KiB mmap threshold makes sharp's decode
    // and re-encode of a 12 MP photo markedly slower, and a simple host would not set it.
    const plain = await startServer({ dataDir: plainDir, port: plainPort, anyAnswer: true, defaultAllocator: true, args: ["--import", "tsx", path.join(import.meta.dirname, "plain-server.ts"), String(plainPort), plainDir] });
    const plainAgent = new Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const body = multipartBody(photos.rotated);
      const perRound = Math.max(4, Math.round(UPLOADS / ROUNDS));
      for (const c of LEVELS) {
        let ours = 0;
        let oursClassified = 0;
        let theirs = 0;
        const oursRound = async () => {
          const ids: string[] = [];
          const started = performance.now();
          const run = await measure(perRound, c, async () => void ids.push((JSON.parse(await postMultipart(agent, port, body)) as { id: string }).id));
          ours += (perRound / run.perSecond) * 1000;
          await classified(port, ids);
          oursClassified += performance.now() - started;
        };
        const theirsRound = async () => {
          const run = await measure(perRound, c, async () => void (await postMultipart(plainAgent, plainPort, body)));
          theirs += (perRound / run.perSecond) * 1000;
        };
        for (let round = 0; round < ROUNDS; round++) {
          if (round % 2 === 0) await oursRound().then(theirsRound);
          else await theirsRound().then(oursRound);
        }
        const images = perRound * ROUNDS;
        headToHead.set(c, { ours: (images * 1000) / ours, oursClassified: (images * 1000) / oursClassified, theirs: (images * 1000) / theirs });
      }
    } finally {
      plainAgent.destroy();
      await plain.stop();
      await fs.rm(plainDir, { recursive: true, force: true });
    }
  } finally {
    await probe.stop();
    serverEnd = server.rssMb();
    await server.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  }

  const f = (n: number) => n.toFixed(2);
  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log("| photo | concurrency | Pixhaven HTTP uploads/s | p50 | p99 | with their classification done /s | raw sharp thumbnail only /s | HTTP ÷ thumbnail only | plain sharp re-encode + thumbnail /s | HTTP ÷ re-encode |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const kind of KINDS) {
    for (const c of LEVELS) {
      const h = http.get(`${kind}/${c}`)!;
      const [thumb, reenc] = baseline.get(`${kind}/${c}`)!;
      console.log(`| ${kind} | ${c} | ${f(h.perSecond)} | ${ms(h.p50)} | ${ms(h.p99)} | ${f(h.sustained)} | ${f(thumb.perSecond)} | ${Math.round((100 * h.perSecond) / thumb.perSecond)}% | ${f(reenc.perSecond)} | ${Math.round((100 * h.perSecond) / reenc.perSecond)}% |`);
    }
  }
  const r444 = http.get("rotated 4:4:4/4")!;
  console.log(`| rotated, 4:4:4 | 4 | ${f(r444.perSecond)} | ${ms(r444.p50)} | ${ms(r444.p99)} | ${f(r444.sustained)} | | | | |`);
  console.log(`\nRotated photos against a plain re-encoding HTTP server (bench/plain-server.ts), same client and body, the two taking turns in ${ROUNDS} rounds per level:\n`);
  console.log("| concurrency | Pixhaven rotated uploads/s | with their classification done /s | plain re-encoding server uploads/s | Pixhaven ÷ plain | with classification ÷ plain |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const c of LEVELS) {
    const { ours, oursClassified, theirs } = headToHead.get(c)!;
    console.log(`| ${c} | ${f(ours)} | ${f(oursClassified)} | ${f(theirs)} | ${f(ours / theirs)}× | ${f(oursClassified / theirs)}× |`);
  }
  healthLatencies.sort((a, b) => a - b);
  const q = (p: number) => healthLatencies[Math.floor(p * (healthLatencies.length - 1))]!;
  console.log(`\n/healthz during the uploads: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${q(1).toFixed(1)} ms (${healthLatencies.length} probes)`);
  console.log(
    `Pixhaven server: peak RSS ${Math.round(mixedPeak)} MB after ${mixedUploads} mixed 4:2:0 uploads (upright and rotated), ${Math.round(serverPeak)} MB after ${uploads} with the 4:4:4 ones, ` +
      `RSS at the end ${Math.round(serverEnd)} MB; this process (raw sharp baselines + HTTP client) peak ${Math.round(baselineRss)} MB`,
  );
}

await main();
