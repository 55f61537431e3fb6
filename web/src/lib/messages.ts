/**
 * English text of the tools pages and the URL upload, in one place so that a message catalogue can
 * replace it later. Texts that take values are functions.
 */
import { formatDuration } from "./format.js";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export const nav = {
  upload: "Upload",
  tools: "Tools",
  history: "Tool history",
  mainLabel: "Main",
};

export const toolsIndex = {
  title: "Image tools",
  intro: "Convert, compress, resize, crop and clean up images, many at once.",
  serverBadge: "Runs on this server",
  unavailable: (reason: string) => `Not available here: ${reason}.`,
  loading: "Loading the tools…",
  loadFailed: "Could not load the list of tools.",
  retention: (seconds: number) => `Files you send to a tool are deleted automatically ${formatDuration(seconds)} after the job ends.`,
  historyLink: "Jobs you ran in this browser",
};

export const retentionNotice = {
  heading: "Your files are uploaded to this server",
  body: (seconds: number) =>
    `This tool runs on this server, so the files you add are uploaded here when you press the run button. ` +
    `The originals are deleted as soon as the job ends, and the results are deleted automatically ${formatDuration(seconds)} after the job ends.`,
  nothingYet: "Nothing has been sent yet.",
};

export const toolPage = {
  notFound: "Tool not found",
  notFoundMessage: "There is no tool with this name.",
  unavailable: (reason: string) => `This tool is not available on this server: ${reason}.`,
  filesHeading: "Files",
  settingsHeading: "Settings",
  noSettings: "This tool has no settings.",
  advanced: "More encoding options",
  dropTitle: "Drop files here or choose files",
  dropActive: "Drop to add",
  dropSub: "You can also paste with Ctrl+V",
  pickerLabel: "Choose files for this tool",
  limits: (types: string, maxBytes: string, maxFiles: number) => `${types} · up to ${maxBytes} each · at most ${maxFiles} files at once`,
  urlLabel: "Or add an image by its address (URL)",
  urlAdd: "Add",
  urlPlaceholder: "https://example.com/picture.jpg",
  urlInvalid: "Enter a full address starting with http:// or https://.",
  selectedHeading: (n: number) => `Selected: ${plural(n, "file", "files")}`,
  remove: "Remove",
  estimate: (seconds: number) => `about ${formatEstimate(seconds)}`,
  run: (n: number) => (n === 0 ? "Upload and run" : `Upload and run on ${plural(n, "file", "files")}`),
  nothingSelected: "Add at least one file first.",
  tooMany: (max: number) => `A batch takes at most ${max} files. Remove some and try again.`,
  tooLarge: (name: string, size: string, max: string) => `${name} is too large (${size}); the limit is ${max} per file.`,
  wrongType: (name: string, types: string) => `${name} is not a type this tool takes (${types}).`,
  resultsHeading: "Results",
  historyLink: "All jobs you ran in this browser",
};

export const batchText = {
  heading: (tool: string, n: number) => `${tool}: ${plural(n, "file", "files")}`,
  uploading: (percent: number) => `Uploading… ${percent}%`,
  uploadLabel: "Uploading the batch",
  uploadFailed: "The upload failed.",
  zip: "Download all as ZIP",
  dismiss: "Dismiss",
};

export const jobText = {
  status: {
    waiting: "Waiting to upload",
    queued: "Queued",
    running: "Processing",
    succeeded: "Done",
    failed: "Failed",
    expired: "Files deleted",
  } as Record<string, string>,
  progressLabel: (name: string) => `Progress of ${name}`,
  expected: (seconds: number) => `Expected time: about ${formatEstimate(seconds)}`,
  download: "Download",
  downloadNamed: (name: string) => `Download ${name}`,
  outputs: "Results",
  report: "Report",
  original: "Original",
  result: "Result",
  deletesIn: (text: string) => `Deleted from the server ${text}`,
  watchFailed: "Lost contact with the server; the job may still finish. See the history page.",
};

export const compareText = {
  label: "Compare the original with the result",
  valueText: (percent: number) => `${percent}% result, ${100 - percent}% original`,
  before: "Original",
  after: "Result",
  beforeAlt: (name: string) => `Original of ${name}`,
  afterAlt: (name: string) => `Result for ${name}`,
  change: (percent: number) => (percent <= 0 ? `${-percent}% smaller` : `${percent}% larger`),
};

export const historyText = {
  title: "Tool history",
  intro: "The jobs you ran in this browser. The list is kept only here; the server keeps no link between them and you.",
  empty: "No jobs yet. Pick a tool to start one.",
  toolsLink: "Go to the tools",
  loading: "Checking…",
  created: "Started",
  timeLeft: (text: string) => `Files deleted ${text}`,
  filesGone: "The files were deleted from the server.",
  delete: "Delete now",
  confirmDelete: "Yes, delete",
  cancel: "Cancel",
  deleting: "Deleting…",
  deleteLabel: (name: string) => `Delete ${name} from the server`,
  forget: "Remove from list",
  forgetLabel: (name: string) => `Remove ${name} from this list`,
  deleted: "Job deleted from the server.",
  forgotten: "Removed from the list.",
  loadFailed: "Could not reach the server for this job.",
};

export const urlUpload = {
  label: "Image address (URL)",
  button: "Upload from URL",
  hint: "The server fetches the image itself, from public addresses only.",
  invalid: "Enter a full address starting with http:// or https://.",
  fetching: "Fetching the image and removing metadata…",
};

/** Names for the params of the tools' JSON Schemas; unknown ones are spelled out from their key. */
export const paramLabels: Record<string, string> = {
  format: "Output format",
  quality: "Quality",
  lossless: "Lossless",
  effort: "Encoder effort",
  chromaSubsampling: "Chroma subsampling",
  mozjpeg: "Use mozjpeg (smaller JPEG, slower)",
  background: "Background colour",
  targetKB: "Target size (KB)",
  minQuality: "Lowest quality allowed",
  width: "Width (pixels)",
  height: "Height (pixels)",
  percent: "Scale (%)",
  preset: "Social media size",
  fit: "Fit",
  withoutEnlargement: "Never enlarge",
  rect: "Rectangle to keep",
  x: "Left (x)",
  y: "Top (y)",
  aspect: "Aspect ratio (W:H)",
  position: "Placement",
  rotate: "Rotate clockwise",
  flip: "Flip top to bottom",
  flop: "Mirror left to right",
  pages: "Pages",
  dpi: "Resolution (DPI)",
};

export const formText = {
  automatic: "Automatic",
  auto: "Auto",
  reset: "Reset",
  resetLabel: (label: string) => `Reset ${label} to automatic`,
  degrees: (n: number) => `${n}°`,
  preset: (label: string, width: number, height: number) => `${label} (${width} × ${height})`,
  modeLegend: "How",
  sliderLabel: (label: string) => `${label} slider`,
};

function formatEstimate(seconds: number): string {
  if (seconds < 1) return "1 second";
  if (seconds < 90) return plural(Math.round(seconds), "second", "seconds");
  return plural(Math.round(seconds / 60), "minute", "minutes");
}
