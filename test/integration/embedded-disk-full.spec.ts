import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEssayService,
  submitEssay,
  waitForProcessed,
  type RunningEssayService,
} from '../support/essay-service.js';

const ESSAY = { title: 'Cats', text: 'The cat sat on the mat. It was happy!' };

/** Writes zeros into `path` until the file system says it is full. */
function fillDisk(path: string): void {
  const chunk = Buffer.alloc(64 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

// A real full disk: a 2 MiB tmpfs of the test's own (the machine's tests run as root).
describe('the embedded database on a full disk', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'npr-disk-full-'));
  const filler = join(mountPoint, 'filler');
  let service: RunningEssayService;

  beforeAll(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mountPoint]);
    service = await startEssayService({
      env: { DATABASE_URL: `sqlite:${join(mountPoint, 'essays.sqlite')}` },
    });
  });

  afterAll(async () => {
    await service?.close();
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while the disk is full, and accepts again once there is room', async () => {
    // Processed, so no save of the file is under way when the disk fills up.
    await waitForProcessed(service.http, await submitEssay(service.http, ESSAY));
    fillDisk(filler);
    try {
      // The journal's last page may still have room for a few essays: those are stored.
      let refused = await service.http.post('/essays').send(ESSAY);
      for (let sent = 1; refused.status === 202 && sent < 200; sent++) {
        refused = await service.http.post('/essays').send(ESSAY);
      }
      expect(refused.status).toBe(503);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(refused.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', instance: '/essays' });
      expect(refused.text).not.toMatch(/ENOSPC|sqlite|\/tmp/);
    } finally {
      rmSync(filler, { force: true });
    }
    expect((await service.http.post('/essays').send(ESSAY)).status).toBe(202);
  });
});
