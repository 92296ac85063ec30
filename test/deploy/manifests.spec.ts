import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEPLOY_CHECK, DOCKER_DIR, run } from './deploy-files.js';

// deploy:check reads the built app and library (the global setup builds them).
const deployCheck = (dir = DOCKER_DIR) => run(process.execPath, [DEPLOY_CHECK, '--dir', dir]);

interface ComposeService {
  healthcheck?: { test: unknown };
  deploy?: { resources?: { limits?: object; reservations?: object } };
}

describe('the deployment manifests', () => {
  it('parse: compose has the app and its six services, k8s every object the issue lists', () => {
    const compose = parse(readFileSync(join(DOCKER_DIR, 'compose.yaml'), 'utf8')) as {
      services: Record<string, ComposeService>;
    };
    expect(Object.keys(compose.services).sort()).toEqual(
      ['essay-service', 'grafana', 'jaeger', 'kafka', 'postgres', 'prometheus', 'redis'].sort(),
    );
    for (const service of Object.values(compose.services)) {
      expect(service.healthcheck?.test).toBeDefined();
      expect(service.deploy?.resources?.limits).toBeDefined();
      expect(service.deploy?.resources?.reservations).toBeDefined();
    }

    const kinds: string[] = [];
    const k8s = join(DOCKER_DIR, 'k8s');
    for (const file of readdirSync(k8s).filter((name) => name.endsWith('.yaml'))) {
      for (const document of parseAllDocuments(readFileSync(join(k8s, file), 'utf8'))) {
        expect(document.errors, file).toEqual([]);
        const { kind } = document.toJS() as { kind: string };
        kinds.push(kind);
      }
    }
    expect(kinds.sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Kustomization',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceMonitor',
      ].sort(),
    );
  });

  it('agree with the code: npm run deploy:check passes', async () => {
    const result = await deployCheck();
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/agrees with the service's code \(\d+ checks passed\)/);
    expect(result.code).toBe(0);
  });
});

describe('deploy:check on a deliberately broken copy', () => {
  let copy: string | undefined;

  afterEach(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
    copy = undefined;
  });

  /** A copy of docker/ with `edits` applied: file → [search, replacement] pairs. */
  function brokenCopy(edits: Record<string, [string, string][]>): string {
    copy = mkdtempSync(join(tmpdir(), 'deploy-check-'));
    cpSync(DOCKER_DIR, copy, { recursive: true });
    for (const [file, replacements] of Object.entries(edits)) {
      let text = readFileSync(join(copy, file), 'utf8');
      for (const [search, replacement] of replacements) {
        expect(text, `${file} contains ${search}`).toContain(search);
        text = text.replace(search, replacement);
      }
      writeFileSync(join(copy, file), text);
    }
    return copy;
  }

  it('names each contradiction with its file, and exits 1', async () => {
    const dir = brokenCopy({
      'k8s/deployment.yaml': [
        ['terminationGracePeriodSeconds: 35', 'terminationGracePeriodSeconds: 20'],
        ['path: /readyz', 'path: /ready'],
        ['value: --max-old-space-size=384', 'value: --max-old-space-size=1024'],
        ['failureThreshold: 33', 'failureThreshold: 10'],
        ['readOnlyRootFilesystem: true', 'readOnlyRootFilesystem: false'],
      ],
      'k8s/configmap.yaml': [['LOG_LEVEL: INFO', 'LOG_LEVL: INFO']],
      'compose.yaml': [['stop_grace_period: 35s', 'stop_grace_period: 10s']],
      'prometheus/prometheus.yml': [["'essay-service:9464'", "'essay-service:3000'"]],
      Dockerfile: [['STOPSIGNAL SIGTERM', 'STOPSIGNAL SIGINT']],
    });
    const result = await deployCheck(dir);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const problems = result.stderr;
    expect(problems).toMatch(/^deploy:check: \d+ problems in /);
    expect(problems).toContain(
      'k8s/deployment.yaml: terminationGracePeriodSeconds 20 is shorter than the shutdown: preStop 0 ms + drain delay 5000 ms + SHUTDOWN_TIMEOUT_MS 25000 ms = 30000 ms',
    );
    expect(problems).toContain(
      'k8s/deployment.yaml: SHUTDOWN_GRACE_PERIOD_MS 35000 should be terminationGracePeriodSeconds x 1000 less the preStop sleep (20000)',
    );
    expect(problems).toContain(
      'k8s/deployment.yaml: readinessProbe asks /ready, the service answers it on /readyz',
    );
    expect(problems).toContain(
      'k8s/deployment.yaml: NODE_OPTIONS --max-old-space-size=1024 leaves too little of the 512 MiB memory limit',
    );
    expect(problems).toContain(
      'k8s/deployment.yaml: startupProbe allows 20000 ms (failureThreshold x periodSeconds), less than STARTUP_TIMEOUT_MS 60000 ms',
    );
    expect(problems).toContain(
      'k8s/deployment.yaml: securityContext.readOnlyRootFilesystem must be true',
    );
    expect(problems).toContain(
      'k8s/configmap.yaml: LOG_LEVL is not a setting of EssayServiceConfig',
    );
    expect(problems).toContain(
      'compose.yaml services.essay-service: stop_grace_period 10s is shorter than the shutdown budget',
    );
    expect(problems).toContain(
      'prometheus/prometheus.yml: job essay-service scrapes essay-service:3000, but the service serves metrics on port 9464',
    );
    expect(problems).toContain('Dockerfile: STOPSIGNAL must be SIGTERM');
  });

  it("validates the settings each deployment gives with the app's own validation", async () => {
    const dir = brokenCopy({
      '.env.example': [['DATABASE_POOL_SIZE=10', 'DATABASE_POOL_SIZE=ten']],
    });
    const result = await deployCheck(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "compose.yaml services.essay-service: the settings it gives fail the app's validation:",
    );
    expect(result.stderr).toContain(
      'DATABASE_POOL_SIZE: must be an integer of at least 1 (got "ten")',
    );
  });

  it('catches a port changed in one place only', async () => {
    const dir = brokenCopy({ 'k8s/configmap.yaml': [["PORT: '3000'", "PORT: '8080'"]] });
    const result = await deployCheck(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'k8s/deployment.yaml: declares container ports 3000, 9464, not PORT 8080',
    );
    expect(result.stderr).toContain(
      'k8s/deployment.yaml: livenessProbe asks port http (3000), the service listens on PORT 8080',
    );
    expect(result.stderr).toContain('Dockerfile: EXPOSE lacks port 8080');
  });
});
