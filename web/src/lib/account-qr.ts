import QRCode from "qrcode";

/**
 * A QR code as one SVG path (a square per dark module), built here so the page shows it as plain
 * markup: no inline style, no data: URL, nothing the strict CSP would refuse.
 */
export function qrPath(text: string): { size: number; d: string } {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const parts: string[] = [];
  for (let y = 0; y < modules.size; y++) {
    for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) parts.push(`M${x} ${y}h1v1h-1z`);
  }
  return { size: modules.size, d: parts.join("") };
}
