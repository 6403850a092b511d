import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Catalog } from '../shared/domain/catalog';
import type { CatalogSeed } from './catalog-seed';
import type { ComponentStack } from './component-stacks';
import { type MonitoringOptions, monitoringProps, UpshiftMonitoring } from './monitoring';
import { evidenceBucket } from './pipeline/evidence';
import { type PipelineFunctionMap, PipelineFunctions } from './pipeline/functions';
import { acknowledgePipelineFindings } from './pipeline/nag';
import { PipelineRules } from './pipeline/rules';
import { seedCatalog } from './pipeline/seeding';
import { UpgradeStateMachine } from './pipeline/state-machine';
import { PipelineTargets } from './pipeline/targets';
import { hasPromotion, PromotionWaves } from './waves';

export { lambdaBundle } from './lambda-bundle';
export type { FunctionName, HelperName, StepName } from './pipeline/functions';

export interface UpgradePipelineProps {
  table: dynamodb.ITableV2;
  bus: events.IEventBus;
  catalog: Catalog;
  /** Seconds between polls of a deployment in flight and of the alarms during a bake. */
  pollSeconds?: number;
  /**
   * Managed policies a role may hold in the target account: 10 by default, up to 20 after a
   * quota increase. Verify's invoke grants spill into managed policies past about 130 target
   * functions. Defaults to the context `upshift:managedPoliciesPerRole`, else 10.
   */
  managedPoliciesPerRole?: number;
  /** Self-monitoring options (operator email, archive retention, in-flight age threshold). */
  monitoring?: MonitoringOptions;
}

/**
 * Upshift's stateless half: the step functions, the state machine built from the same ASL the
 * local runtime runs, the rules, the CodeDeploy applications and deployment groups, the alarms,
 * and the catalog seeded into the table. Add it to your own app, or deploy UpshiftStatelessStack.
 *
 * Each job has its own file under infra/pipeline/, in the order the constructor runs them. They
 * add their resources to this construct's scope, not to constructs of their own, so that every
 * logical ID stays what a deployed stack already has (docs/decisions/0022-pipeline-by-job.md).
 */
export class UpgradePipeline extends Construct {
  readonly table: dynamodb.ITableV2;
  readonly bus: events.IEventBus;
  readonly catalog: Catalog;
  /** Raw verification samples, referenced from the workflow records. */
  readonly evidenceBucket: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly functions: PipelineFunctionMap;
  /** The nested stacks of the components' applications, groups and alarms, by bucket. */
  readonly componentStacks: ComponentStack[];
  /** The catalog seeding: its shared role and nested stacks. */
  readonly seed: CatalogSeed;
  /** The dead-letter queue of every rule target (events no target accepted after retries). */
  readonly deadLetters: sqs.Queue;
  /** Self-monitoring: alarms, the operations topic, the dashboard, the bus archive (monitoring.ts). */
  readonly monitoring: UpshiftMonitoring;
  private readonly builder: PipelineFunctions;

  constructor(scope: Construct, id: string, props: UpgradePipelineProps) {
    super(scope, id);
    const { table, bus, catalog } = props;
    this.table = table;
    this.bus = bus;
    this.catalog = catalog;

    // 1. The step and helper functions, with their table and bus grants (pipeline/functions.ts).
    this.builder = new PipelineFunctions(this, { table, bus, pollSeconds: props.pollSeconds });
    const fns = this.builder.byName;
    // 2. Per component: CodeDeploy applications, groups, alarms and the grants on them (pipeline/targets.ts).
    const targets = new PipelineTargets(this, fns, {
      catalog,
      managedPoliciesPerRole: props.managedPoliciesPerRole,
    });
    this.componentStacks = targets.componentStacks;
    // 3. Verify's evidence bucket (pipeline/evidence.ts).
    this.evidenceBucket = evidenceBucket(this, fns.Verify);
    // 4. The state machine from statemachines/upgrade.asl.json (pipeline/state-machine.ts).
    this.stateMachine = new UpgradeStateMachine(this, fns).stateMachine;
    this.functions = fns;
    // 5. The rules and the reconciler's schedule, with their dead-letter queue (pipeline/rules.ts).
    this.deadLetters = new PipelineRules(this, {
      bus,
      stateMachine: this.stateMachine,
      functions: fns,
    }).deadLetters;
    // 6. The catalog seeded into the table (pipeline/seeding.ts).
    this.seed = seedCatalog(this, table, catalog, (name, entry) => this.addFunction(name, entry));
    // 7. cdk-nag findings accepted, each with its reason (pipeline/nag.ts).
    acknowledgePipelineFindings(this, {
      functions: fns,
      evidenceBucket: this.evidenceBucket,
      stateMachine: this.stateMachine,
      deadLetters: this.deadLetters,
      targets,
      seed: this.seed,
    });

    // 8. Further constructs that build on the pipeline (monitoring, CI feedback, waves): wire each
    // here with a line, from its own file, reading this construct's public members.
    this.monitoring = new UpshiftMonitoring(this, 'Monitoring', monitoringProps(this, props));
    if (hasPromotion(catalog)) {
      new PromotionWaves(this, 'PromotionWaves', {
        pipeline: this,
        table,
        bus,
        reconciler: fns.Reconcile,
        deadLetters: this.deadLetters,
      });
    }
  }

  /**
   * A function of the pipeline: its own log group and role, bundled from `entry` (a path from the
   * project root) with the shared options. The tags name the function and its entry, so the local
   * twin finds the handler in the synthesized template, which keeps no source path when bundling
   * is skipped. Use it to add a function of your own; give its role what it calls.
   */
  addFunction(name: string, entry: string): lambda.Function {
    return this.builder.addFunction(name, entry);
  }
}
