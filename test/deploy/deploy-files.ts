import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DOCKER_DIR = join(REPO_ROOT, 'docker');
export const DEPLOY_CHECK = join(REPO_ROOT, 'scripts/deploy-check.mjs');
export const RULES_FILE = join(DOCKER_DIR, 'prometheus/rules/essay-service.rules.yml');
export const DASHBOARD_FILE = join(DOCKER_DIR, 'grafana/dashboards/essay-service.json');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is a result, not an exception. */
export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 30_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/**
 * The path of a tool the deployment tests need (promtool, prometheus from
 * Debian's prometheus package). Missing, the test fails, never skips:
 * `.ci/run` installs the package.
 */
export async function requireTool(name: 'promtool' | 'prometheus'): Promise<string> {
  const found = await run('sh', ['-c', `command -v ${name}`]);
  if (found.code !== 0 || !found.stdout.trim()) {
    throw new Error(
      `${name} is not installed: the deployment tests need it. Install Debian's prometheus ` +
        'package (apt-get install -y prometheus), as .ci/run does.',
    );
  }
  return found.stdout.trim();
}

// PromQL words that are not metric names.
const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: the identifiers that are not
 * functions, keywords, label names in matchers or groupings, durations, or
 * Grafana variables.
 */
export function metricNamesIn(expression: string): string[] {
  const cleaned = expression
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = new Set<string>();
  for (const match of cleaned.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const rest = cleaned.slice(match.index + match[0].length).trimStart();
    if (rest.startsWith('(') || PROMQL_KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/**
 * The metric names an exposition in the Prometheus text format declares
 * (`# TYPE`, with a histogram's `_bucket`/`_count`/`_sum`) or has samples of:
 * a family with no series yet (no breaker opened, no label dropped) is still exported.
 */
export function exportedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram')
        for (const suffix of ['_bucket', '_count', '_sum']) names.add(name + suffix);
      if (kind === 'summary') for (const suffix of ['_count', '_sum']) names.add(name + suffix);
    } else if (line && !line.startsWith('#')) {
      names.add(line.split(/[{ ]/)[0]);
    }
  }
  return names;
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
