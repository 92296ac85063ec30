import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller, Get } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, MetricsRegistry } from 'nestjs-production-readiness';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoomController } from '../support/boom.controller.js';
import {
  startCapturedEssayService,
  type CapturedEssayService,
} from '../support/captured-essay-service.js';
import { sampleValue } from '../support/exposition.js';

const run = promisify(execFile);

// Names the lint dislikes but that are not ours to change: prom-client's
// default Node.js gauges, and the standards document's active_batches_count.
const ACCEPTED_LINT_FINDINGS = [
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/,
  /^active_batches_count non-histogram and non-summary metrics should not have "_count" suffix$/,
];

/** A user's own metric, declared the @willsoto/nestjs-prometheus way. */
@Controller('user-metric')
class UserMetricController {
  constructor(@InjectMetric('user_widgets_total') private readonly widgets: Counter<'colour'>) {}

  @Get()
  bump(): { ok: true } {
    this.widgets.inc({ colour: 'blue' });
    return { ok: true };
  }
}

/**
 * The exposition checked by Prometheus's own tools (Debian's prometheus
 * package; .ci/run installs it): `promtool check metrics` parses and lints the
 * text format; OpenMetrics goes through promtool's OpenMetrics block importer,
 * which needs a timestamp on every sample, so the test stamps them.
 */
describe('the exposition, read by promtool', () => {
  let service: CapturedEssayService;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'npr-promtool-'));
    service = await startCapturedEssayService({
      env: { SERVICE_NAME: 'promtool-e2e' },
      controllers: [BoomController, UserMetricController],
      providers: [
        makeCounterProvider({
          name: 'user_widgets_total',
          help: 'Widgets a user counted.',
          labelNames: ['colour'],
        }),
      ],
    });
    // Traffic of every kind, and label values that need escaping.
    await service.http.get('/user-metric').expect(200);
    await service.http.get('/boom').expect(500);
    await service.http.get('/nowhere').expect(404);
    await service.http.post('/essays').send({ title: 'A', text: 'B c.' }).expect(202);
    await service.http.get('/readyz').expect(200);
    service.app
      .get(MetricsRegistry)
      .counter({
        name: 'escaped_labels_total',
        help: 'Help with a \\ and\na newline.',
        labelNames: ['v'],
      })
      .inc({ v: 'quote " backslash \\ newline \n end' });
  });

  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('puts a user metric declared with @InjectMetric in the same exposition, with the service label', async () => {
    const { text } = await service.http.get('/metrics').expect(200);
    expect(sampleValue(text, 'user_widgets_total', { colour: 'blue' })).toBe(1);
    expect(text).toMatch(/^user_widgets_total\{colour="blue",service="promtool-e2e"\} 1$/m);
  });

  it('passes promtool check metrics in the text format', async () => {
    const { text } = await service.http.get('/metrics').expect(200);
    const file = join(dir, 'metrics.prom');
    writeFileSync(file, text);

    // Exit 1 is a parse error; 3 means lint findings only, printed one per line.
    const { code, output } = await run('sh', [
      '-c',
      `promtool check metrics < "${file}" 2>&1`,
    ]).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
    );

    expect([0, 3]).toContain(code);
    const findings = output.split('\n').filter(Boolean);
    expect(
      findings.filter(
        (finding) => !ACCEPTED_LINT_FINDINGS.some((accepted) => accepted.test(finding)),
      ),
    ).toEqual([]);
    expect(text).toContain('escaped_labels_total{v="quote \\" backslash \\\\ newline \\n end"');
  });

  it('is valid OpenMetrics for promtool, with counters named as OpenMetrics wants', async () => {
    const { text, headers } = await service.http
      .get('/metrics')
      .set('accept', 'application/openmetrics-text; version=1.0.0')
      .expect(200);
    expect(headers['content-type']).toMatch(/^application\/openmetrics-text/);
    const stamped = text
      .split('\n')
      .map((line) =>
        line && !line.startsWith('#')
          ? line.replace(/^([a-zA-Z_:][\w:]*(?:\{.*\})? \S+)/, '$1 1700000000')
          : line,
      )
      .join('\n');
    const file = join(dir, 'metrics.om');
    writeFileSync(file, stamped);

    const { stdout } = await run('promtool', [
      'tsdb',
      'create-blocks-from',
      'openmetrics',
      file,
      join(dir, 'blocks'),
    ]);

    const seriesLine = stdout.split('\n').find((line) => /^\w{26}\s/.test(line));
    expect(seriesLine).toBeDefined();
    // Every family is declared once; every counter sample ends in _total, under a family without it.
    const counterFamilies = [...text.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]);
    expect(counterFamilies).toContain('http_requests');
    expect(counterFamilies.filter((name) => name.endsWith('_total'))).toEqual([]);
    for (const family of counterFamilies) {
      const samples = text
        .split('\n')
        .filter((line) => line.startsWith(`${family}{`) || line.startsWith(`${family} `));
      expect(samples, family).toEqual([]);
    }
    expect(text.endsWith('# EOF\n')).toBe(true);
  });
});
