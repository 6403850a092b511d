import { LambdaClient } from '@aws-sdk/client-lambda';
import { HttpProber } from './http-prober';
import { LambdaProber } from './lambda-prober';
import { type AwsBase, once } from './ports';

/** Verify's probers: Lambda Invoke by qualifier, and HTTP through the options' transport. */
export function proberPorts(base: AwsBase) {
  return {
    prober: once(() => new LambdaProber(base.client(LambdaClient))),
    httpProber: once(() => new HttpProber(base.options.http ?? {})),
  };
}
