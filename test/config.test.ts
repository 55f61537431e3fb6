import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

describe("storage settings", () => {
  it("keeps blobs on disk by default", () => {
    expect(loadConfig({}).storage).toEqual({ kind: "disk" });
  });

  it("reads every S3 setting", () => {
    const config = loadConfig({
      STORAGE: "s3",
      S3_ENDPOINT: "http://minio:9000",
      S3_REGION: "eu-west-3",
      S3_BUCKET: "images",
      S3_ACCESS_KEY_ID: "id",
      S3_SECRET_ACCESS_KEY: "secret",
      S3_FORCE_PATH_STYLE: "false",
      S3_PREFIX: "pixhaven/",
    });
    expect(config.storage).toEqual({
      kind: "s3",
      endpoint: "http://minio:9000",
      region: "eu-west-3",
      bucket: "images",
      accessKeyId: "id",
      secretAccessKey: "secret",
      forcePathStyle: false,
      prefix: "pixhaven/",
    });
  });

  it("uses path-style addressing exactly when an endpoint is set, unless told otherwise", () => {
    expect(loadConfig({ STORAGE: "s3", S3_BUCKET: "b" }).storage).toEqual({ kind: "s3", region: "us-east-1", bucket: "b", forcePathStyle: false, prefix: "" });
    expect(loadConfig({ STORAGE: "s3", S3_BUCKET: "b", S3_ENDPOINT: "http://garage:3900" }).storage).toMatchObject({ forcePathStyle: true });
  });

  it("refuses to start on S3 without a bucket, or with one key of the pair", () => {
    expect(() => loadConfig({ STORAGE: "s3" })).toThrow("S3_BUCKET: required when STORAGE=s3");
    expect(() => loadConfig({ STORAGE: "s3", S3_BUCKET: "b", S3_ACCESS_KEY_ID: "id" })).toThrow("S3_SECRET_ACCESS_KEY: set both S3 keys, or neither");
    expect(() => loadConfig({ STORAGE: "s3ish" })).toThrow(/STORAGE/);
  });

  it("reads the defaults the README documents", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8080, maxUploadBytes: 50 * 1024 * 1024, maxPixels: 100_000_000, tombstoneRetentionMs: 30 * 86_400_000 });
    expect(config.uploadRateLimit).toEqual({ max: 100, windowMs: 600_000 });
    expect(config.databaseUrl).toMatch(/^sqlite:.*pixhaven\.sqlite$/);
  });

  it("shares the cores among the model threads unless MODEL_COMPUTE_THREADS says otherwise", () => {
    const cores = availableParallelism();
    expect(loadConfig({ MODEL_WORKERS: "1" }).modelComputeThreads).toBe(cores);
    expect(loadConfig({ MODEL_WORKERS: String(cores * 2) }).modelComputeThreads).toBe(1);
    expect(loadConfig({ MODEL_WORKERS: "1", MODEL_COMPUTE_THREADS: "3" }).modelComputeThreads).toBe(3);
    expect(() => loadConfig({ MODEL_COMPUTE_THREADS: "0" })).toThrow(/MODEL_COMPUTE_THREADS/);
    expect(loadConfig({}).modelNice).toBe(10);
    expect(loadConfig({ MODEL_NICE: "0" }).modelNice).toBe(0);
    expect(() => loadConfig({ MODEL_NICE: "20" })).toThrow(/MODEL_NICE/);
  });

  it("reads the upload rate limit as uploads per duration, or off", () => {
    expect(loadConfig({ UPLOAD_RATE_LIMIT: "20/1h" }).uploadRateLimit).toEqual({ max: 20, windowMs: 3_600_000 });
    expect(loadConfig({ UPLOAD_RATE_LIMIT: "off" }).uploadRateLimit).toBeNull();
    expect(() => loadConfig({ UPLOAD_RATE_LIMIT: "lots" })).toThrow(/UPLOAD_RATE_LIMIT/);
    expect(() => loadConfig({ PORT: "eighty" })).toThrow(/PORT/);
  });

  it("takes PUBLIC_URL as an origin only", () => {
    expect(loadConfig({ PUBLIC_URL: "https://img.example.org/" }).publicUrl).toBe("https://img.example.org");
    // Written as a browser's Origin header is, which the CSRF check compares with it.
    expect(loadConfig({ PUBLIC_URL: "HTTPS://IMG.Example.org:443" }).publicUrl).toBe("https://img.example.org");
    expect(loadConfig({ PUBLIC_URL: "http://127.0.0.1:8080//" }).publicUrl).toBe("http://127.0.0.1:8080");
    expect(() => loadConfig({ PUBLIC_URL: "https://example.org/pixhaven" })).toThrow(/PUBLIC_URL: must be an origin/);
  });
});

describe("empty settings", () => {
  it("a setting left empty is not set: DATABASE_URL= keeps the SQLite file in DATA_DIR, not a temporary database", () => {
    const config = loadConfig({ DATA_DIR: "/srv/pixhaven", DATABASE_URL: "", SMTP_URL: "", PORT: "" });
    expect(config.databaseUrl).toBe("sqlite:/srv/pixhaven/pixhaven.sqlite");
    expect(config.accounts.smtpUrl).toBeUndefined();
    expect(config.port).toBe(loadConfig({}).port);
  });
});
