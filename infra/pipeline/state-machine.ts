import { readFileSync } from 'node:fs';
import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { awsArn } from '../arns';
import { type PipelineFunctionMap, projectPath, type StepName, steps } from './functions';

/**
 * The upgrade state machine, built from the same ASL file the local runtime executes, with each
 * step's function substituted in; its logs; and SendTask* on it for the functions that answer
 * its task tokens. Resources go into `scope` (the pipeline), as in PipelineFunctions.
 */
export class UpgradeStateMachine {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, fns: PipelineFunctionMap) {
    const definition = readFileSync(projectPath('statemachines/upgrade.asl.json'), 'utf8');
    const smLogs = new logs.LogGroup(scope, 'StateMachineLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A known name: the functions that answer task tokens need the ARN, and the definition needs
    // theirs; a name breaks that cycle.
    const stateMachineName = `${Stack.of(scope).stackName}-upgrade`;
    this.stateMachine = new sfn.StateMachine(scope, 'UpgradeStateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: {
        ...Object.fromEntries(
          (Object.keys(steps) as StepName[]).map((name) => [`${name}FunctionArn`, fns[name].functionArn]),
        ),
        // For the ASL's service integrations (`arn:${Partition}:states:::lambda:invoke...`), so the
        // definition deploys to aws-cn and aws-us-gov unchanged.
        ...(/\$\{Partition\}/.test(definition) ? { Partition: Aws.PARTITION } : {}),
      },
      tracingEnabled: true,
      // Transitions without their data: three waits carry $$.Task.Token in their input, and a
      // token in a log would let anyone who reads the log answer the wait.
      logs: { destination: smLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    for (const name of Object.keys(steps) as StepName[]) fns[name].grantInvoke(this.stateMachine);
    const stateMachineArn = awsArn('states', `stateMachine:${stateMachineName}`);
    for (const fn of [
      fns.AwaitDeployment,
      fns.StartBake,
      fns.DeploymentEvents,
      fns.AlarmEvents,
      fns.Reconcile,
      fns.Intake,
    ]) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
          resources: [stateMachineArn],
        }),
      );
    }
  }
}
