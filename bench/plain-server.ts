/**
 * The baseline a host without Pixhaven's pipeline would be: a small HTTP server that takes a
 * multipart upload, drops the metadata and turns the photo the usual way (sharp's `.rotate()` and
 * a JPEG re-encode with its defaults), writes the file and a 400 px WebP thumbnail, and answers 201.
 * Started by bench/upload.ts in a process of its own, measured with the same client and body.
 *
 *   tsx bench/plain-server.ts <port> <dir>
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import path from "node:path";
import sharp from "sharp";

const [port, dir] = [Number(process.argv[2]), process.argv[3]!];

createServer((req, res) => {
  const boundary = /boundary=(.+)$/.exec(req.headers["content-type"] ?? "")?.[1];
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    try {
      const body = Buffer.concat(chunks);
      const start = body.indexOf("\r\n\r\n") + 4;
      const end = body.lastIndexOf(`\r\n--${boundary}--`);
      const name = path.join(dir, randomBytes(8).toString("hex"));
      await sharp(body.subarray(start, end)).rotate().jpeg().toFile(`${name}.jpg`);
      await sharp(`${name}.jpg`).resize(400, 400, { fit: "inside" }).webp({ quality: 75 }).toFile(`${name}.webp`);
      res.writeHead(201, { "content-type": "application/json" }).end('{"ok":true}');
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
}).listen(port, "127.0.0.1");
