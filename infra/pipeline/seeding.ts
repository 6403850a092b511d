import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { Catalog } from '../../shared/domain/catalog';
import { stackScopedName } from '../arns';
import { CatalogSeed } from '../catalog-seed';

/**
 * The catalog seeded into the table on deploy (infra/catalog-seed.ts): components and policies,
 * written by custom resources in nested stacks under one shared role, named after the stack. It
 * goes into `scope` (the pipeline), as in PipelineFunctions.
 */
export function seedCatalog(
  scope: Construct,
  table: dynamodb.ITableV2,
  catalog: Catalog,
  addFunction: (name: string, entry: string) => lambda.Function,
): CatalogSeed {
  return new CatalogSeed(scope, stackScopedName(scope, 'catalog-seed'), { table, catalog, addFunction });
}
