/**
 * The name a fetched file goes by: Content-Disposition's (RFC 6266, `filename*` first), else the
 * URL's last path segment. Only trimmed to a plausible name here; it stays untrusted text that the
 * caller sanitises as it would a client's own file name.
 */
export function filenameFromResponse(disposition: string | undefined, url: URL): string | undefined {
  const name = (disposition && fromDisposition(disposition)) || lastSegment(url);
  const base = name?.split(/[/\\]/).pop()?.trim();
  return base ? base.slice(0, 255) : undefined;
}

function fromDisposition(header: string): string | undefined {
  const extended = /(?:^|;)\s*filename\*\s*=\s*([\w!#$&+.^`|~-]+)'[^']*'([^;\s]+)/i.exec(header);
  if (extended && /^utf-8$/i.test(extended[1]!)) {
    const decoded = decode(extended[2]!);
    if (decoded) return decoded;
  }
  const plain = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  if (!plain) return undefined;
  return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2];
}

function lastSegment(url: URL): string | undefined {
  const segment = url.pathname.split("/").pop();
  return segment ? (decode(segment) ?? segment) : undefined;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
