import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readPage, repoFile } from './markdown-tables.js';

// The README's project layout names every folder of the library, and every
// page under docs/ is linked from the README: a folder or a page added
// without them fails here.

const folders = readdirSync(repoFile('libs/production-readiness/src'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('README.md', () => {
  const readme = readPage('README.md');

  it('lists every folder of libs/production-readiness/src in its project layout', () => {
    const layout = /## Project layout\n+```\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';
    const listed = new Set([...layout.matchAll(/^ {2}([\w-]+)\/\s/gm)].map(([, name]) => name));
    expect(folders.filter((folder) => !listed.has(folder))).toEqual([]);
  });

  it('links every page of docs/', () => {
    const pages = readdirSync(repoFile('docs')).filter((name) => name.endsWith('.md'));
    expect(pages.filter((page) => !readme.includes(`](docs/${page}`))).toEqual([]);
  });
});
