import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A Markdown table of a docs page: its header cells and its rows' cells. */
export interface MarkdownTable {
  header: string[];
  rows: string[][];
}

/** The absolute path of a file of the repository (`docs/errors.md`). */
export function repoFile(path: string): string {
  return fileURLToPath(new URL(`../../${path}`, import.meta.url));
}

/** The text of a docs page; fails the test, naming it, when it does not exist. */
export function readPage(path: string): string {
  const file = repoFile(path);
  if (!existsSync(file)) throw new Error(`${path} does not exist`);
  return readFileSync(file, 'utf8');
}

/** Splits a table row into its cells, keeping escaped pipes (`\|`) inside a cell. */
function cellsOf(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

/** Every table of a Markdown text, in order. */
export function tablesOf(markdown: string): MarkdownTable[] {
  const tables: MarkdownTable[] = [];
  let lines: string[] = [];
  const flush = () => {
    if (lines.length >= 2 && /^\|[\s:|-]+\|$/.test(lines[1].trim())) {
      tables.push({ header: cellsOf(lines[0]), rows: lines.slice(2).map(cellsOf) });
    }
    lines = [];
  };
  for (const line of markdown.split('\n')) {
    if (line.trim().startsWith('|')) lines.push(line);
    else flush();
  }
  flush();
  return tables;
}

/** The names a cell gives in backticks: "`a`, `b`" is ['a', 'b']. */
export function codeNames(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map(([, name]) => name);
}
