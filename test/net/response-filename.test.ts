import { describe, expect, it } from "vitest";
import { filenameFromResponse } from "../../src/net/response-filename.js";

const at = (path: string) => new URL(`http://images.test${path}`);

describe("the name of a fetched file", () => {
  it.each([
    [`attachment; filename="a.png"`, "a.png"],
    [`inline; filename=plain.gif`, "plain.gif"],
    [`attachment; filename="q\\"uote.jpg"`, 'q"uote.jpg'],
    [`attachment; filename="fallback.png"; filename*=UTF-8''%E2%82%AC%20rates.png`, "€ rates.png"],
    [`attachment; filename*=utf-8''caf%C3%A9.webp`, "café.webp"],
    [`attachment; filename="../../etc/passwd"`, "passwd"],
    [`attachment; filename="C:\\\\temp\\\\x.jpg"`, "x.jpg"],
  ])("reads %s as %j", (header, name) => {
    expect(filenameFromResponse(header, at("/ignored.bin"))).toBe(name);
  });

  it("falls back to the plain name when the extended one is not UTF-8 or is malformed", () => {
    expect(filenameFromResponse(`attachment; filename="ok.png"; filename*=ISO-8859-1''x%E9.png`, at("/"))).toBe("ok.png");
    expect(filenameFromResponse(`attachment; filename="ok.png"; filename*=UTF-8''%E2%82.png`, at("/"))).toBe("ok.png");
  });

  it("falls back to the last path segment, decoded", () => {
    expect(filenameFromResponse(undefined, at("/a/b/my%20photo.jpg?size=large"))).toBe("my photo.jpg");
    expect(filenameFromResponse("inline", at("/x.png"))).toBe("x.png");
    expect(filenameFromResponse(undefined, at("/bad%E2.jpg"))).toBe("bad%E2.jpg");
  });

  it("has none for a bare path", () => {
    expect(filenameFromResponse(undefined, at("/"))).toBeUndefined();
    expect(filenameFromResponse(undefined, at("/dir/"))).toBeUndefined();
  });

  it("bounds the length", () => {
    expect(filenameFromResponse(`attachment; filename="${"n".repeat(1000)}.jpg"`, at("/"))!.length).toBe(255);
  });
});
