import type { Catalog, Component } from '../../shared/domain/catalog';
import { locationOf } from '../../shared/domain/target-location';
import type { EcsEmulator } from '../emulators/ecs';
import type { LambdaEmulator } from '../emulators/lambda';
import { functionCodeFromCatalog, liveTrafficFromCatalog } from '../emulators/synthetic-traffic';

/**
 * The world around the app: the user's own Lambda functions and ECS services that Upshift
 * upgrades. On AWS they exist before Upshift is deployed; here they are created from the catalog's
 * targets and baselines, with the catalog's local profiles (or the demo service's real code) as
 * their code, and they receive synthetic live traffic. This is not the app's wiring (that comes
 * from the template only): it is what a user's account already holds.
 */
export function createTargets(catalog: Catalog, lambda: LambdaEmulator, ecs: EcsEmulator): void {
  const lambdaFunctions = new Map<string, { component: string; definition: Component }>();
  for (const [name, component] of Object.entries(catalog.components)) {
    for (const [, environment] of Object.entries(component.environments)) {
      const target = environment.target ?? component.target;
      // A target in another account is not in the twin's one account (decision 0028).
      if (locationOf(target)) continue;
      const artifact = environment.baseline.artifact;
      if (target.type === 'lambda' && artifact.type === 'lambda') {
        if (!lambdaFunctions.has(target.functionName)) {
          lambdaFunctions.set(target.functionName, { component: name, definition: component });
          lambda.defineFunction(target.functionName, {
            code: functionCodeFromCatalog(name, component),
            liveTraffic: liveTrafficFromCatalog(name, component),
            initialCode: environment.baseline.version,
          });
        }
        ensureLambdaVersion(
          lambda,
          target.functionName,
          artifact.functionVersion,
          environment.baseline.version,
        );
        if (lambda.aliasVersion(target.functionName, target.alias) === undefined) {
          lambda.createAlias(target.functionName, target.alias, artifact.functionVersion);
        }
      } else if (target.type === 'ecs' && artifact.type === 'ecs') {
        const taskDefinitionArn = ensureTaskDefinition(
          ecs,
          artifact.taskDefinitionArn,
          target.containerName,
          {
            component: name,
            version: environment.baseline.version,
          },
        );
        if (ecs.serviceTaskDefinition(target.cluster, target.service) === undefined) {
          ecs.defineService(target.cluster, target.service, {
            taskDefinitionArn,
            code: functionCodeFromCatalog(name, component),
            liveTraffic: liveTrafficFromCatalog(name, component),
            ...(target.blueGreen ? { loadBalancer: loadBalancerOf(target.blueGreen.prodListenerArn) } : {}),
            containerName: target.containerName,
          });
        }
      }
    }
  }
}

/** Local CI's "publish version N of this code": the version must not already run other code. */
export function ensureLambdaVersion(
  lambda: LambdaEmulator,
  functionName: string,
  version: string,
  code: string,
) {
  const existing = lambda.codeLabel(functionName, version);
  if (existing === undefined) {
    lambda.publishVersionAs(functionName, version, code);
    return;
  }
  if (existing !== code) {
    throw new LocalCiConflict(
      `version ${version} of ${functionName} already runs ${existing}; publish ${code} as a new version number`,
    );
  }
}

export class LocalCiConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalCiConflict';
  }
}

/**
 * Registers revisions of the family up to the one a catalog names (a family with revision 30 in
 * service has 29 before it), so the ARN the registry holds resolves. Returns the twin's ARN.
 */
function ensureTaskDefinition(
  ecs: EcsEmulator,
  catalogArn: string,
  containerName: string,
  code: { component: string; version: string },
): string {
  const m = /task-definition\/([\w-]+):(\d+)$/.exec(catalogArn);
  if (!m?.[1] || !m[2]) throw new Error(`not a task definition ARN: ${catalogArn}`);
  const family = m[1];
  const revision = Number(m[2]);
  let arn = '';
  while (ecs.containersOf(`${family}:${revision}`) === undefined) {
    const registered = ecs.registerTaskDefinition({
      family,
      containerDefinitions: [
        { name: containerName, image: `${code.component}:${code.version}`, essential: true },
      ],
      tags: [{ key: 'version', value: code.version }],
    });
    arn = registered.taskDefinitionArn ?? arn;
  }
  return arn || `${family}:${revision}`;
}

/** `app/<name>/<id>` from a listener ARN, the ALB's `LoadBalancer` metric dimension. */
function loadBalancerOf(listenerArn: string): string | undefined {
  return /:listener\/(app\/[^/]+\/[^/]+)\//.exec(listenerArn)?.[1];
}
