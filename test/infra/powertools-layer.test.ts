import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { powertoolsLayer, powertoolsLayerParameter, powertoolsVersion } from '../../infra/powertools-layer';

const pinned = JSON.parse(readFileSync('package.json', 'utf8')).dependencies as Record<string, string>;

function layerArn(context: Record<string, string> = {}) {
  const stack = new Stack(new App({ context }), 'Layered');
  const layer = powertoolsLayer(stack);
  // One layer per stack, however many functions ask for it.
  expect(powertoolsLayer(stack)).toBe(layer);
  return stack.resolve(layer.layerVersionArn) as unknown;
}

describe('the Powertools layer (infra/powertools-layer.ts, decision 0024)', () => {
  it('is the version package.json pins for logger, metrics and tracer', () => {
    // Assess
    expect(powertoolsVersion()).toBe(pinned['@aws-lambda-powertools/tracer']);
    expect(pinned['@aws-lambda-powertools/logger']).toBe(powertoolsVersion());
    expect(pinned['@aws-lambda-powertools/metrics']).toBe(powertoolsVersion());
    expect(powertoolsLayerParameter('2.36.0')).toBe('/aws/service/powertools/typescript/generic/all/2.36.0');
  });

  it('refuses a range or two different versions, naming the packages', () => {
    const deps = (tracer: string) => ({
      dependencies: {
        '@aws-lambda-powertools/logger': '2.36.0',
        '@aws-lambda-powertools/metrics': '2.36.0',
        '@aws-lambda-powertools/tracer': tracer,
      },
    });
    expect(() => powertoolsVersion(deps('^2.36.0'))).toThrow(/one exact version.*tracer@\^2\.36\.0/);
    expect(() => powertoolsVersion(deps('2.35.0'))).toThrow(/one exact version/);
    expect(powertoolsVersion(deps('2.36.0'))).toBe('2.36.0');
  });

  it("is resolved by CloudFormation from the region's public SSM parameter, at deploy time", () => {
    expect(layerArn()).toBe(`{{resolve:ssm:${powertoolsLayerParameter()}}}`);
  });

  it('takes an explicit layer version ARN from the context where the parameter is not published', () => {
    // Prepare
    const govCloud =
      'arn:aws-us-gov:lambda:us-gov-west-1:165093116878:layer:AWSLambdaPowertoolsTypeScriptV2:48';
    // Assess
    expect(layerArn({ 'upshift:powertoolsLayerArn': govCloud })).toBe(govCloud);
    expect(() => layerArn({ 'upshift:powertoolsLayerArn': 'latest' })).toThrow(
      /upshift:powertoolsLayerArn must be a Lambda layer version ARN/,
    );
  });
});
