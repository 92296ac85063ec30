import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  ensureBuilt,
  spawnEssayService,
  type EssayServiceProcess,
} from '../support/essay-service-process.js';
import { freePort } from '../support/free-port.js';
import { waitFor } from '../support/wait-for.js';
import { DOCKER_DIR, readText, requireTool, RULES_FILE } from './deploy-files.js';

interface ScrapeConfig {
  job_name: string;
  scrape_interval?: string;
  static_configs: { targets: string[] }[];
}
interface PrometheusConfig {
  global: Record<string, unknown>;
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}
interface ApiResponse<T> {
  status: string;
  data: T;
}
interface Target {
  labels: { job: string };
  health: string;
  lastError: string;
}
interface LoadedRule {
  name: string;
  query: string;
  health: string;
  type: 'recording' | 'alerting';
}
interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

// Debian's Prometheus server, on a free port with a throwaway storage dir, runs
// docker/prometheus/prometheus.yml with the scrape target pointed at the built
// app and the intervals shortened, and loads the real rule files.
describe('a real Prometheus scraping the built app', () => {
  let service: EssayServiceProcess;
  let prometheus: ChildProcess | undefined;
  let prometheusOutput = '';
  let workDir: string;
  let api: string;

  async function get<T>(path: string): Promise<T> {
    const response = await fetch(`${api}${path}`);
    const body = (await response.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
    return body.data;
  }

  const query = (expression: string) =>
    get<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(expression)}`);

  beforeAll(async () => {
    const binary = await requireTool('prometheus');
    await ensureBuilt();
    service = await spawnEssayService();
    const appAddress = new URL(service.baseUrl).host;

    const config = parse(
      readText(join(DOCKER_DIR, 'prometheus/prometheus.yml')),
    ) as PrometheusConfig;
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'essay-service');
    if (!job) throw new Error('prometheus.yml has no essay-service job');
    job.static_configs = [{ targets: [appAddress] }];
    config.scrape_configs = [job];
    config.global = {
      ...config.global,
      scrape_interval: '1s',
      evaluation_interval: '1s',
      scrape_timeout: '1s',
    };
    config.rule_files = [RULES_FILE];
    workDir = mkdtempSync(join(tmpdir(), 'prometheus-'));
    writeFileSync(join(workDir, 'prometheus.yml'), stringify(config));

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      binary,
      [
        `--config.file=${join(workDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      prometheusOutput = (prometheusOutput + chunk.toString()).slice(-20_000);
    };
    prometheus.stdout?.on('data', keep);
    prometheus.stderr?.on('data', keep);
    await waitFor(async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined), 20_000, {
      description: `Prometheus ready on ${api}`,
      intervalMs: 200,
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n--- prometheus output ---\n${prometheusOutput}`);
    });

    // Traffic for the RED series: an accepted essay, a read, a 404.
    const created = await service.http
      .post('/essays')
      .send({ title: 'Scraped', text: 'The cat sat on the mat. It was happy.', language: 'en' })
      .expect(202);
    await service.http.get(`/essays/${(created.body as { id: string }).id}`).expect(200);
    await service.http.get('/no/such/route').expect(404);
    await service.http.get('/readyz').expect(200);
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await service?.kill();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('reports the app as an up target', async () => {
    const target = await waitFor(
      async () => {
        const { activeTargets } = await get<{ activeTargets: Target[] }>('/api/v1/targets');
        const found = activeTargets.find((candidate) => candidate.labels.job === 'essay-service');
        return found?.health === 'up' ? found : undefined;
      },
      20_000,
      { description: 'the essay-service target up', intervalMs: 250 },
    );
    expect(target).toMatchObject({ health: 'up', lastError: '' });
    const up = await query('up{job="essay-service"}');
    expect(up.result.map((sample) => sample.value[1])).toEqual(['1']);
  });

  it('loads every rule of the rule file, and evaluates them without error', async () => {
    const fileRules = (
      parse(readText(RULES_FILE)) as { groups: { rules: unknown[] }[] }
    ).groups.flatMap((group) => group.rules);
    const rules = await waitFor(
      async () => {
        const { groups } = await get<{ groups: { rules: LoadedRule[] }[] }>('/api/v1/rules');
        const loaded = groups.flatMap((group) => group.rules);
        return loaded.length > 0 && loaded.every((rule) => rule.health === 'ok')
          ? loaded
          : undefined;
      },
      20_000,
      { description: 'every rule evaluated with health ok', intervalMs: 250 },
    );
    expect(rules).toHaveLength(fileRules.length);
    expect(rules.filter((rule) => rule.type === 'alerting').map((rule) => rule.name)).toEqual(
      expect.arrayContaining([
        'HighErrorRate',
        'LatencySLOBurn',
        'CircuitBreakerOpen',
        'EventLoopLagHigh',
      ]),
    );
  });

  it("returns data for a rule's expression, and for the series it records", async () => {
    const { groups } = await get<{ groups: { rules: LoadedRule[] }[] }>('/api/v1/rules');
    const rule = groups
      .flatMap((group) => group.rules)
      .find((candidate) => candidate.name === 'service_route:http_requests:rate5m');
    if (!rule)
      throw new Error('the recording rule service_route:http_requests:rate5m is not loaded');

    // rate() needs the counter to grow between two scrapes: keep the traffic coming.
    const fromExpression = await waitFor(
      async () => {
        await service.http
          .post('/essays')
          .send({ title: 'Again', text: 'Dogs bark. They bark loudly.' })
          .expect(202);
        const { result } = await query(rule.query);
        const essays = result.find((sample) => sample.metric.route === '/essays');
        return essays && Number(essays.value[1]) > 0 ? essays : undefined;
      },
      20_000,
      { description: `a positive rate of POST /essays from ${rule.query}`, intervalMs: 250 },
    );
    expect(fromExpression.metric).toEqual({
      service: 'essay-service',
      method: 'POST',
      route: '/essays',
    });

    const recorded = await waitFor(
      async () => {
        const { result } = await query(rule.name);
        return result.length > 0 ? result : undefined;
      },
      20_000,
      { description: `the recorded series ${rule.name}`, intervalMs: 250 },
    );
    expect(recorded.map((sample) => sample.metric.route)).toContain('/essays/:id');

    // The health alert's input: every required check up.
    const checks = await query('min by (service, check) (health_check_up{required="true"})');
    expect(
      Object.fromEntries(checks.result.map((sample) => [sample.metric.check, sample.value[1]])),
    ).toEqual({
      database: '1',
      broker: '1',
    });
  });
});
