import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_DIR, RULES_FILE, requireTool, run } from './deploy-files.js';

// Debian's promtool (package prometheus) checks the files Prometheus loads in
// docker/compose.yaml, and runs the alerts' unit tests.
describe('Prometheus configuration and rules (promtool)', () => {
  let promtool: string;

  beforeAll(async () => {
    promtool = await requireTool('promtool');
  });

  it('accepts the scrape configuration and the rule files it names', async () => {
    const result = await run(promtool, ['check', 'config', 'prometheus.yml'], {
      cwd: join(DOCKER_DIR, 'prometheus'),
    });
    expect(result.stdout + result.stderr).toContain('SUCCESS: prometheus.yml is valid');
    expect(result.code).toBe(0);
  });

  it('accepts the recording and alerting rules', async () => {
    const result = await run(promtool, ['check', 'rules', RULES_FILE]);
    expect(result.stdout + result.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code).toBe(0);
  });

  it('passes the unit tests of the alerts', async () => {
    const result = await run(promtool, [
      'test',
      'rules',
      join(DOCKER_DIR, 'prometheus/tests/essay-service.rules.test.yml'),
    ]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('names every alert the issue asks for, each covered by a unit test', async () => {
    const { readFileSync } = await import('node:fs');
    const rules = readFileSync(RULES_FILE, 'utf8');
    const tests = readFileSync(
      join(DOCKER_DIR, 'prometheus/tests/essay-service.rules.test.yml'),
      'utf8',
    );
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((match) => match[1]);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'HighErrorRate',
        'LatencySLOBurn',
        'CircuitBreakerOpen',
        'ReadinessFlapping',
        'MetricLabelValuesDropped',
        'DatabasePoolSaturated',
        'EventLoopLagHigh',
      ]),
    );
    for (const alert of alerts) expect(tests).toContain(`alertname: ${alert}`);
  });

  it('fails a rule file that does not parse (the check is real)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'rules-')), 'broken.yml');
    writeFileSync(
      file,
      'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n',
    );
    const result = await run(promtool, ['check', 'rules', file]);
    expect(result.code).not.toBe(0);
  });
});
