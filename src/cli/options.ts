/** The options every tool command takes besides the tool's own parameters. */
export const CLI_OPTIONS_HELP = [
  "  -o, --output DIR      folder for the outputs (created if missing); default: the current folder.",
  "                        An existing file is never replaced: photo.webp becomes photo-2.webp.",
  "  --json                print one JSON document with every file's result on stdout",
  "  --concurrency N       files processed at once (default: the number of CPU cores)",
  "  -h, --help            this help",
].join("\n");
