import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { DOCKER_DIR } from './deploy-files.js';

// Schema validation with real tools, no cluster and no Docker engine: the
// Kubernetes OpenAPI schemas (kubernetes-models) and the Dockerfile linter
// of the VS Code Docker extension (dockerfile-utils).

interface Validatable {
  validate(): void;
}
type Model = new (data: never) => Validatable;

const MODELS: Record<string, Model> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'v1 ConfigMap': ConfigMap,
  'v1 Secret': Secret,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'monitoring.coreos.com/v1 ServiceMonitor': ServiceMonitor,
};

interface Manifest {
  apiVersion: string;
  kind: string;
}

function manifests(): { file: string; manifest: Manifest }[] {
  const dir = join(DOCKER_DIR, 'k8s');
  return (
    readdirSync(dir)
      .filter((name) => name.endsWith('.yaml'))
      .flatMap((file) =>
        parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => ({
          file,
          manifest: document.toJS() as Manifest,
        })),
      )
      // kustomize's own file is not a cluster object.
      .filter(({ manifest }) => manifest.kind !== 'Kustomization')
  );
}

function validateManifest(manifest: Manifest): void {
  const Model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
  if (!Model) throw new Error(`no schema for ${manifest.apiVersion} ${manifest.kind}`);
  new Model(manifest as never).validate();
}

describe('the Kubernetes manifests against the Kubernetes schemas', () => {
  it.each(
    manifests().map(({ file, manifest }) => [`${file}: ${manifest.kind}`, manifest] as const),
  )('%s is valid', (_name, manifest) => {
    expect(() => validateManifest(manifest)).not.toThrow();
  });

  it('rejects a Deployment with a mistyped field value', () => {
    const deployment = manifests().find(({ manifest }) => manifest.kind === 'Deployment')
      ?.manifest as unknown as {
      spec: {
        template: { spec: { containers: { readinessProbe: { periodSeconds: unknown } }[] } };
      };
    };
    deployment.spec.template.spec.containers[0].readinessProbe.periodSeconds = 'five';
    expect(() => validateManifest(deployment as unknown as Manifest)).toThrow(
      /readinessProbe\/periodSeconds must be integer/,
    );
  });
});

describe('the Dockerfile, linted', () => {
  it('has no problem dockerfile-utils reports', () => {
    const problems = validateDockerfile(readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8'));
    expect(
      problems.map((problem) => ({ line: problem.range.start.line + 1, message: problem.message })),
    ).toEqual([]);
  });

  it('would report a broken instruction (the linter is real)', () => {
    const broken = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8').replace(
      '--interval=10s',
      '--interval=ten',
    );
    expect(validateDockerfile(broken).map((problem) => problem.message)).toContain(
      'time: invalid duration ten',
    );
  });
});
