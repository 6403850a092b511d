import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { approvalRoutes, consoleRoutes } from '../../infra/approvals';

let stateless: Template;
let synthError: unknown;
let apis: { console: string; cli: string };

beforeAll(() => {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [], 'upshift:catalog': 'catalog/demo.catalog.json' },
  });
  const built = buildApp(app);
  stateless = Template.fromStack(built.stateless);
  const id = (c: { node: { defaultChild?: unknown } }) =>
    built.stateless.getLogicalId(c.node.defaultChild as never);
  apis = { console: id(built.stateless.approvals.consoleApi), cli: id(built.stateless.approvals.cliApi) };
  try {
    // cdk-nag's AwsSolutions checks run as a validation plugin: any unacknowledged finding throws.
    app.synth();
  } catch (error) {
    synthError = error;
  }
});

/** The routes of one API, by route key, with their authorization type and authorizer. */
function routesOf(apiLogicalId: string) {
  const routes = stateless.findResources('AWS::ApiGatewayV2::Route', {
    Properties: { ApiId: { Ref: apiLogicalId } },
  });
  return Object.fromEntries(
    Object.values(routes).map((r) => [
      String(r.Properties.RouteKey),
      { type: r.Properties.AuthorizationType, authorizer: r.Properties.AuthorizerId },
    ]),
  );
}

describe('approvals on AWS', () => {
  it('synthesizes with cdk-nag clean', () => {
    expect(synthError).toBeUndefined();
  });

  it("the console's API routes need a JWT from the approvers user pool; its page and assets none", () => {
    const routes = routesOf(apis.console);
    const authorizers = stateless.findResources('AWS::ApiGatewayV2::Authorizer', {
      Properties: { ApiId: { Ref: apis.console }, AuthorizerType: 'JWT' },
    });
    const [jwtId, jwt] = Object.entries(authorizers)[0] ?? [];
    expect(jwt?.Properties.IdentitySource).toEqual(['$request.header.Authorization']);
    expect(JSON.stringify(jwt?.Properties.JwtConfiguration.Issuer)).toContain('cognito-idp');
    for (const r of approvalRoutes) {
      expect(routes[`${r.method} ${r.path}`]).toEqual({ type: 'JWT', authorizer: { Ref: jwtId } });
    }
    for (const path of consoleRoutes) expect(routes[`GET ${path}`]?.type).toBe('NONE');
    expect(Object.keys(routes)).toHaveLength(approvalRoutes.length + consoleRoutes.length);
  });

  it("the CLI's API has the same routes, each with IAM (SigV4) authorization", () => {
    const routes = routesOf(apis.cli);
    expect(Object.keys(routes).sort()).toEqual(approvalRoutes.map((r) => `${r.method} ${r.path}`).sort());
    for (const route of Object.values(routes)) expect(route.type).toBe('AWS_IAM');
  });

  it('has the user pool (no self sign-up, MFA), its approver group, the topic and its rule', () => {
    stateless.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
    });
    stateless.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'upshift-approvers' });
    stateless.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    stateless.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['upshift'], 'detail-type': ['Approval Requested', 'Approval Reminder'] },
      Targets: [Match.objectLike({ InputPath: '$.detail.summary' })],
    });
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([{ Key: 'upshift:entry', Value: 'functions/approvals-api/handler.ts' }]),
    });
  });

  it('logs state transitions without execution data, so no task token reaches the log', () => {
    stateless.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ IncludeExecutionData: false }),
    });
  });
});
