import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { codeNames, readPage, repoFile, tablesOf } from './markdown-tables.js';

// Every option users can pass is documented, with its default, on the page of
// its concern. Names and defaults come from the option interfaces themselves
// (their properties and `@default` JSDoc tags), read with the TypeScript
// compiler API: adding an option without documenting it fails here.

const SOURCE = repoFile('libs/production-readiness/src');

interface Documented {
  /** The source file, relative to libs/production-readiness/src. */
  file: string;
  /** The exported interface. */
  name: string;
  /** The docs page holding its table. */
  page: string;
  /** The table: its first header cell names this in backticks. */
  table: string;
  /** What its properties are called in that table (`retry.` for RetryOptions). */
  prefix?: string;
}

const DOCUMENTED: Documented[] = [
  {
    file: 'production-readiness.options.ts',
    name: 'ProductionReadinessConcernOptions',
    page: 'docs/using-the-library.md',
    table: 'ProductionReadinessOptions',
  },
  {
    file: 'production-readiness.options.ts',
    name: 'ProductionReadinessExtras',
    page: 'docs/using-the-library.md',
    table: 'ProductionReadinessOptions',
  },
  {
    file: 'bootstrap/service-app.ts',
    name: 'ServiceAppOptions',
    page: 'docs/using-the-library.md',
    table: 'ServiceAppOptions',
  },
  {
    file: 'config/service-config.options.ts',
    name: 'ServiceConfigOptions',
    page: 'docs/configuration.md',
    table: 'ServiceConfigOptions',
  },
  { file: 'http/http.options.ts', name: 'HttpOptions', page: 'docs/http.md', table: 'HttpOptions' },
  {
    file: 'http/server-limits.ts',
    name: 'ServerLimitsOptions',
    page: 'docs/http.md',
    table: 'HttpOptions',
  },
  {
    file: 'logging/logging.options.ts',
    name: 'LoggingOptions',
    page: 'docs/logging.md',
    table: 'LoggingOptions',
  },
  {
    file: 'errors/errors.options.ts',
    name: 'ErrorsOptions',
    page: 'docs/errors.md',
    table: 'ErrorsOptions',
  },
  {
    file: 'health/health.options.ts',
    name: 'HealthOptions',
    page: 'docs/health.md',
    table: 'HealthOptions',
  },
  {
    file: 'health/health.options.ts',
    name: 'DependencyCheck',
    page: 'docs/health.md',
    table: 'HealthOptions',
    prefix: 'checks[].',
  },
  {
    file: 'health/health.options.ts',
    name: 'HttpDependency',
    page: 'docs/health.md',
    table: 'HealthOptions',
    prefix: 'httpDependencies[].',
  },
  {
    file: 'health/health.options.ts',
    name: 'HealthPaths',
    page: 'docs/health.md',
    table: 'HealthPaths',
  },
  {
    file: 'metrics/metrics.options.ts',
    name: 'MetricsOptions',
    page: 'docs/metrics.md',
    table: 'MetricsOptions',
  },
  {
    file: 'security/security.options.ts',
    name: 'SecurityOptions',
    page: 'docs/security.md',
    table: 'SecurityOptions',
  },
  {
    file: 'security/security.options.ts',
    name: 'CorsOptions',
    page: 'docs/security.md',
    table: 'SecurityOptions',
    prefix: 'cors.',
  },
  {
    file: 'security/security.options.ts',
    name: 'SecurityHeadersOptions',
    page: 'docs/security.md',
    table: 'SecurityOptions',
    prefix: 'headers.',
  },
  {
    file: 'security/security.options.ts',
    name: 'HstsOptions',
    page: 'docs/security.md',
    table: 'SecurityOptions',
    prefix: 'headers.hsts.',
  },
  {
    file: 'shutdown/shutdown.options.ts',
    name: 'ShutdownOptions',
    page: 'docs/shutdown.md',
    table: 'ShutdownOptions',
  },
  {
    file: 'overload/overload.options.ts',
    name: 'OverloadOptions',
    page: 'docs/overload.md',
    table: 'OverloadOptions',
  },
  {
    file: 'messaging/messaging.options.ts',
    name: 'MessagingOptions',
    page: 'docs/messaging.md',
    table: 'MessagingOptions',
  },
  {
    file: 'resilience/resilience.options.ts',
    name: 'ResilienceOptions',
    page: 'docs/resilience.md',
    table: 'ResilienceOptions',
  },
  {
    file: 'resilience/resilience.options.ts',
    name: 'ResiliencePolicyOptions',
    page: 'docs/resilience.md',
    table: 'ResiliencePolicyOptions',
  },
  {
    file: 'resilience/resilience.options.ts',
    name: 'RetryOptions',
    page: 'docs/resilience.md',
    table: 'ResiliencePolicyOptions',
    prefix: 'retry.',
  },
  {
    file: 'resilience/resilience.options.ts',
    name: 'CircuitBreakerOptions',
    page: 'docs/resilience.md',
    table: 'ResiliencePolicyOptions',
    prefix: 'circuitBreaker.',
  },
  {
    file: 'resilience/resilience.options.ts',
    name: 'BulkheadOptions',
    page: 'docs/resilience.md',
    table: 'ResiliencePolicyOptions',
    prefix: 'bulkhead.',
  },
  {
    file: 'http-client/http-client.options.ts',
    name: 'HttpClientOptions',
    page: 'docs/resilience.md',
    table: 'HttpClientOptions',
  },
  {
    file: 'http-client/http-client.options.ts',
    name: 'HttpOriginOptions',
    page: 'docs/resilience.md',
    table: 'HttpOriginOptions',
  },
];

interface Property {
  name: string;
  /** The `@default` tag's text; undefined when the property has none (a required field). */
  default?: string;
}

function sourceFile(file: string): ts.SourceFile {
  const path = join(SOURCE, file);
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
}

function isExported(node: ts.Node): boolean {
  return (
    ts.canHaveModifiers(node) &&
    (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

function exportedInterfaces(source: ts.SourceFile): ts.InterfaceDeclaration[] {
  return source.statements.filter(
    (node): node is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(node) && isExported(node),
  );
}

/** The properties an interface declares, with their `@default` tags. */
function propertiesOf(file: string, name: string): Property[] {
  const declaration = exportedInterfaces(sourceFile(file)).find((node) => node.name.text === name);
  if (!declaration) throw new Error(`${file} exports no interface ${name}`);
  return declaration.members.flatMap((member) => {
    if (!member.name || !ts.isIdentifier(member.name)) return [];
    const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === 'default');
    const text = tag ? (ts.getTextOfJSDocComment(tag.comment) ?? '').trim() : undefined;
    return [{ name: member.name.text, default: text }];
  });
}

/** Every `*.options.ts` file of the library, relative to its src. */
function optionFiles(dir = SOURCE): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return optionFiles(path);
    return entry.name.endsWith('.options.ts') ? [relative(SOURCE, path)] : [];
  });
}

/** The rows of the table a page heads with `` `name` ``, by the names in their first cell. */
function optionRows(page: string, table: string): Map<string, string> {
  const found = tablesOf(readPage(page)).filter((t) =>
    codeNames(t.header[0] ?? '').includes(table),
  );
  if (found.length === 0) throw new Error(`${page} has no table headed \`${table}\``);
  const rows = new Map<string, string>();
  for (const { rows: cells } of found) {
    for (const row of cells) for (const name of codeNames(row[0])) rows.set(name, row[1] ?? '');
  }
  return rows;
}

const normalize = (text: string) => text.replace(/[`\s]/g, '');

/** The literal a `@default` starts with (`1000`, `'auto'`, `[...]`), or its first word. */
function leadingValue(text: string): { literal: boolean; value: string } {
  const open = text[0];
  if (open === "'" || open === '"') {
    const end = text.indexOf(open, 1);
    return { literal: true, value: text.slice(0, end + 1) };
  }
  if (open === '[' || open === '{') {
    const close = open === '[' ? ']' : '}';
    let depth = 0;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === open) depth++;
      if (text[i] === close && --depth === 0) return { literal: true, value: text.slice(0, i + 1) };
    }
  }
  const number = /^-?\d[\d.]*/.exec(text);
  if (number) return { literal: true, value: number[0] };
  const word = /^(true|false|null)\b/.exec(text);
  if (word) return { literal: true, value: word[0] };
  return { literal: false, value: /^[\w.$]+/.exec(text)?.[0] ?? text };
}

const LITERAL_START = /^(-?\d|'|"|\[|\{|true\b|false\b)/;

/** Why a documented default does not say the code's, or undefined when it does. */
function defaultMismatch(code: string, documented: string): string | undefined {
  const doc = normalize(documented);
  if (/^undefined\b/.test(code)) {
    return LITERAL_START.test(doc) ? `the code has none, the docs say ${documented}` : undefined;
  }
  const { literal, value } = leadingValue(code);
  const expected = normalize(value);
  if (literal) {
    const matches = doc.startsWith(expected) && !/^[\w.]/.test(doc.slice(expected.length));
    return matches ? undefined : `the code says ${value}, the docs ${documented}`;
  }
  return doc.includes(expected) ? undefined : `the code says ${value}…, the docs ${documented}`;
}

describe('the option tables of docs/', () => {
  it('cover every exported options interface of the library', () => {
    const covered = new Set(DOCUMENTED.map(({ file, name }) => `${file}#${name}`));
    const missing = optionFiles().flatMap((file) =>
      exportedInterfaces(sourceFile(file))
        .map((node) => node.name.text)
        .filter((name) => !name.startsWith('Resolved') && !covered.has(`${file}#${name}`))
        .map((name) => `${file}#${name}`),
    );
    expect(missing, 'options interfaces no docs page documents').toEqual([]);
  });

  it.each(DOCUMENTED)('document every property of $name in $page', (entry) => {
    const rows = optionRows(entry.page, entry.table);
    const problems = propertiesOf(entry.file, entry.name).flatMap((property) => {
      const name = `${entry.prefix ?? ''}${property.name}`;
      const documented = rows.get(name);
      if (documented === undefined) return [`${name}: missing from the \`${entry.table}\` table`];
      if (property.default === undefined) return [];
      const mismatch = defaultMismatch(property.default, documented);
      return mismatch ? [`${name}: ${mismatch}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('document no option the code does not have', () => {
    const tables = new Map<string, { page: string; names: Set<string> }>();
    for (const entry of DOCUMENTED) {
      const key = `${entry.page}#${entry.table}`;
      const table = tables.get(key) ?? { page: entry.page, names: new Set<string>() };
      for (const property of propertiesOf(entry.file, entry.name)) {
        table.names.add(`${entry.prefix ?? ''}${property.name}`);
      }
      tables.set(key, table);
    }
    const unknown = [...tables].flatMap(([key, { page, names }]) =>
      [...optionRows(page, key.split('#')[1]).keys()]
        .filter((name) => !names.has(name))
        .map((name) => `${key}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });
});
