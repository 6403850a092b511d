#!/usr/bin/env node
// The `upshift` command. The CLI is TypeScript; tsx compiles it on the fly, so no build step is needed.
import { register } from 'tsx/esm/api';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { exitQuietlyOnClosedPipe, main } = await import('./main.ts');
exitQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
