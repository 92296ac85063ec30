#!/usr/bin/env node
// npm run deploy:check [-- --dir <a copy of docker/>]
//
// Checks the deployment files (docker/Dockerfile, compose.yaml, k8s/,
// prometheus/) against the service's code: the settings EssayServiceConfig
// declares and their defaults, the health probe paths and timeouts, the
// shutdown budget, the metrics port and path. Each configuration the files
// give is validated by the app's own loadConfig(), as at startup. Prints every
// problem with its file and exits 1, or one line and exits 0.
//
// Reads the built app and library (npm run build): the checks use the code's
// real defaults, not a copy of them.
import 'reflect-metadata';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT_CONFIG = join(REPO_ROOT, 'dist/apps/essay-service/essay-service.config.js');
const BUILT_LIBRARY = join(REPO_ROOT, 'libs/production-readiness/dist/index.js');

/** The heap may take at most this share of the memory limit (the image's entrypoint uses 75%). */
const MAX_HEAP_SHARE = 0.75;
/** PostgreSQL's default max_connections (100) less superuser_reserved_connections (3). */
const POSTGRES_DEFAULT_CONNECTION_LIMIT = 97;
/** Where the image's WORKDIR is: relative sqlite: paths resolve from it. */
const IMAGE_WORKDIR = '/app';
/** Environment names that are not settings but that the runtime reads. */
const RUNTIME_ENV = new Set(['NODE_OPTIONS', 'NODE_ENV', 'TZ']);
const isRuntimeEnv = (name) => RUNTIME_ENV.has(name) || name.startsWith('OTEL_');
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|API_KEYS|DATABASE_URL|REDIS_URL|NATS_URL|RABBITMQ_URL/;

function parseArgs(argv) {
  const args = { dir: join(REPO_ROOT, 'docker') };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--dir') args.dir = resolve(argv[(i += 1)]);
    else if (argv[i].startsWith('--dir=')) args.dir = resolve(argv[i].slice('--dir='.length));
    else throw new Error(`deploy:check: unknown argument ${argv[i]} (usage: --dir <docker dir>)`);
  }
  return args;
}

// ---- units -----------------------------------------------------------------

/** Compose durations: `35s`, `1m30s`, `500ms`. */
function durationMs(value) {
  if (typeof value === 'number') return value * 1000;
  const units = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  let rest = String(value).trim();
  while (rest) {
    const match = /^(\d+(?:\.\d+)?)(ms|us|h|m|s)/.exec(rest);
    if (!match) return Number.NaN;
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** Kubernetes quantities (`512Mi`, `1G`) and compose sizes (`512M`, `1g`, binary). */
function memoryBytes(value, { compose = false } = {}) {
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(String(value).trim());
  if (!match) return Number.NaN;
  const binary = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  const suffix = match[2];
  const kube = {
    '': 1,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  const factor = compose
    ? suffix === '' || /^b$/i.test(suffix)
      ? 1
      : binary[suffix.toLowerCase().replace(/b$/, '')]
    : kube[suffix];
  return factor === undefined ? Number.NaN : Number(match[1]) * factor;
}

const mib = (bytes) => `${Math.round(bytes / 2 ** 20)} MiB`;

function heapMibOf(nodeOptions) {
  const match = /--max-old-space-size=(\d+)/.exec(nodeOptions ?? '');
  return match ? Number(match[1]) : undefined;
}

// ---- the check -------------------------------------------------------------

class Checker {
  problems = [];
  passed = 0;

  constructor(dir) {
    this.dir = dir;
  }

  check(file, ok, message) {
    if (ok) this.passed += 1;
    else this.problems.push(`${file}: ${message}`);
    return ok;
  }

  read(file) {
    const path = join(this.dir, file);
    if (!existsSync(path)) {
      this.problems.push(`${file}: missing`);
      return undefined;
    }
    return readFileSync(path, 'utf8');
  }

  yaml(file) {
    const text = this.read(file);
    if (text === undefined) return undefined;
    try {
      return parseYaml(text);
    } catch (error) {
      this.problems.push(`${file}: not valid YAML: ${error.message}`);
      return undefined;
    }
  }
}

async function loadCode() {
  for (const path of [BUILT_CONFIG, BUILT_LIBRARY]) {
    if (!existsSync(path)) {
      throw new Error(
        `deploy:check: ${relative(REPO_ROOT, path)} is missing: run "npm run build" first.`,
      );
    }
  }
  const library = await import(pathToFileURL(BUILT_LIBRARY).href);
  // Not public API, but the library's own defaults and readers: the repo's
  // script may read them from their files in the build.
  const internal = (path) => import(pathToFileURL(join(dirname(BUILT_LIBRARY), path)).href);
  const [health, shutdown, config] = await Promise.all([
    internal('health/health.options.js'),
    internal('shutdown/shutdown.options.js'),
    internal('config/load-config.js'),
  ]);
  const { EssayServiceConfig } = await import(pathToFileURL(BUILT_CONFIG).href);
  return {
    library: {
      loadConfig: library.loadConfig,
      settingNamesOf: config.settingNamesOf,
      resolveHealthOptions: health.resolveHealthOptions,
      DEFAULT_HEALTH_PATHS: health.DEFAULT_HEALTH_PATHS,
      DEFAULT_KUBERNETES_DRAIN_DELAY_MS: shutdown.DEFAULT_KUBERNETES_DRAIN_DELAY_MS,
    },
    configClass: EssayServiceConfig,
  };
}

/**
 * The code's view of one deployment's environment: the validated config and
 * the derived budgets. The drain delay follows the shutdown service's rule:
 * SHUTDOWN_DRAIN_DELAY_MS, else 5 s in Kubernetes and 0 elsewhere.
 */
function configFor(checker, file, env, { library, configClass }, { inKubernetes }) {
  let config;
  try {
    config = library.loadConfig(configClass, { env, envFilePath: false });
  } catch (error) {
    checker.check(
      file,
      false,
      `the settings it gives fail the app's validation:\n    ${error.message.replace(/\n/g, '\n    ')}`,
    );
    return undefined;
  }
  checker.passed += 1;
  const drainDelayMs =
    config.SHUTDOWN_DRAIN_DELAY_MS ??
    (inKubernetes ? library.DEFAULT_KUBERNETES_DRAIN_DELAY_MS : 0);
  return {
    config,
    drainDelayMs,
    shutdownBudgetMs: drainDelayMs + config.SHUTDOWN_TIMEOUT_MS,
    metricsPort: config.METRICS_PORT ?? config.PORT,
  };
}

function checkEnvNames(checker, file, names, settingNames) {
  for (const name of names) {
    checker.check(
      file,
      settingNames.has(name) || isRuntimeEnv(name),
      `${name} is not a setting of EssayServiceConfig (nor NODE_OPTIONS/NODE_ENV/OTEL_*): a typo, or a setting that was renamed or removed; the app would ignore it`,
    );
  }
}

// ---- Dockerfile --------------------------------------------------------------

function dockerInstructions(text) {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  return lines
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line);
      return { keyword: keyword.toUpperCase(), args: rest };
    });
}

/** The HEALTHCHECK's exec-form command and options, as a test can run it. */
export function dockerHealthcheck(text) {
  const instruction = dockerInstructions(text).find((i) => i.keyword === 'HEALTHCHECK');
  if (!instruction) return undefined;
  const match = /^((?:--\S+\s+)*)CMD\s+(\[.*\])\s*$/.exec(instruction.args);
  if (!match) return { options: {}, command: undefined };
  const options = Object.fromEntries(
    [...match[1].matchAll(/--([\w-]+)=(\S+)/g)].map(([, key, value]) => [key, value]),
  );
  return { options, command: JSON.parse(match[2]) };
}

function checkDockerfile(checker, code, defaults, deployedPorts) {
  const file = 'Dockerfile';
  const text = checker.read(file);
  if (text === undefined) return undefined;
  const instructions = dockerInstructions(text);
  const all = (keyword) => instructions.filter((i) => i.keyword === keyword);

  checker.check(
    file,
    all('FROM').length >= 2,
    'is not multi-stage: build in one stage, run on a slim one',
  );
  const users = all('USER');
  const user = users.at(-1)?.args.trim();
  checker.check(
    file,
    user !== undefined && !/^(root|0)(:|$)/.test(user),
    `runs as ${user ?? 'root (no USER)'}: set USER to an unprivileged user`,
  );
  checker.check(
    file,
    all('STOPSIGNAL').at(-1)?.args.trim() === 'SIGTERM',
    'STOPSIGNAL must be SIGTERM: the graceful shutdown starts on it',
  );
  const entrypoint = all('ENTRYPOINT').at(-1)?.args ?? '';
  checker.check(
    file,
    /tini|dumb-init/.test(entrypoint),
    'ENTRYPOINT runs no init (tini): Node as PID 1 leaves zombies and signals need care',
  );

  const healthcheck = dockerHealthcheck(text);
  if (
    checker.check(
      file,
      healthcheck?.command !== undefined,
      'needs a HEALTHCHECK in exec form (CMD ["node", ...]); the image has no curl',
    )
  ) {
    checker.check(
      file,
      !/curl|wget/.test(healthcheck.command.join(' ')),
      'the HEALTHCHECK uses curl or wget, which the slim runtime image lacks',
    );
    const startPeriodMs = durationMs(healthcheck.options['start-period'] ?? '0s');
    checker.check(
      file,
      startPeriodMs >= defaults.config.STARTUP_TIMEOUT_MS,
      `HEALTHCHECK --start-period ${healthcheck.options['start-period'] ?? '0s'} is shorter than STARTUP_TIMEOUT_MS ${defaults.config.STARTUP_TIMEOUT_MS} ms: a slow start counts as unhealthy`,
    );
  }

  const exposed = new Set(
    all('EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((port) => Number(port.split('/')[0])),
  );
  for (const port of new Set([defaults.config.PORT, ...deployedPorts])) {
    checker.check(
      file,
      exposed.has(port),
      `EXPOSE lacks port ${port}, which the service listens on (PORT/METRICS_PORT)`,
    );
  }

  const databaseUrl = defaults.config.DATABASE_URL;
  if (/^sqlite:(?!:memory:)/.test(databaseUrl)) {
    const sqliteDir = dirname(databaseUrl.replace(/^sqlite:/, ''));
    const volumeDir = sqliteDir.startsWith('/') ? sqliteDir : `${IMAGE_WORKDIR}/${sqliteDir}`;
    const volumes = all('VOLUME').flatMap((i) =>
      i.args.startsWith('[') ? JSON.parse(i.args) : i.args.split(/\s+/),
    );
    checker.check(
      file,
      volumes.includes(volumeDir),
      `declares no VOLUME ${volumeDir}: the default DATABASE_URL (${databaseUrl}) writes there, which a read-only root filesystem refuses`,
    );
  }

  const envNames = all('ENV').flatMap((i) =>
    [...i.args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]),
  );
  checkEnvNames(checker, file, envNames, code.settingNames);
  const baked = [...envNames, ...all('ARG').map((i) => i.args.split('=')[0].trim())].filter(
    (name) => SECRET_NAME.test(name),
  );
  checker.check(
    file,
    baked.length === 0,
    `bakes secrets into the image (${baked.join(', ')}): pass them at run time`,
  );
  return healthcheck;
}

// ---- compose -----------------------------------------------------------------

/** Compose's `${VAR:-default}` interpolation, with the defaults (the check must not depend on the shell). */
function interpolate(value) {
  return String(value).replace(
    /\$\{(\w+)(?::?[-?]([^}]*))?\}/g,
    (_, _name, fallback) => fallback ?? '',
  );
}

function composeEnvironment(checker, service) {
  const env = {};
  const files = (
    Array.isArray(service.env_file) ? service.env_file : service.env_file ? [service.env_file] : []
  )
    .map((entry) =>
      typeof entry === 'string' ? { path: entry, required: true } : { required: true, ...entry },
    )
    // Optional files (a developer's own docker/.env) are not part of what is shipped.
    .filter((entry) => entry.required !== false);
  const names = [];
  for (const entry of files) {
    const text = checker.read(entry.path);
    if (text === undefined) continue;
    const values = parseDotenv(text);
    names.push(...Object.keys(values).map((name) => ({ file: entry.path, name })));
    Object.assign(env, values);
  }
  const environment = Array.isArray(service.environment)
    ? Object.fromEntries(service.environment.map((item) => item.split(/=(.*)/s).slice(0, 2)))
    : (service.environment ?? {});
  for (const [name, value] of Object.entries(environment)) {
    names.push({ file: 'compose.yaml', name });
    if (value !== null && value !== undefined) env[name] = interpolate(value);
  }
  return { env, names };
}

function checkCompose(checker, code, healthcheck) {
  const file = 'compose.yaml';
  const compose = checker.yaml(file);
  if (!compose?.services) {
    if (compose) checker.check(file, false, 'has no services');
    return undefined;
  }
  const services = Object.entries(compose.services);
  for (const [name, service] of services) {
    const where = `${file} services.${name}`;
    checker.check(
      where,
      Array.isArray(service.healthcheck?.test) || typeof service.healthcheck?.test === 'string',
      'has no healthcheck',
    );
    checker.check(
      where,
      ['always', 'unless-stopped', 'on-failure'].some((policy) =>
        String(service.restart ?? '').startsWith(policy),
      ),
      `restart policy is ${service.restart ?? 'missing'}`,
    );
    const resources = service.deploy?.resources ?? {};
    for (const kind of ['limits', 'reservations']) {
      checker.check(
        where,
        resources[kind]?.cpus !== undefined && resources[kind]?.memory !== undefined,
        `deploy.resources.${kind} needs cpus and memory`,
      );
    }
    const dependsOn = service.depends_on ?? {};
    const dependencies = Array.isArray(dependsOn)
      ? dependsOn.map((dependency) => [dependency, {}])
      : Object.entries(dependsOn);
    for (const [dependency, options] of dependencies) {
      checker.check(
        where,
        options.condition === 'service_healthy',
        `depends_on ${dependency} without condition: service_healthy (it would start before ${dependency} is ready)`,
      );
    }
  }

  const app = services.find(([, service]) => service.build !== undefined);
  if (!checker.check(file, app !== undefined, 'no service builds the app (build: ../Dockerfile)'))
    return undefined;
  const [appName, service] = app;
  const where = `${file} services.${appName}`;
  const { env, names } = composeEnvironment(checker, service);
  for (const { file: source, name } of names)
    checkEnvNames(checker, source === 'compose.yaml' ? where : source, [name], code.settingNames);
  const deployed = configFor(checker, where, env, code, { inKubernetes: false });
  if (!deployed) return undefined;
  const { config } = deployed;

  const published = (service.ports ?? []).map((port) =>
    Number(
      String(typeof port === 'object' ? port.target : port)
        .split(':')
        .at(-1)
        .split('/')[0],
    ),
  );
  checker.check(
    where,
    published.includes(config.PORT),
    `publishes container ports ${published.join(', ') || 'none'}, not PORT ${config.PORT}`,
  );
  if (config.METRICS_PORT !== undefined) {
    const reachable = [...published, ...(service.expose ?? []).map(Number)];
    checker.check(
      where,
      reachable.includes(config.METRICS_PORT),
      `neither exposes nor publishes METRICS_PORT ${config.METRICS_PORT}`,
    );
  }

  const graceMs = durationMs(service.stop_grace_period ?? '10s');
  checker.check(
    where,
    graceMs >= deployed.shutdownBudgetMs,
    `stop_grace_period ${service.stop_grace_period ?? '10s (default)'} is shorter than the shutdown budget: drain delay ${deployed.drainDelayMs} ms + SHUTDOWN_TIMEOUT_MS ${config.SHUTDOWN_TIMEOUT_MS} ms = ${deployed.shutdownBudgetMs} ms; Docker would SIGKILL it mid-shutdown`,
  );
  checker.check(
    where,
    config.SHUTDOWN_GRACE_PERIOD_MS === graceMs,
    `SHUTDOWN_GRACE_PERIOD_MS ${config.SHUTDOWN_GRACE_PERIOD_MS} differs from stop_grace_period ${service.stop_grace_period ?? '10s'} (${graceMs} ms): set it to the same time so the startup report checks the right budget`,
  );
  checker.check(
    where,
    (service.stop_signal ?? 'SIGTERM') === 'SIGTERM',
    `stop_signal ${service.stop_signal} is not SIGTERM`,
  );

  const test = service.healthcheck?.test;
  if (healthcheck?.command && Array.isArray(test)) {
    checker.check(
      where,
      JSON.stringify(test) === JSON.stringify(['CMD', ...healthcheck.command]),
      `healthcheck.test ${JSON.stringify(test)} differs from the Dockerfile's HEALTHCHECK ${JSON.stringify(healthcheck.command)}`,
    );
  }
  checker.check(
    where,
    durationMs(service.healthcheck?.start_period ?? '0s') >= config.STARTUP_TIMEOUT_MS,
    `healthcheck.start_period ${service.healthcheck?.start_period ?? '0s'} is shorter than STARTUP_TIMEOUT_MS ${config.STARTUP_TIMEOUT_MS} ms`,
  );

  const memoryLimit = memoryBytes(service.deploy?.resources?.limits?.memory, { compose: true });
  checkHeap(checker, where, env.NODE_OPTIONS, memoryLimit);

  const poolMax = config.DATABASE_POOL_SIZE + config.DATABASE_MAX_OVERFLOW;
  const replicas = service.deploy?.replicas ?? 1;
  const postgres = services.find(([, other]) => /postgres/.test(String(other.image ?? '')));
  if (/^postgres/.test(config.DATABASE_URL) && postgres) {
    const command = [].concat(postgres[1].command ?? []).join(' ');
    const limit = Number(/max_connections=(\d+)/.exec(command)?.[1] ?? 100) - 3;
    checker.check(
      `${file} services.${postgres[0]}`,
      poolMax * replicas <= limit,
      `max_connections leaves ${limit} connections for ${replicas} replica(s) x pool max ${poolMax} (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) = ${poolMax * replicas}`,
    );
  }
  return { appName, deployed };
}

function checkHeap(checker, where, nodeOptions, memoryLimit) {
  if (!checker.check(where, Number.isFinite(memoryLimit) && memoryLimit > 0, 'has no memory limit'))
    return;
  const heapMib = heapMibOf(nodeOptions);
  // Without --max-old-space-size the image's entrypoint derives it from the cgroup limit.
  if (heapMib === undefined) return;
  const ceilingMib = Math.floor((memoryLimit / 2 ** 20) * MAX_HEAP_SHARE);
  checker.check(
    where,
    heapMib <= ceilingMib,
    `NODE_OPTIONS --max-old-space-size=${heapMib} leaves too little of the ${mib(memoryLimit)} memory limit: keep the heap at most ${MAX_HEAP_SHARE * 100}% (${ceilingMib} MiB), or the container is OOMKilled before V8 collects`,
  );
}

// ---- Prometheus ----------------------------------------------------------------

function checkPrometheus(checker, target, metricsPath) {
  const file = 'prometheus/prometheus.yml';
  const prometheus = checker.yaml(file);
  if (!prometheus) return;
  const job = (prometheus.scrape_configs ?? []).find((scrape) =>
    (scrape.static_configs ?? []).some((group) =>
      (group.targets ?? []).some((address) => address.startsWith(`${target.host}:`)),
    ),
  );
  if (!checker.check(file, job !== undefined, `no scrape job targets the ${target.host} service`))
    return;
  const addresses = job.static_configs
    .flatMap((group) => group.targets)
    .filter((address) => address.startsWith(`${target.host}:`));
  checker.check(
    file,
    addresses.every((address) => address === `${target.host}:${target.port}`),
    `job ${job.job_name} scrapes ${addresses.join(', ')}, but the service serves metrics on port ${target.port} (METRICS_PORT, else PORT)`,
  );
  checker.check(
    file,
    (job.metrics_path ?? '/metrics') === metricsPath,
    `job ${job.job_name} scrapes ${job.metrics_path}, the service serves ${metricsPath}`,
  );
  const ruleFiles = prometheus.rule_files ?? [];
  checker.check(file, ruleFiles.length > 0, 'loads no rule_files');
}

// ---- Kubernetes ------------------------------------------------------------------

function k8sDocuments(checker) {
  const dir = join(checker.dir, 'k8s');
  if (!existsSync(dir)) {
    checker.problems.push('k8s/: missing');
    return [];
  }
  const documents = [];
  for (const name of readdirSync(dir)
    .filter((entry) => /\.ya?ml$/.test(entry))
    .sort()) {
    const file = `k8s/${name}`;
    for (const document of parseAllDocuments(readFileSync(join(dir, name), 'utf8'))) {
      if (document.errors.length > 0) {
        checker.problems.push(`${file}: not valid YAML: ${document.errors[0].message}`);
        continue;
      }
      const value = document.toJS();
      if (value?.kind) documents.push({ file, value });
    }
  }
  return documents;
}

const matches = (selector = {}, labels = {}) =>
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels[key] === value);

function probeWindowMs(probe) {
  return (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10) * 1000;
}

function checkKubernetes(checker, code, healthPaths, healthOptions, metricsPath) {
  const documents = k8sDocuments(checker);
  const of = (kind) => documents.filter((document) => document.value.kind === kind);
  const deployment = of('Deployment')[0];
  if (!checker.check('k8s/', deployment !== undefined, 'has no Deployment')) return;
  const { file } = deployment;
  const spec = deployment.value.spec?.template?.spec ?? {};
  const podLabels = deployment.value.spec?.template?.metadata?.labels ?? {};
  const container = spec.containers?.[0];
  if (!checker.check(file, container !== undefined, 'has no container')) return;

  // The environment the pod gets: envFrom ConfigMap and Secret (the template), then env.
  const env = {};
  const names = [];
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const target = of(kind).find((document) => document.value.metadata?.name === ref?.name);
    if (
      !checker.check(
        file,
        target !== undefined,
        `envFrom ${kind} ${ref?.name} is not among the manifests (k8s/*.yaml)`,
      )
    )
      continue;
    const data = target.value.data ?? target.value.stringData ?? {};
    for (const [name, value] of Object.entries(data)) {
      names.push({ file: target.file, name });
      env[name] = String(value);
    }
  }
  for (const variable of container.env ?? []) {
    names.push({ file, name: variable.name });
    if (variable.value !== undefined) env[variable.name] = String(variable.value);
  }
  for (const { file: source, name } of names)
    checkEnvNames(checker, source, [name], code.settingNames);
  const deployed = configFor(checker, `${file} (with its ConfigMap and Secret)`, env, code, {
    inKubernetes: true,
  });
  if (!deployed) return;
  const { config } = deployed;

  const ports = new Map((container.ports ?? []).map((port) => [port.name, port.containerPort]));
  const containerPorts = new Set(ports.values());
  const portOf = (port) => (typeof port === 'number' ? port : (ports.get(port) ?? Number(port)));
  checker.check(
    file,
    containerPorts.has(config.PORT),
    `declares container ports ${[...containerPorts].join(', ')}, not PORT ${config.PORT}`,
  );
  if (config.METRICS_PORT !== undefined) {
    checker.check(
      file,
      containerPorts.has(config.METRICS_PORT),
      `declares no container port for METRICS_PORT ${config.METRICS_PORT}`,
    );
  }

  const probes = [
    ['livenessProbe', healthPaths.liveness],
    ['readinessProbe', healthPaths.readiness],
    ['startupProbe', healthPaths.startup],
  ];
  for (const [probeName, path] of probes) {
    const probe = container[probeName];
    if (
      !checker.check(
        file,
        probe?.httpGet !== undefined,
        `${probeName} is missing (an httpGet on ${path})`,
      )
    )
      continue;
    checker.check(
      file,
      probe.httpGet.path === path,
      `${probeName} asks ${probe.httpGet.path}, the service answers it on ${path}`,
    );
    checker.check(
      file,
      portOf(probe.httpGet.port) === config.PORT,
      `${probeName} asks port ${probe.httpGet.port} (${portOf(probe.httpGet.port)}), the service listens on PORT ${config.PORT}`,
    );
  }
  const { livenessProbe: liveness, readinessProbe: readiness, startupProbe: startup } = container;
  if (readiness) {
    const timeoutMs = (readiness.timeoutSeconds ?? 1) * 1000;
    checker.check(
      file,
      timeoutMs > healthOptions.checkTimeoutMs,
      `readinessProbe timeoutSeconds ${readiness.timeoutSeconds ?? 1} must exceed the health check timeout (${healthOptions.checkTimeoutMs} ms), so a hanging dependency answers 503 instead of timing the probe out`,
    );
  }
  if (liveness && readiness) {
    checker.check(
      file,
      probeWindowMs(liveness) > probeWindowMs(readiness),
      `livenessProbe gives up after ${probeWindowMs(liveness)} ms, no later than readinessProbe (${probeWindowMs(readiness)} ms): a slow pod is restarted before it is taken out of rotation`,
    );
  }
  if (startup) {
    checker.check(
      file,
      probeWindowMs(startup) >= config.STARTUP_TIMEOUT_MS,
      `startupProbe allows ${probeWindowMs(startup)} ms (failureThreshold x periodSeconds), less than STARTUP_TIMEOUT_MS ${config.STARTUP_TIMEOUT_MS} ms: the kubelet would kill a slow start before the app reports why`,
    );
  }

  const preStop = container.lifecycle?.preStop;
  const preStopMs =
    (preStop?.sleep?.seconds ??
      Number((preStop?.exec?.command ?? []).join(' ').match(/sleep\s+(\d+)/)?.[1] ?? 0)) * 1000;
  const graceMs = (spec.terminationGracePeriodSeconds ?? 30) * 1000;
  checker.check(
    file,
    graceMs >= preStopMs + deployed.shutdownBudgetMs,
    `terminationGracePeriodSeconds ${graceMs / 1000} is shorter than the shutdown: preStop ${preStopMs} ms + drain delay ${deployed.drainDelayMs} ms + SHUTDOWN_TIMEOUT_MS ${config.SHUTDOWN_TIMEOUT_MS} ms = ${preStopMs + deployed.shutdownBudgetMs} ms; the kubelet would SIGKILL it mid-shutdown`,
  );
  checker.check(
    file,
    config.SHUTDOWN_GRACE_PERIOD_MS === graceMs - preStopMs,
    `SHUTDOWN_GRACE_PERIOD_MS ${config.SHUTDOWN_GRACE_PERIOD_MS} should be terminationGracePeriodSeconds x 1000 less the preStop sleep (${graceMs - preStopMs})`,
  );

  const resources = container.resources ?? {};
  checker.check(
    file,
    resources.requests?.cpu !== undefined && resources.requests?.memory !== undefined,
    'resources.requests needs cpu and memory',
  );
  checkHeap(checker, file, env.NODE_OPTIONS, memoryBytes(resources.limits?.memory));

  const podSecurity = spec.securityContext ?? {};
  const security = container.securityContext ?? {};
  checker.check(
    file,
    (security.runAsNonRoot ?? podSecurity.runAsNonRoot) === true,
    'securityContext.runAsNonRoot must be true',
  );
  checker.check(
    file,
    security.readOnlyRootFilesystem === true,
    'securityContext.readOnlyRootFilesystem must be true',
  );
  checker.check(
    file,
    security.allowPrivilegeEscalation === false,
    'securityContext.allowPrivilegeEscalation must be false',
  );
  checker.check(
    file,
    (security.capabilities?.drop ?? []).includes('ALL'),
    'securityContext.capabilities.drop must include ALL',
  );

  const metricsPort = deployed.metricsPort;
  const annotations = deployment.value.spec?.template?.metadata?.annotations ?? {};
  if (annotations['prometheus.io/scrape'] === 'true') {
    checker.check(
      file,
      Number(annotations['prometheus.io/port']) === metricsPort,
      `prometheus.io/port ${annotations['prometheus.io/port']} is not the metrics port ${metricsPort}`,
    );
    checker.check(
      file,
      (annotations['prometheus.io/path'] ?? '/metrics') === metricsPath,
      `prometheus.io/path ${annotations['prometheus.io/path']} is not ${metricsPath}`,
    );
  }

  const service = of('Service')[0];
  if (checker.check('k8s/', service !== undefined, 'has no Service')) {
    checker.check(
      service.file,
      matches(service.value.spec?.selector, podLabels),
      "selector does not match the Deployment's pod labels",
    );
    const servicePorts = service.value.spec?.ports ?? [];
    for (const port of servicePorts) {
      checker.check(
        service.file,
        containerPorts.has(portOf(port.targetPort ?? port.port)),
        `port ${port.name ?? port.port} targets ${port.targetPort}, which is not a container port`,
      );
    }
    checker.check(
      service.file,
      servicePorts.some((port) => portOf(port.targetPort ?? port.port) === config.PORT),
      `no port reaches PORT ${config.PORT}`,
    );
    for (const monitor of of('ServiceMonitor')) {
      checker.check(
        monitor.file,
        matches(monitor.value.spec?.selector?.matchLabels, service.value.metadata?.labels),
        "selector does not match the Service's labels",
      );
      for (const endpoint of monitor.value.spec?.endpoints ?? []) {
        const port = servicePorts.find((candidate) => candidate.name === endpoint.port);
        checker.check(
          monitor.file,
          port !== undefined && portOf(port.targetPort ?? port.port) === metricsPort,
          `endpoint port ${endpoint.port} does not reach the metrics port ${metricsPort}`,
        );
        checker.check(
          monitor.file,
          (endpoint.path ?? '/metrics') === metricsPath,
          `endpoint path ${endpoint.path} is not ${metricsPath}`,
        );
      }
    }
  }
  const hpa = of('HorizontalPodAutoscaler')[0];
  const pdb = of('PodDisruptionBudget')[0];
  if (checker.check('k8s/', hpa !== undefined, 'has no HorizontalPodAutoscaler')) {
    const target = hpa.value.spec?.scaleTargetRef ?? {};
    checker.check(
      hpa.file,
      target.kind === 'Deployment' && target.name === deployment.value.metadata?.name,
      `scaleTargetRef ${target.kind}/${target.name} is not the Deployment`,
    );
    const poolMax = config.DATABASE_POOL_SIZE + config.DATABASE_MAX_OVERFLOW;
    if (/^postgres/.test(config.DATABASE_URL)) {
      checker.check(
        hpa.file,
        hpa.value.spec.maxReplicas * poolMax <= POSTGRES_DEFAULT_CONNECTION_LIMIT,
        `maxReplicas ${hpa.value.spec.maxReplicas} x pool max ${poolMax} (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) exceeds PostgreSQL's default ${POSTGRES_DEFAULT_CONNECTION_LIMIT} connections`,
      );
    }
    if (pdb && typeof pdb.value.spec?.minAvailable === 'number') {
      checker.check(
        pdb.file,
        pdb.value.spec.minAvailable < (hpa.value.spec?.minReplicas ?? 1),
        `minAvailable ${pdb.value.spec.minAvailable} is not below the HPA's minReplicas ${hpa.value.spec?.minReplicas ?? 1}: a node drain could never evict a pod`,
      );
    }
  }
  if (checker.check('k8s/', pdb !== undefined, 'has no PodDisruptionBudget')) {
    checker.check(
      pdb.file,
      matches(pdb.value.spec?.selector?.matchLabels, podLabels),
      "selector does not match the Deployment's pod labels",
    );
  }
  return deployed;
}

// ---- main ----------------------------------------------------------------------

export async function deployCheck(dir) {
  const loaded = await loadCode();
  const { library, configClass } = loaded;
  const code = { ...loaded, settingNames: new Set(library.settingNamesOf(configClass)) };
  const checker = new Checker(dir);
  const defaults = { config: new configClass() };
  const healthPaths = library.DEFAULT_HEALTH_PATHS;
  const healthOptions = library.resolveHealthOptions({});
  const metricsPath = '/metrics';

  // The manifests first: the Dockerfile must expose the ports they configure.
  const dockerfile = join(dir, 'Dockerfile');
  const healthcheck = existsSync(dockerfile)
    ? dockerHealthcheck(readFileSync(dockerfile, 'utf8'))
    : undefined;
  const kubernetes = checkKubernetes(checker, code, healthPaths, healthOptions, metricsPath);
  const compose = checkCompose(checker, code, healthcheck);
  const deployedPorts = [kubernetes, compose?.deployed]
    .filter(Boolean)
    .flatMap(({ config }) =>
      [config.PORT, config.METRICS_PORT].filter((port) => port !== undefined),
    );
  checkDockerfile(checker, code, defaults, deployedPorts);
  if (compose)
    checkPrometheus(
      checker,
      { host: compose.appName, port: compose.deployed.metricsPort },
      metricsPath,
    );
  return checker;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { dir } = parseArgs(process.argv.slice(2));
    const checker = await deployCheck(dir);
    const shown = relative(process.cwd(), dir) || '.';
    if (checker.problems.length > 0) {
      process.stderr.write(
        `deploy:check: ${checker.problems.length} problem${checker.problems.length === 1 ? '' : 's'} in ${shown}/ ` +
          `(the files disagree with the service's code and defaults):\n` +
          checker.problems.map((problem) => `  - ${problem}`).join('\n') +
          '\n',
      );
      process.exitCode = 1;
    } else {
      process.stdout.write(
        `deploy:check: ${shown}/ agrees with the service's code (${checker.passed} checks passed)\n`,
      );
    }
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}
