import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { BaseServiceConfig } from 'nestjs-production-readiness';
import { describe, expect, it } from 'vitest';
import { EssayServiceConfig } from '../../apps/essay-service/src/essay-service.config.js';
import { codeNames, readPage, repoFile, tablesOf } from './markdown-tables.js';

// The environment table of docs/configuration.md names every setting of the
// library's BaseServiceConfig and of the sample app's EssayServiceConfig, with
// the defaults an instance of each class really has: a setting added to
// either class without its row, or a default changed in one place only, fails.

const PAGE = 'docs/configuration.md';

/** The settings a config class declares: its properties, read from the source. */
function declaredSettings(file: string, className: string): string[] {
  const path = repoFile(file);
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest);
  const declaration = source.statements.find(
    (node): node is ts.ClassDeclaration =>
      ts.isClassDeclaration(node) && node.name?.text === className,
  );
  if (!declaration) throw new Error(`${file} declares no class ${className}`);
  return declaration.members.flatMap((member) =>
    ts.isPropertyDeclaration(member) && ts.isIdentifier(member.name) ? [member.name.text] : [],
  );
}

const BASE_SETTINGS = declaredSettings(
  'libs/production-readiness/src/config/base-service.config.ts',
  'BaseServiceConfig',
);
const SAMPLE_SETTINGS = [
  ...new Set([
    ...BASE_SETTINGS,
    ...declaredSettings('apps/essay-service/src/essay-service.config.ts', 'EssayServiceConfig'),
  ]),
];

/** The `package.json` in the working directory, where SERVICE_NAME and SERVICE_VERSION come from. */
const appPackage = JSON.parse(readFileSync('package.json', 'utf8')) as {
  name: string;
  version: string;
};

/** How the table writes a default: `3000`, `[]`, unset, package.json... */
function describeDefault(setting: string, value: unknown, fromPackage: string): string[] {
  if (value === undefined) return ['unset', 'see meaning'];
  if (
    (setting === 'SERVICE_NAME' && value === appPackage.name.replace(/^@[^/]+\//, '')) ||
    (setting === 'SERVICE_VERSION' && value === appPackage.version)
  ) {
    return [fromPackage];
  }
  if (Array.isArray(value)) return [`[${value.join(',')}]`];
  return [JSON.stringify(value).replace(/^"(.*)"$/, '$1')];
}

function documentedDefault(cell: string): string {
  return cell.replace(/`/g, '').trim();
}

interface Row {
  base: string;
  sample: string;
}

function environmentRows(): Map<string, Row> {
  const table = tablesOf(readPage(PAGE)).find((t) => t.header[0] === 'Variable');
  if (!table) throw new Error(`${PAGE} has no table headed "Variable"`);
  expect(table.header.slice(1, 3)).toEqual(['Base default', 'Sample app default']);
  const rows = new Map<string, Row>();
  for (const row of table.rows) {
    for (const name of codeNames(row[0])) {
      rows.set(name, { base: documentedDefault(row[1]), sample: documentedDefault(row[2]) });
    }
  }
  return rows;
}

/**
 * The settings whose unset value the table explains rather than shows: the
 * Kafka group (SERVICE_NAME's value) and the drain delay (0, or 5000 in Kubernetes).
 */
const EXPLAINED_WHEN_UNSET: Record<string, string> = {
  KAFKA_GROUP_ID: 'SERVICE_NAME',
  SHUTDOWN_DRAIN_DELAY_MS: 'see meaning',
};

function mismatch(setting: string, value: unknown, cell: string, fromPackage: string) {
  const accepted = describeDefault(setting, value, fromPackage);
  if (value === undefined && EXPLAINED_WHEN_UNSET[setting]) {
    accepted.push(EXPLAINED_WHEN_UNSET[setting]);
  }
  return accepted.includes(cell) ? undefined : `${cell} (the class: ${accepted.join(' or ')})`;
}

describe(`the environment table of ${PAGE}`, () => {
  const base = new BaseServiceConfig() as unknown as Record<string, unknown>;
  const sample = new EssayServiceConfig() as unknown as Record<string, unknown>;

  it('names every setting of BaseServiceConfig and EssayServiceConfig, and nothing else', () => {
    const documented = [...environmentRows().keys()];
    expect(
      SAMPLE_SETTINGS.filter((setting) => !documented.includes(setting)),
      'settings missing from the table',
    ).toEqual([]);
    expect(
      documented.filter((name) => !SAMPLE_SETTINGS.includes(name)),
      'rows naming no setting',
    ).toEqual([]);
  });

  it("gives BaseServiceConfig's defaults in the base column", () => {
    const rows = environmentRows();
    const wrong = SAMPLE_SETTINGS.flatMap((setting) => {
      const row = rows.get(setting);
      if (!row) return [];
      if (!BASE_SETTINGS.includes(setting)) {
        return row.base === '—' ? [] : [`${setting}: ${row.base}, but it is not a base setting`];
      }
      const problem = mismatch(setting, base[setting], row.base, 'package.json');
      return problem ? [`${setting}: ${problem}`] : [];
    });
    expect(wrong).toEqual([]);
  });

  it("gives EssayServiceConfig's defaults in the sample app column", () => {
    const rows = environmentRows();
    const wrong = SAMPLE_SETTINGS.flatMap((setting) => {
      const row = rows.get(setting);
      if (!row) return [];
      const problem = mismatch(setting, sample[setting], row.sample, 'version in package.json');
      return problem ? [`${setting}: ${problem}`] : [];
    });
    expect(wrong).toEqual([]);
  });
});
