import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogDestination, type LogDestination } from './log-destination.js';

const directory = mkdtempSync(join(tmpdir(), 'log-destination-'));
let fileNumber = 0;
const opened: LogDestination[] = [];

function newFile(): string {
  fileNumber += 1;
  return join(directory, `log-${fileNumber}.jsonl`);
}

function open(path: string, options?: Parameters<typeof createLogDestination>[1]) {
  const destination = createLogDestination(path, options);
  opened.push(destination);
  return destination;
}

const linesOf = (path: string): string[] => {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

const flushed = (destination: LogDestination) =>
  new Promise<void>((resolve, reject) =>
    destination.flush((error) => (error ? reject(error) : resolve())),
  );

afterEach(() => {
  for (const destination of opened.splice(0)) destination.end();
});

describe('createLogDestination()', () => {
  it('holds lines until the batch is full, then writes them in order', async () => {
    const path = newFile();
    const destination = open(path, { batchChars: 200, flushIntervalMs: 60_000 });
    const line = (n: number) => `${JSON.stringify({ n, pad: 'x'.repeat(40) })}\n`;
    destination.write(line(1));
    destination.write(line(2));
    expect(destination.pendingLength).toBe(line(1).length + line(2).length);
    await sleep(100);
    expect(linesOf(path)).toEqual([]);

    destination.write(line(3));
    destination.write(line(4)); // past 200 characters: handed to the writer
    expect(destination.pendingLength).toBe(0);
    await flushed(destination);
    expect(linesOf(path).map((text) => (JSON.parse(text) as { n: number }).n)).toEqual([
      1, 2, 3, 4,
    ]);
  });

  it('writes a partial batch within the flush interval', async () => {
    const path = newFile();
    const destination = open(path, { flushIntervalMs: 50 });
    destination.write('{"msg":"alone"}\n');
    const deadline = Date.now() + 2_000;
    while (linesOf(path).length === 0 && Date.now() < deadline) await sleep(20);
    expect(linesOf(path)).toEqual(['{"msg":"alone"}']);
  });

  it('calls flush() back once every line written so far is in the file', async () => {
    const path = newFile();
    const destination = open(path);
    const written = Array.from({ length: 5_000 }, (_, n) => `{"n":${n},"text":"é ✓ 🚀"}`);
    for (const text of written) destination.write(`${text}\n`);
    await flushed(destination);
    expect(linesOf(path)).toEqual(written);
  });

  it('stops watching for the exit once ended: many destinations leak no listener', () => {
    const before = process.listenerCount('exit');
    for (let n = 0; n < 20; n++) createLogDestination(newFile()).end();
    expect(process.listenerCount('exit')).toBe(before);
  });
});
