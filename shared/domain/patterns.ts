import type { EventPattern } from './event-pattern';
import * as alarm from './events/alarm-state-change';
import * as codedeploy from './events/codedeploy-state-change';
import * as ecr from './events/ecr-image-action';
import * as rollback from './events/rollback-requested';
import * as execution from './events/sfn-execution-status';
import * as upshiftEvents from './events/upshift-events';
import * as published from './events/version-published';
import { waveInputDetailTypes } from './waves';

/**
 * Every EventBridge rule pattern Upshift uses, defined once. The CDK stack deploys these objects
 * and the local bus routes with them through the same matcher.
 */
export const rulePatterns = {
  /** CI's contract; any source may publish it on the Upshift bus. */
  versionPublished: { 'detail-type': [published.detailType] },
  /** On-call asks for a rollback (CLI or any tool). */
  rollbackRequested: { 'detail-type': [rollback.detailType] },
  /** A successful image push in ECR. */
  ecrImagePush: {
    source: [ecr.source],
    'detail-type': [ecr.detailType],
    detail: { 'action-type': ['PUSH'], result: ['SUCCESS'] },
  },
  /** CodeDeploy deployments reaching an end state. */
  codeDeployDeploymentEnded: {
    source: [codedeploy.source],
    'detail-type': [codedeploy.detailType],
    detail: { state: ['SUCCESS', 'FAILURE', 'STOP'] },
  },
  /** Alarms entering ALARM. */
  alarmEnteredAlarm: {
    source: [alarm.source],
    'detail-type': [alarm.detailType],
    detail: { state: { value: ['ALARM'] } },
  },
  /** Upshift's own upgrade events, which move promotion waves (docs/waves.md). */
  promotionInputs: {
    source: [upshiftEvents.source],
    'detail-type': [...waveInputDetailTypes],
  },
  /**
   * An upgrade execution that ended without reaching its Record step (failed outside every Catch,
   * timed out, aborted). The stack adds its own state machine's ARN to the detail.
   */
  executionEndedAbnormally: {
    source: [execution.source],
    'detail-type': [execution.detailType],
    detail: { status: [...execution.endedStatuses] },
  },
} as const satisfies Record<string, EventPattern>;

/** The patterns whose events start an upgrade workflow. */
export const upgradeTriggerRules = ['versionPublished', 'rollbackRequested', 'ecrImagePush'] as const;
export type RuleName = keyof typeof rulePatterns;
