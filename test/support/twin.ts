import type { LocalStack } from '../../local/stack';

/** What tests read of one CodeDeploy deployment: its config, versions by code label, and outcome. */
export interface DeploymentView {
  deploymentId: string;
  group: string;
  config: string;
  status: string;
  creator: string;
  fromVersion?: string;
  toVersion?: string;
  errorCode?: string;
  overridesAlarms: boolean;
}

/** The twin's CodeDeploy deployments in creation order, with Lambda versions read as code labels. */
export function deployments(stack: LocalStack): DeploymentView[] {
  return stack.codedeploy.list().map((d) => {
    const label = (version: string) =>
      d.target.kind === 'lambda'
        ? stack.lambda.codeLabel(d.target.functionName, version)
        : d.target.kind === 'ecs'
          ? stack.ecs.codeLabelOf(version)
          : undefined;
    const from = d.target.kind === 'server' ? undefined : label(d.target.current);
    const to = d.target.kind === 'server' ? undefined : label(d.target.target);
    return {
      deploymentId: d.deploymentId,
      group: d.deploymentGroupName,
      config: d.deploymentConfigName,
      status: d.status,
      creator: d.creator,
      ...(from ? { fromVersion: from } : {}),
      ...(to ? { toVersion: to } : {}),
      ...(d.errorInformation?.code ? { errorCode: d.errorInformation.code } : {}),
      overridesAlarms: d.overrideAlarmConfiguration !== undefined,
    };
  });
}

/** The events put on a bus (the Upshift bus by default), oldest first. */
export function busEvents(stack: LocalStack, bus = 'upshift') {
  return stack.events.log.filter((e) => e.bus === bus).map((e) => e.event);
}

/** The detail-types of the events on the Upshift bus. */
export function detailTypes(stack: LocalStack): string[] {
  return busEvents(stack).map((e) => e['detail-type']);
}

/** An alias's routing over time as `{ codeLabel: percent }` maps (what the weights served). */
export function aliasRouting(stack: LocalStack, functionName: string, alias: string) {
  const snapshot = stack.lambda.snapshot().functions[functionName];
  const timeline = snapshot?.aliases[alias]?.timeline ?? [];
  return timeline.map((change) =>
    Object.fromEntries(
      change.split.map(([version, weight]) => [
        stack.lambda.codeLabel(functionName, version) ?? version,
        Math.round(weight * 100),
      ]),
    ),
  );
}
