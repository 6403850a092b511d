import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTableInput } from '../shared/aws/table-definition';

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  document: DynamoDBDocumentClient;
  tableName: string;
  close(): Promise<void>;
}

/**
 * The server's own thread: dynalite (request validation, expression parsing, the level store) runs
 * beside the handlers, not between them, as DynamoDB is another machine on AWS. Posts `{ port }`
 * once listening, or `{ error }`; closes the server (and its database) on `'close'`.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.module);
const server = dynalite(workerData.options);
server.on('error', (error) => parentPort.postMessage({ error: error.message }));
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  server.close(() => {
    parentPort.postMessage({ closed: true });
    parentPort.close();
  });
});
`;

/** Runs dynalite in a worker thread and resolves once it listens (rejects with its error). */
function startServer(options: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { module: createRequire(import.meta.url).resolve('dynalite'), options },
  });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(new Error(`dynalite did not start: ${error.message}`));
    worker.once('error', failed);
    worker.once('message', (message: { port?: number; error?: string }) => {
      worker.off('error', failed);
      if (message.port === undefined) {
        void worker.terminate();
        failed(new Error(message.error ?? 'no port'));
        return;
      }
      resolve({
        port: message.port,
        close: async () => {
          const closed = new Promise<void>((done) => {
            worker.once('exit', () => done());
          });
          worker.postMessage('close');
          await closed;
        },
      });
    });
  });
}

/**
 * Starts dynalite on 127.0.0.1 (a free port), in memory or on disk under `path`, in a worker
 * thread of this process, and creates the Upshift table with the same key schema as the CDK stack.
 */
export async function startDynalite(
  options: { path?: string; tableName?: string } = {},
): Promise<LocalDynamo> {
  const server = await startServer({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
  const document = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tableName = options.tableName ?? 'upshift';
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  }
  // dynalite creates tables asynchronously even with createTableMs 0.
  await waitUntilTableExists(
    { client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: tableName },
  );
  return {
    endpoint,
    client,
    document,
    tableName,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
