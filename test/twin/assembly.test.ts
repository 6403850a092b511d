import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import demoCatalog from '../../catalog/demo.catalog.json';
import { readAssembly, TemplateError } from '../../local/twin/assembly';
import {
  type CfnTemplate,
  cacheFileName,
  type SynthesizedApp,
  synthesize,
  synthKey,
} from '../../local/twin/synth';
import { parseCatalog } from '../../shared/domain/catalog';

const TABLE = 'upshift-table';

/** The smallest app the twin reads: a table, a state machine, and what a test adds. */
function app(parts: {
  stateless?: CfnTemplate['Resources'];
  nested?: SynthesizedApp['nested'];
}): SynthesizedApp {
  return {
    statefulName: 'UpshiftStateful',
    statelessName: 'UpshiftStateless',
    stateful: { Resources: { Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: TABLE } } } },
    stateless: {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            StateMachineName: 'upgrade',
            RoleArn: 'arn:aws:iam::000000000000:role/machine',
            DefinitionString: '{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}',
          },
        },
        ...parts.stateless,
      },
    },
    nested: parts.nested ?? [],
  };
}

const item = (sk: string) => ({ pk: { S: 'CATALOG' }, sk: { S: sk } });

/** An AwsCustomResource's properties as CDK writes them: the call as a JSON string. */
function customResource(call: Record<string, unknown>) {
  const text = JSON.stringify(call);
  return { Type: 'Custom::AWS', Properties: { ServiceToken: 'provider', Create: text, Update: text } };
}

describe('readAssembly reads the nested stacks of the stateless stack', () => {
  it('reads applications, groups and alarms from a nested template', () => {
    // Prepare
    const nested = {
      name: 'UpshiftStateless-Components07',
      template: {
        Resources: {
          App: {
            Type: 'AWS::CodeDeploy::Application',
            Properties: { ApplicationName: 'upshift-checkout', ComputePlatform: 'Lambda' },
          },
          Group: {
            Type: 'AWS::CodeDeploy::DeploymentGroup',
            Properties: {
              ApplicationName: 'upshift-checkout',
              DeploymentGroupName: 'checkout-staging',
              ServiceRoleArn: {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/cd'],
                ],
              },
            },
          },
          Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: 'checkout-staging-error-rate' } },
        },
      },
    };
    // Act
    const model = readAssembly(app({ nested: [nested] }));
    // Assess
    expect(model.applications).toEqual([{ name: 'upshift-checkout', computePlatform: 'Lambda' }]);
    expect(model.deploymentGroups).toEqual([
      expect.objectContaining({
        DeploymentGroupName: 'checkout-staging',
        ServiceRoleArn: 'arn:aws:iam::000000000000:role/cd',
      }),
    ]);
    expect(model.alarms).toEqual([expect.objectContaining({ AlarmName: 'checkout-staging-error-rate' })]);
  });

  it('resolves an import of the stateful stack’s export inside a nested stack', () => {
    // Prepare: the seeding names the table through the export, not a parameter
    const base = app({});
    base.stateful.Outputs = {
      TableName: { Value: { Ref: 'Table' }, Export: { Name: 'UpshiftStateful:TableName' } },
    };
    base.nested = [
      {
        name: 'UpshiftStateless-Seed1',
        template: {
          Resources: {
            Alarm: {
              Type: 'AWS::CloudWatch::Alarm',
              Properties: { AlarmName: { 'Fn::ImportValue': 'UpshiftStateful:TableName' } },
            },
          },
        },
      },
    ];
    // Act
    const model = readAssembly(base);
    // Assess
    expect(model.alarms).toEqual([{ AlarmName: TABLE }]);
  });

  it('refuses a nested stack that takes its values as parameters, saying why', () => {
    // Prepare
    const nested = {
      name: 'UpshiftStateless-Components01',
      template: {
        Parameters: { RoleArn: { Type: 'String' } },
        Resources: {
          Group: {
            Type: 'AWS::CodeDeploy::DeploymentGroup',
            Properties: { ServiceRoleArn: { Ref: 'RoleArn' } },
          },
        },
      },
    };
    // Act
    const read = () => readAssembly(app({ nested: [nested] }));
    // Assess
    expect(read).toThrow(TemplateError);
    expect(read).toThrow(/Ref to parameter RoleArn/);
  });
});

describe('readAssembly reads the seeding calls and the policies of roles', () => {
  it('expands a batchWriteItem into the putItem of each item, in order, beside a conditional putItem', () => {
    // Prepare
    const stateless = {
      Policy: customResource({
        service: 'DynamoDB',
        action: 'putItem',
        parameters: {
          TableName: TABLE,
          Item: item('POLICY'),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        ignoreErrorCodesMatching: 'ConditionalCheckFailed',
      }),
      Batch: customResource({
        service: 'DynamoDB',
        action: 'batchWriteItem',
        parameters: {
          RequestItems: {
            [TABLE]: [
              { PutRequest: { Item: item('COMPONENT#a') } },
              { PutRequest: { Item: item('COMPONENT#b') } },
            ],
          },
        },
      }),
    };
    // Act
    const model = readAssembly(app({ stateless }));
    // Assess
    expect(model.seedCalls).toEqual([
      {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: {
          TableName: TABLE,
          Item: item('POLICY'),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
        ignoreErrorCodesMatching: 'ConditionalCheckFailed',
      },
      { service: 'DynamoDB', action: 'putItem', parameters: { TableName: TABLE, Item: item('COMPONENT#a') } },
      { service: 'DynamoDB', action: 'putItem', parameters: { TableName: TABLE, Item: item('COMPONENT#b') } },
    ]);
  });

  it('refuses a batch that deletes, which the twin would otherwise run as a put', () => {
    // Prepare
    const stateless = {
      Batch: customResource({
        service: 'DynamoDB',
        action: 'batchWriteItem',
        parameters: { RequestItems: { [TABLE]: [{ DeleteRequest: { Key: item('COMPONENT#a') } }] } },
      }),
    };
    // Act
    const read = () => readAssembly(app({ stateless }));
    // Assess
    expect(read).toThrow(/other than PutRequest/);
  });

  it('gives a role the documents of the customer managed policies attached to it, marked managed', () => {
    // Prepare
    const document = (resource: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: resource }],
    });
    const stateless = {
      VerifyRole: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'verify' } },
      Inline: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'VerifyRole' }],
          PolicyDocument: document('arn:aws:lambda:*:*:function:a:*'),
        },
      },
      Managed: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          Roles: [{ Ref: 'VerifyRole' }],
          PolicyDocument: document('arn:aws:lambda:*:*:function:b:*'),
        },
      },
    };
    // Act
    const role = readAssembly(app({ stateless })).roles.get('arn:aws:iam::000000000000:role/verify');
    // Assess
    expect(role?.documents).toHaveLength(2);
    expect(role?.sources.map((s) => s.kind)).toEqual(['inline', 'managed']);
    expect(JSON.stringify(role?.sources[1]?.document)).toContain('function:b:*');
  });
});

describe('synthesize', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'upshift-cache-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('rebuilds a cache file written without the nested stacks, and keeps them in the new one', async () => {
    // Prepare: a file of the current format's name but an older shape
    const catalog = parseCatalog(demoCatalog);
    mkdirSync(cacheDir, { recursive: true });
    const key = synthKey(catalog);
    writeFileSync(
      join(cacheDir, cacheFileName(key)),
      JSON.stringify({ stateful: {}, stateless: {}, statefulName: 'a', statelessName: 'b' }),
    );
    // Act
    const first = await synthesize({ catalog, cacheDir });
    const second = await synthesize({ catalog, cacheDir });
    // Assess
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.app.nested.map((n) => n.name).join(' ')).toMatch(/Components\d\d.*Seed1/);
    expect(
      readAssembly(second.app)
        .applications.map((a) => a.name)
        .sort(),
    ).toEqual(['upshift-checkout', 'upshift-pricing', 'upshift-storefront']);
  }, 60_000);
});
