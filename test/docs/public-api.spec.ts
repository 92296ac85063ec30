import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { codeNames, readPage, repoFile, tablesOf } from './markdown-tables.js';

// The public API is what docs/api.md lists: one table per package entry, one
// row per export. The exports are read from the entry files with the
// TypeScript compiler API, so an export added, removed or renamed without the
// page changing fails here, and so does a row for something not exported.

const ENTRIES = [
  { name: 'nestjs-production-readiness', file: 'libs/production-readiness/src/index.ts' },
  {
    name: 'nestjs-production-readiness/messaging',
    file: 'libs/production-readiness/src/messaging/microservices.ts',
  },
];

interface Export {
  name: string;
  /** Only a type: erased from the JavaScript output. */
  typeOnly: boolean;
}

function exportsOf(files: string[]): Map<string, Export[]> {
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, Export[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`${file} is not part of the program`);
    const module = checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${file} is not a module`);
    result.set(
      file,
      checker.getExportsOfModule(module).map((symbol) => {
        const target =
          symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return { name: symbol.name, typeOnly: (target.flags & ts.SymbolFlags.Value) === 0 };
      }),
    );
  }
  return result;
}

const page = readPage('docs/api.md');
const exported = exportsOf(ENTRIES.map((entry) => repoFile(entry.file)));

describe('docs/api.md', () => {
  it.each(ENTRIES)('lists every export of $name, and nothing else', ({ name, file }) => {
    const table = tablesOf(page).find((candidate) => codeNames(candidate.header[0])[0] === name);
    expect(table, `a table whose first header cell is \`${name}\``).toBeDefined();
    const documented = table!.rows.map((row) => ({
      name: codeNames(row[0])[0],
      typeOnly: row[1] === 'type',
      described: (row[2] ?? '').length > 0,
    }));
    expect(documented.filter((row) => !row.described).map((row) => row.name)).toEqual([]);
    const actual = exported
      .get(repoFile(file))!
      .map(({ name: exportName, typeOnly }) => ({ name: exportName, typeOnly }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(
      documented
        .map(({ name: rowName, typeOnly }) => ({ name: rowName, typeOnly }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(actual);
  });
});
