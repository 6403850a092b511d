import { LambdaClient } from '@aws-sdk/client-lambda';
import { HttpProber } from './http-prober';
import { LambdaProber } from './lambda-prober';
import { type AwsBase, once } from './ports';
import { RoutedProber, TargetClients } from './target-clients';

/**
 * Verify's probers: Lambda Invoke by qualifier (as the target account's role for a target in
 * another account, decision 0028), and HTTP through the options' transport.
 */
export function proberPorts(base: AwsBase) {
  const targets = once(() => new TargetClients(base));
  return {
    prober: once(
      () =>
        new RoutedProber(
          new LambdaProber(base.client(LambdaClient)),
          async (location, purpose) =>
            new LambdaProber(await targets().client(LambdaClient, location, purpose)),
        ),
    ),
    httpProber: once(() => new HttpProber(base.options.http ?? {})),
  };
}
