import fs from "node:fs/promises";
import { availableParallelism } from "node:os";
import path from "node:path";
import { AppError } from "../common/errors.js";
import { Semaphore } from "../common/semaphore.js";
import { TOOL_SPECS, type ToolLimits, type ToolName, effectiveLimits, isToolName, toolCatalogue } from "../common/tools/index.js";
import { loadConfig } from "../config.js";
import { cancelledError } from "../tools/runner.js";
import { runsOnServer } from "../tools/registry.js";
import { type ToolArgs, UsageError, parseToolArgs } from "./args.js";
import { toolHelp, toolsTable } from "./help.js";
import { exitCodeFor, handleInterrupts } from "./interrupt.js";
import { openLocalRunner } from "./local-runner.js";
import { type CliParam, cliParams, kebab } from "./params.js";
import { Progress } from "./progress.js";
import { type FileResult, describeResult, failed, succeeded } from "./results.js";

/** The lines `pixhaven --help` gives the tool commands. */
export const TOOL_COMMANDS_USAGE = `  tools [TOOL] [--json]
            list the image tools, or show one tool's parameters and examples
  <tool> FILES... [--param value ...] [-o DIR] [--json] [--concurrency N]
            run a tool on files on this machine, without a server or database:
            ${Object.keys(TOOL_SPECS).join(", ")}
            (pixhaven <tool> --help for its parameters)`;

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Runs `tools` or a tool's command; undefined when `command` is neither. */
export function toolCommand(command: string, args: string[]): Promise<number> | undefined {
  if (command === "tools") return withUsageErrors(command, () => catalogueCommand(args));
  if (isToolName(command)) return withUsageErrors(command, () => runToolCommand(command, args));
  return undefined;
}

async function withUsageErrors(command: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pixhaven ${command}: ${err.message}\n`);
    return EXIT_USAGE;
  }
}

async function catalogueCommand(args: string[]): Promise<number> {
  const json = args.includes("--json");
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write("Usage: pixhaven tools [TOOL] [--json]\n");
    return 0;
  }
  const rest = args.filter((a) => a !== "--json");
  const unknown = rest.find((a) => a.startsWith("-"));
  if (unknown) throw new UsageError(`Unknown option ${unknown}.`);
  if (rest.length > 1) throw new UsageError("Give at most one tool name.");
  const catalogue = toolCatalogue(limitsHere());
  if (rest.length === 0) {
    process.stdout.write(json ? `${JSON.stringify(catalogue, null, 2)}\n` : `${toolsTable()}\n`);
    return 0;
  }
  const tool = catalogue.find((t) => t.name === rest[0]);
  if (!tool) throw new UsageError(`There is no tool named ${JSON.stringify(rest[0])}; pixhaven tools lists them.`);
  process.stdout.write(json ? `${JSON.stringify(tool, null, 2)}\n` : `${toolHelp(tool)}\n`);
  return 0;
}

/** The limits this machine's settings give (RESTORE_MAX_PIXELS...), as a run here applies them; the specs' own when the settings do not parse (a run says why). */
function limitsHere(): (name: ToolName, own: ToolLimits) => ToolLimits {
  try {
    const config = loadConfig();
    return (name, own) => effectiveLimits(own, config.toolLimits[name], config.maxPixels);
  } catch {
    return (_name, own) => own;
  }
}

async function runToolCommand(name: ToolName, argv: string[]): Promise<number> {
  const tool = toolCatalogue(limitsHere()).find((t) => t.name === name)!;
  const params = cliParams(tool.params);
  const args = parseToolArgs(argv, params, name);
  if (args.help) {
    process.stdout.write(`${toolHelp(tool)}\n`);
    return 0;
  }
  if (!runsOnServer(name)) throw new UsageError(`${name} runs only in the browser.`);
  if (args.files.length === 0) throw new UsageError(`No input files. Usage: pixhaven ${name} FILES... [options]; see pixhaven ${name} --help.`);
  const problems = paramProblems(name, args.params, params);
  if (problems.length > 0) throw new UsageError(`invalid parameters:\n  ${problems.join("\n  ")}\nSee pixhaven ${name} --help.`);
  return runFiles(name, args);
}

/** Every problem the tool's schema finds, each named by its flag; checked before any file is read. */
function paramProblems(name: ToolName, raw: Record<string, unknown>, params: CliParam[]): string[] {
  const parsed = TOOL_SPECS[name].params.safeParse(raw);
  if (parsed.success) return [];
  const flags = new Map(params.map((p) => [p.path.join("."), p.flag]));
  return parsed.error.issues.map((issue) => {
    const where = issue.path.map(String).join(".");
    return `${where ? `--${flags.get(where) ?? where.split(".").map(kebab).join(".")}` : "parameters"}: ${issue.message}`;
  });
}

async function runFiles(name: ToolName, args: ToolArgs): Promise<number> {
  const config = loadConfig();
  const outputDir = path.resolve(args.outputDir ?? ".");
  const concurrency = Math.min(args.concurrency ?? availableParallelism(), args.files.length);
  const local = openLocalRunner(config, concurrency);
  const progress = new Progress(process.stderr, args.files.length);
  const controller = new AbortController();
  const interrupt = handleInterrupts(controller, local.removeNow, (line) => progress.print(() => process.stderr.write(`${line}\n`)));

  const slots = new Semaphore(concurrency);
  const runOne = async (file: string, index: number): Promise<FileResult> => {
    progress.start(index, file);
    try {
      if (controller.signal.aborted) throw cancelledError();
      await checkInput(file);
      const result = succeeded(
        file,
        await local.runner.run({
          tool: name,
          input: { path: file, name: path.basename(file) },
          params: args.params,
          outputDir,
          signal: controller.signal,
          onProgress: (fraction) => progress.update(index, fraction),
        }),
      );
      progress.end(index, "done");
      if (!args.json) progress.print(() => process.stdout.write(describeResult(result).map((l) => `${l}\n`).join("")));
      return result;
    } catch (err) {
      const result = failed(file, err);
      progress.end(index, `failed (${result.error!.code})`);
      progress.print(() => process.stderr.write(`error: ${file}: ${result.error!.message} (${result.error!.code})\n`));
      return result;
    }
  };

  let results: FileResult[];
  try {
    results = await Promise.all(args.files.map((file, index) => slots.run(() => runOne(file, index))));
  } finally {
    interrupt.dispose();
    await local.close();
  }
  const failures = results.filter((r) => !r.ok).length;
  progress.close(`${results.length} file(s): ${results.length - failures} done, ${failures} failed`);
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (interrupt.signal) return exitCodeFor(interrupt.signal);
  return failures > 0 ? EXIT_FAILED : 0;
}

/** A missing file or a folder is that file's failure, said plainly, not the batch's. */
async function checkInput(file: string): Promise<void> {
  const stat = await fs.stat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") throw new AppError("not_found", 404, "No such file.");
    if (err.code === "EACCES") throw new AppError("forbidden", 403, "The file cannot be read (permission denied).");
    throw err;
  });
  if (!stat.isFile()) throw new AppError("not_a_file", 400, "This is not a regular file.");
}
