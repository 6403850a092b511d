import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { evidenceBucket } from '../../infra/pipeline/evidence';
import { type PipelineFunctionMap, PipelineFunctions, steps } from '../../infra/pipeline/functions';
import { UpgradeStateMachine } from '../../infra/pipeline/state-machine';
import { actionsOf, bareStack, statementsOf } from '../support/pipeline-parts';

let parts: ReturnType<typeof bareStack>;
let fns: PipelineFunctionMap;
let machine: UpgradeStateMachine;
let template: Template;

beforeAll(() => {
  parts = bareStack();
  fns = new PipelineFunctions(parts.scope, { table: parts.table, bus: parts.bus }).byName;
  evidenceBucket(parts.scope, fns.Verify);
  machine = new UpgradeStateMachine(parts.scope, fns);
  template = Template.fromStack(parts.stack);
});

describe('UpgradeStateMachine (infra/pipeline/state-machine.ts)', () => {
  it('is a standard state machine named after the stack, from the ASL file with every step function substituted', () => {
    const [resource] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const props = resource?.Properties;
    expect(props.StateMachineName).toBe('Parts-upgrade');
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    // Logged without execution data: a task token in a log would let its reader answer the wait.
    expect(props.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    // The same ASL file the local runtime executes, its ${NameFunctionArn} substituted by CloudFormation.
    expect(props.DefinitionString).toBe(readFileSync('statemachines/upgrade.asl.json', 'utf8'));
    for (const name of Object.keys(steps) as (keyof typeof steps)[]) {
      expect(props.DefinitionString).toContain(`\${${name}FunctionArn}`);
      const logicalId = parts.stack.getLogicalId(fns[name].node.defaultChild as never);
      expect(props.DefinitionSubstitutions[`${name}FunctionArn`]).toEqual({
        'Fn::GetAtt': [logicalId, 'Arn'],
      });
    }
  });

  it('may invoke the step functions, and only the functions that answer task tokens may call SendTask*', () => {
    const answering = Object.keys(fns).filter((name) =>
      actionsOf(parts.stack, fns[name as keyof PipelineFunctionMap].role as never).includes(
        'states:SendTaskSuccess',
      ),
    );
    expect(answering.sort()).toEqual([
      'AlarmEvents',
      'AwaitDeployment',
      'DeploymentEvents',
      'Intake',
      'Reconcile',
      'StartBake',
    ]);
    const invoke = statementsOf(parts.stack, machine.stateMachine.role as never).filter(
      (s) => s.Action === 'lambda:InvokeFunction',
    );
    for (const name of Object.keys(steps)) {
      expect(JSON.stringify(invoke)).toContain(
        parts.stack.getLogicalId(fns[name as keyof typeof steps].node.defaultChild as never),
      );
    }
    expect(JSON.stringify(invoke)).not.toContain(
      parts.stack.getLogicalId(fns.Reconcile.node.defaultChild as never),
    );
  });
});

describe('evidenceBucket (infra/pipeline/evidence.ts)', () => {
  it('keeps verification samples 90 days, encrypted, private, TLS only, and retained when the stack goes', () => {
    const [id, bucket] = Object.entries(template.findResources('AWS::S3::Bucket'))[0] ?? [];
    expect(bucket?.DeletionPolicy).toBe('Retain');
    expect(
      bucket?.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .SSEAlgorithm,
    ).toBe('aws:kms');
    expect(bucket?.Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Prefix: 'verification/', ExpirationInDays: 90, Status: 'Enabled' }),
    ]);
    expect(bucket?.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0];
    expect(JSON.stringify(policy?.Properties.PolicyDocument)).toContain('aws:SecureTransport');
    // Verify knows the bucket, and may only put objects under verification/.
    const verify = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties.Tags).includes('"Value":"Verify"'),
    );
    expect(verify?.Properties.Environment.Variables.UPSHIFT_EVIDENCE_BUCKET).toEqual({ Ref: id });
    const put = statementsOf(parts.stack, fns.Verify.role as never).filter((s) =>
      String(s.Action).startsWith('s3:'),
    );
    expect(put.map((s) => s.Action)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(put[0]?.Resource)).toContain('/verification/*');
    expect(actionsOf(parts.stack, fns.Decide.role as never).some((a) => a.startsWith('s3:'))).toBe(false);
  });
});
